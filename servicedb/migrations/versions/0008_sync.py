"""sync: the change log (outbox at a hall, down log at central), cursors, peers, slices

Capture triggers on every table that crosses sites (see servicedb.change_capture); they
write nothing until the database is given a role (``sync_role``), so seeding a city stays
as fast as it was.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import servicedb.types
from servicedb.change_capture import Captured, create_statements, drop_statements

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen at this revision: a later change to what is captured is a later migration.
CAPTURED = (
    Captured("sites", ("id",), "D"),
    Captured("zones", ("id",), "D"),
    Captured("tariffs", ("id",), "D"),
    Captured("tariff_tiers", ("id",), "D"),
    Captured("streets", ("id",), "D"),
    Captured("crews", ("id",), "D"),
    Captured("outages", ("id",), "D"),
    Captured("announcements", ("id",), "D"),
    Captured("service_categories", ("id",), "D"),
    Captured("hall_hours", ("site_id", "weekday"), "D"),
    Captured("counters", ("id",), "D"),
    Captured("counter_categories", ("counter_id", "category_id"), "D"),
    Captured("customers", ("id",), "D"),
    Captured("premises", ("id",), "D"),
    Captured("accounts", ("id",), "D"),
    Captured("account_phones", ("id",), "D"),
    Captured("meters", ("id",), "D"),
    Captured("meter_readings", ("id",), "D"),
    Captured("bills", ("id",), "D"),
    Captured("bill_lines", ("id",), "D"),
    Captured("vip_cards", ("id",), "D"),
    Captured("customer_cards", ("id",), "D"),
    Captured("payments", ("id",), "UD"),
    Captured("work_orders", ("id",), "UD"),
    Captured("work_order_events", ("id",), "UD"),
    Captured("queue_tickets", ("id",), "U"),
    Captured("queue_events", ("id",), "U"),
    Captured("counter_sessions", ("id",), "U"),
    Captured("appointments", ("id",), "U"),
    Captured("payment_receipts", ("id",), "U"),
    Captured("kiosk_reports", ("id",), "U"),
)


def upgrade() -> None:
    op.create_table(
        "sync_changes",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_key", sa.String(length=200), nullable=False),
        sa.Column("op", sa.String(length=1), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sync_changes")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "sync_role",
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_sync_role")),
    )
    op.create_table(
        "sync_applying",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_applying")),
    )
    op.create_table(
        "sync_cursors",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("last_attempt_at", servicedb.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", servicedb.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", servicedb.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sync_cursors")),
    )
    op.create_table(
        "sync_peers",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=True),
        sa.Column("up_seq", sa.BigInteger(), nullable=False),
        sa.Column("up_batches", sa.BigInteger(), nullable=False),
        sa.Column("up_rows", sa.BigInteger(), nullable=False),
        sa.Column("last_up_at", servicedb.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("down_txid", sa.BigInteger(), nullable=False),
        sa.Column("down_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_down_at", servicedb.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("hall_pending", sa.BigInteger(), nullable=False),
        sa.Column(
            "hall_oldest_pending_at", servicedb.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("schema_revision", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", servicedb.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_sync_peers_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_sync_peers")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_sync_peers_token_sha256")),
    )
    op.create_table(
        "site_zones",
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("zone_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_site_zones_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["zones.id"], name=op.f("fk_site_zones_zone_id_zones")
        ),
        sa.PrimaryKeyConstraint("site_id", "zone_id", name=op.f("pk_site_zones")),
    )
    for statement in create_statements(op.get_context().dialect.name, CAPTURED):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_statements(op.get_context().dialect.name, CAPTURED):
        op.execute(statement)
    op.drop_table("site_zones")
    op.drop_table("sync_peers")
    op.drop_table("sync_cursors")
    op.drop_table("sync_applying")
    op.drop_table("sync_role")
    op.drop_table("sync_changes")
