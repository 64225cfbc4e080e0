"""What a counter is doing now: signed in or not, and which categories it serves."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.queueing.layout import HallLayout
from servicedb.models import CounterSession


def served_categories(
    session: Session, layout: HallLayout, counter_id: uuid.UUID
) -> frozenset[uuid.UUID] | None:
    """Categories the counter serves now; None when staff signed out.

    A counter nobody ever signed in at serves its default categories (a hall that does not
    use sign-in at all still works).
    """
    latest = session.scalar(
        select(CounterSession)
        .where(CounterSession.counter_id == counter_id)
        .order_by(CounterSession.opened_at.desc())
        .limit(1)
    )
    if latest is None:
        return layout.default_served.get(counter_id, frozenset())
    if latest.closed_at is not None:
        return None
    return frozenset(uuid.UUID(value) for value in json.loads(latest.category_ids))
