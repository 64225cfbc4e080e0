"""queue events and counter sessions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import servicedb.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counter_sessions",
        sa.Column("counter_id", sa.Uuid(), nullable=False),
        sa.Column("staff", sa.String(length=64), nullable=False),
        sa.Column("category_ids", sa.Text(), nullable=False),
        sa.Column("opened_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", servicedb.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name=op.f("fk_counter_sessions_counter_id_counters")
        ),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_counter_sessions_origin_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counter_sessions")),
    )
    with op.batch_alter_table("counter_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_counter_sessions_counter_id"), ["counter_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_counter_sessions_origin_site_id"), ["origin_site_id"], unique=False
        )

    op.create_table(
        "queue_events",
        sa.Column("ticket_id", sa.Uuid(), nullable=True),
        sa.Column("counter_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("staff", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name=op.f("fk_queue_events_counter_id_counters")
        ),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_queue_events_origin_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["queue_tickets.id"],
            name=op.f("fk_queue_events_ticket_id_queue_tickets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_events")),
    )
    with op.batch_alter_table("queue_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queue_events_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_queue_events_origin_site_id"), ["origin_site_id"], unique=False
        )
        batch_op.create_index("ix_queue_events_ticket_id_at", ["ticket_id", "at"], unique=False)

    with op.batch_alter_table("queue_tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("target_counter_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("issued_category_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("estimate_s", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("queued_since", servicedb.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("at_front", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("recalls", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(
            sa.Column("called_at", servicedb.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("started_at", servicedb.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("finished_at", servicedb.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("outcome", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("walk_in", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(
            "ix_queue_tickets_waiting", ["origin_site_id", "service_day", "status"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_queue_tickets_target_counter_id_counters"),
            "counters",
            ["target_counter_id"],
            ["id"],
        )

    # Tickets issued before this revision keep their place in line and their numbering.
    op.execute(
        "UPDATE queue_tickets SET queued_since = issued_at, issued_category_id = category_id"
    )
    with op.batch_alter_table("queue_tickets", schema=None) as batch_op:
        batch_op.alter_column(
            "queued_since", existing_type=servicedb.types.UTCDateTime(timezone=True), nullable=False
        )
        batch_op.alter_column("issued_category_id", existing_type=sa.Uuid(), nullable=False)
        # Numbers belong to the category that issued them: a transfer must not free a number.
        batch_op.drop_constraint(
            "uq_queue_tickets_origin_site_id_category_id_service_day_seq", type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_queue_tickets_origin_site_id_issued_category_id_service_day_seq"),
            ["origin_site_id", "issued_category_id", "service_day", "seq"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_queue_tickets_issued_category_id_service_categories"),
            "service_categories",
            ["issued_category_id"],
            ["id"],
        )
    _make_append_only("queue_events")


def downgrade() -> None:
    _drop_append_only("queue_events")
    with op.batch_alter_table("queue_tickets", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_queue_tickets_issued_category_id_service_categories"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("uq_queue_tickets_origin_site_id_issued_category_id_service_day_seq"),
            type_="unique",
        )
        batch_op.create_unique_constraint(
            "uq_queue_tickets_origin_site_id_category_id_service_day_seq",
            ["origin_site_id", "category_id", "service_day", "seq"],
        )
        batch_op.drop_column("issued_category_id")
        batch_op.drop_column("estimate_s")
        batch_op.drop_constraint(
            batch_op.f("fk_queue_tickets_target_counter_id_counters"), type_="foreignkey"
        )
        batch_op.drop_index("ix_queue_tickets_waiting")
        batch_op.drop_column("walk_in")
        batch_op.drop_column("rating")
        batch_op.drop_column("outcome")
        batch_op.drop_column("finished_at")
        batch_op.drop_column("started_at")
        batch_op.drop_column("called_at")
        batch_op.drop_column("recalls")
        batch_op.drop_column("at_front")
        batch_op.drop_column("queued_since")
        batch_op.drop_column("target_counter_id")
        batch_op.drop_column("priority")

    with op.batch_alter_table("queue_events", schema=None) as batch_op:
        batch_op.drop_index("ix_queue_events_ticket_id_at")
        batch_op.drop_index(batch_op.f("ix_queue_events_origin_site_id"))
        batch_op.drop_index(batch_op.f("ix_queue_events_at"))

    op.drop_table("queue_events")
    with op.batch_alter_table("counter_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counter_sessions_origin_site_id"))
        batch_op.drop_index(batch_op.f("ix_counter_sessions_counter_id"))

    op.drop_table("counter_sessions")


# The queue's history is what an auditor reads: the database refuses edits and deletions.
def _make_append_only(table: str) -> None:
    refusal = f"{table} is append-only"
    if op.get_context().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{refusal}'); END"
            )
        return
    op.execute(
        f"CREATE FUNCTION {table}_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{refusal}'; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse_change()"
    )


def _drop_append_only(table: str) -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {table}_refuse_change()")
