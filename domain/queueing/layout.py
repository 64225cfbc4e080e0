"""What a hall is made of, as the queue sees it: its site, categories and counters.

Loaded once when the hall starts (central owns this reference data; it changes rarely).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.queueing.errors import UnknownCategory, UnknownCounter
from servicedb.models import Counter, CounterCategory, ServiceCategory, Site


@dataclass(frozen=True)
class HallLayout:
    site_id: uuid.UUID
    site_code: str
    names: tuple[str, str]  # (zh, en)
    timezone: ZoneInfo
    categories: dict[str, ServiceCategory]  # by code
    category_by_id: dict[uuid.UUID, ServiceCategory]
    counters: dict[int, Counter]  # by number
    counter_by_id: dict[uuid.UUID, Counter]
    default_served: dict[uuid.UUID, frozenset[uuid.UUID]]  # counter id → category ids

    @classmethod
    def load(cls, session: Session, site_code: str) -> HallLayout:
        site = session.scalar(select(Site).where(Site.code == site_code))
        if site is None:
            raise UnknownCounter(f"no site {site_code!r}")
        categories = session.scalars(
            select(ServiceCategory).where(ServiceCategory.site_id == site.id)
        ).all()
        counters = session.scalars(select(Counter).where(Counter.site_id == site.id)).all()
        served: dict[uuid.UUID, set[uuid.UUID]] = {}
        for link in session.scalars(
            select(CounterCategory).where(CounterCategory.counter_id.in_([c.id for c in counters]))
        ):
            served.setdefault(link.counter_id, set()).add(link.category_id)
        for row in (*categories, *counters):
            session.expunge(row)  # kept for the life of the process, detached
        return cls(
            site.id,
            site_code,
            (site.name_zh, site.name_en),
            ZoneInfo(site.timezone),
            {c.code: c for c in categories},
            {c.id: c for c in categories},
            {c.number: c for c in counters},
            {c.id: c for c in counters},
            {counter: frozenset(ids) for counter, ids in served.items()},
        )

    def service_day(self, moment: datetime) -> date:
        """The hall's local calendar day: numbers restart at the hall's midnight."""
        return moment.astimezone(self.timezone).date()

    def category(self, code: str) -> ServiceCategory:
        category = self.categories.get(code)
        if category is None or not category.active:
            raise UnknownCategory(f"no active category {code!r} at {self.site_code}")
        return category

    def counter(self, number: int) -> Counter:
        counter = self.counters.get(number)
        if counter is None:
            raise UnknownCounter(f"no counter {number} at {self.site_code}")
        return counter
