"""queue indexes for the read side: events by site and time, tickets by site, day and issue time

The hall screen polls the queue twice a second. What changed since the last poll is read
from ``queue_events`` by site and time, and the arrival rates from today's tickets by issue
time; without these indexes both queries walk every row the site ever wrote.

Revision ID: 0003a
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003a"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_queue_events_origin_site_id_at", "queue_events", ["origin_site_id", "at"], unique=False
    )
    op.create_index(
        "ix_queue_tickets_issued",
        "queue_tickets",
        ["origin_site_id", "service_day", "issued_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_queue_tickets_issued", table_name="queue_tickets")
    op.drop_index("ix_queue_events_origin_site_id_at", table_name="queue_events")
