"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import servicedb.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crews",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("depot_lon", sa.Double(), nullable=False),
        sa.Column("depot_lat", sa.Double(), nullable=False),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crews")),
        sa.UniqueConstraint("code", name=op.f("uq_crews_code")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "central",
                "hall",
                name="site_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("address_zh", sa.String(length=200), nullable=True),
        sa.Column("address_en", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("code", name=op.f("uq_sites_code")),
    )
    op.create_table(
        "tariffs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column(
            "service_kind",
            sa.Enum(
                "water",
                "telecom",
                name="service_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "tier_period",
            sa.Enum(
                "annual",
                "monthly",
                name="tier_period",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariffs")),
        sa.UniqueConstraint("code", name=op.f("uq_tariffs_code")),
    )
    op.create_table(
        "zones",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("area_geojson", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zones")),
        sa.UniqueConstraint("code", name=op.f("uq_zones_code")),
    )
    op.create_table(
        "announcements",
        sa.Column("site_id", sa.Uuid(), nullable=True),
        sa.Column("text_zh", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("starts_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", servicedb.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_announcements_origin_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_announcements_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_announcements_origin_site_id"), ["origin_site_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_announcements_site_id"), ["site_id"], unique=False)

    op.create_table(
        "counters",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_counters_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counters")),
        sa.UniqueConstraint("site_id", "number", name=op.f("uq_counters_site_id_number")),
    )
    op.create_table(
        "customers",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("is_vip", sa.Boolean(), nullable=False),
        sa.Column("preferred_language", sa.String(length=8), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_customers_origin_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customers_origin_site_id"), ["origin_site_id"], unique=False
        )

    op.create_table(
        "devices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "kiosk",
                "counter_terminal",
                "receipt_printer",
                "card_reader",
                "led_board",
                "hall_screen",
                "gps_unit",
                name="device_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("connection", sa.String(length=200), nullable=True),
        sa.Column("token_sha256", sa.String(length=64), nullable=True),
        sa.Column("health", sa.String(length=16), nullable=False),
        sa.Column("health_reason", sa.String(length=200), nullable=True),
        sa.Column("health_changed_at", servicedb.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_devices_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("site_id", "name", name=op.f("uq_devices_site_id_name")),
    )
    op.create_table(
        "outages",
        sa.Column(
            "kind",
            sa.Enum(
                "water_off",
                "low_pressure",
                "emergency_repair",
                "line_fault",
                name="outage_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "active",
                "restored",
                "cancelled",
                name="outage_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("detail_zh", sa.Text(), nullable=False),
        sa.Column("detail_en", sa.Text(), nullable=False),
        sa.Column("area_geojson", sa.Text(), nullable=False),
        sa.Column("zone_id", sa.Uuid(), nullable=True),
        sa.Column("starts_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "estimated_restore_at", servicedb.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("restored_at", servicedb.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_outages_origin_site_id_sites")
        ),
        sa.ForeignKeyConstraint(["zone_id"], ["zones.id"], name=op.f("fk_outages_zone_id_zones")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outages")),
    )
    with op.batch_alter_table("outages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outages_origin_site_id"), ["origin_site_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outages_zone_id"), ["zone_id"], unique=False)

    op.create_table(
        "premises",
        sa.Column("address_zh", sa.String(length=200), nullable=False),
        sa.Column("address_en", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("zone_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_premises_origin_site_id_sites")
        ),
        sa.ForeignKeyConstraint(["zone_id"], ["zones.id"], name=op.f("fk_premises_zone_id_zones")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_premises")),
    )
    with op.batch_alter_table("premises", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_premises_origin_site_id"), ["origin_site_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_premises_zone_id"), ["zone_id"], unique=False)

    op.create_table(
        "service_categories",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("prefix", sa.String(length=2), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("is_priority", sa.Boolean(), nullable=False),
        sa.Column("target_wait_minutes", sa.Integer(), nullable=False),
        sa.Column("mean_service_seconds", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_service_categories_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_categories")),
        sa.UniqueConstraint("site_id", "code", name=op.f("uq_service_categories_site_id_code")),
        sa.UniqueConstraint("site_id", "prefix", name=op.f("uq_service_categories_site_id_prefix")),
    )
    op.create_table(
        "tariff_tiers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tariff_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("upper_litres", sa.BigInteger(), nullable=True),
        sa.Column("price_fen_per_m3", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "price_fen_per_m3 >= 0", name=op.f("ck_tariff_tiers_price_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["tariff_id"],
            ["tariffs.id"],
            name=op.f("fk_tariff_tiers_tariff_id_tariffs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariff_tiers")),
        sa.UniqueConstraint("tariff_id", "seq", name=op.f("uq_tariff_tiers_tariff_id_seq")),
    )
    op.create_table(
        "technicians",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("crew_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("tracker_user", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name=op.f("fk_technicians_crew_id_crews")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technicians")),
        sa.UniqueConstraint("tracker_user", name=op.f("uq_technicians_tracker_user")),
    )
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_technicians_crew_id"), ["crew_id"], unique=False)

    op.create_table(
        "accounts",
        sa.Column("account_no", sa.String(length=32), nullable=False),
        sa.Column(
            "service_kind",
            sa.Enum(
                "water",
                "telecom",
                name="service_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("premises_id", sa.Uuid(), nullable=False),
        sa.Column("tariff_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "suspended",
                "closed",
                name="account_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("opened_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_accounts_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_accounts_origin_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["premises_id"], ["premises.id"], name=op.f("fk_accounts_premises_id_premises")
        ),
        sa.ForeignKeyConstraint(
            ["tariff_id"], ["tariffs.id"], name=op.f("fk_accounts_tariff_id_tariffs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("account_no", name=op.f("uq_accounts_account_no")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_accounts_origin_site_id"), ["origin_site_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_accounts_premises_id"), ["premises_id"], unique=False)

    op.create_table(
        "counter_categories",
        sa.Column("counter_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["service_categories.id"],
            name=op.f("fk_counter_categories_category_id_service_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name=op.f("fk_counter_categories_counter_id_counters")
        ),
        sa.PrimaryKeyConstraint("counter_id", "category_id", name=op.f("pk_counter_categories")),
    )
    op.create_table(
        "gps_fixes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("technician_id", sa.Uuid(), nullable=False),
        sa.Column("fix_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("accuracy_m", sa.Double(), nullable=True),
        sa.Column("speed_kmh", sa.Double(), nullable=True),
        sa.Column("course_deg", sa.Double(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_gps_fixes_technician_id_technicians"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gps_fixes")),
    )
    with op.batch_alter_table("gps_fixes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_gps_fixes_technician_id_fix_at", ["technician_id", "fix_at"], unique=False
        )

    op.create_table(
        "technician_skills",
        sa.Column("technician_id", sa.Uuid(), nullable=False),
        sa.Column(
            "skill",
            sa.Enum(
                "burst_main",
                "no_water",
                "low_pressure",
                "leak",
                "meter_fault",
                "line_fault",
                "complaint",
                "enquiry",
                "help",
                "misconduct",
                name="skill",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_technician_skills_technician_id_technicians"),
        ),
        sa.PrimaryKeyConstraint("technician_id", "skill", name=op.f("pk_technician_skills")),
    )
    op.create_table(
        "account_phones",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_phones_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_account_phones_origin_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_phones")),
        sa.UniqueConstraint("account_id", "phone", name=op.f("uq_account_phones_account_id_phone")),
    )
    with op.batch_alter_table("account_phones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_phones_origin_site_id"), ["origin_site_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_account_phones_phone"), ["phone"], unique=False)

    op.create_table(
        "bills",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("consumption_litres", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "issued",
                "cancelled",
                name="bill_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_bills_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_bills_origin_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bills")),
        sa.UniqueConstraint(
            "account_id", "period_start", name=op.f("uq_bills_account_id_period_start")
        ),
    )
    with op.batch_alter_table("bills", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bills_origin_site_id"), ["origin_site_id"], unique=False
        )

    op.create_table(
        "meters",
        sa.Column("serial_no", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("installed_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_meters_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_meters_origin_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meters")),
        sa.UniqueConstraint("serial_no", name=op.f("uq_meters_serial_no")),
    )
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meters_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_meters_origin_site_id"), ["origin_site_id"], unique=False
        )

    op.create_table(
        "queue_tickets",
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("service_day", sa.Date(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "called",
                "serving",
                "parked",
                "done",
                "no_show",
                name="ticket_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("priority_reason", sa.String(length=32), nullable=True),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("counter_id", sa.Uuid(), nullable=True),
        sa.Column("issued_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_queue_tickets_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["service_categories.id"],
            name=op.f("fk_queue_tickets_category_id_service_categories"),
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name=op.f("fk_queue_tickets_counter_id_counters")
        ),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_queue_tickets_origin_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_tickets")),
        sa.UniqueConstraint(
            "origin_site_id",
            "category_id",
            "service_day",
            "seq",
            name=op.f("uq_queue_tickets_origin_site_id_category_id_service_day_seq"),
        ),
    )
    with op.batch_alter_table("queue_tickets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_queue_tickets_origin_site_id"), ["origin_site_id"], unique=False
        )

    op.create_table(
        "work_orders",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "burst_main",
                "no_water",
                "low_pressure",
                "leak",
                "meter_fault",
                "line_fault",
                "complaint",
                "enquiry",
                "help",
                "misconduct",
                name="work_order_category",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "dispatched",
                "accepted",
                "en_route",
                "on_site",
                "resolved",
                "closed",
                "cancelled",
                name="work_order_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("premises_id", sa.Uuid(), nullable=True),
        sa.Column("crew_id", sa.Uuid(), nullable=True),
        sa.Column("due_at", servicedb.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_work_orders_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["crew_id"], ["crews.id"], name=op.f("fk_work_orders_crew_id_crews")
        ),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_work_orders_origin_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["premises_id"], ["premises.id"], name=op.f("fk_work_orders_premises_id_premises")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_work_orders_number")),
    )
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_orders_crew_id"), ["crew_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_work_orders_origin_site_id"), ["origin_site_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_work_orders_status"), ["status"], unique=False)

    op.create_table(
        "bill_lines",
        sa.Column("bill_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("description_zh", sa.String(length=100), nullable=False),
        sa.Column("description_en", sa.String(length=100), nullable=False),
        sa.Column("quantity_litres", sa.BigInteger(), nullable=False),
        sa.Column("unit_price_fen_per_m3", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bill_id"], ["bills.id"], name=op.f("fk_bill_lines_bill_id_bills")
        ),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_bill_lines_origin_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bill_lines")),
        sa.UniqueConstraint("bill_id", "seq", name=op.f("uq_bill_lines_bill_id_seq")),
    )
    with op.batch_alter_table("bill_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bill_lines_origin_site_id"), ["origin_site_id"], unique=False
        )

    op.create_table(
        "meter_readings",
        sa.Column("meter_id", sa.Uuid(), nullable=False),
        sa.Column("read_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("register_litres", sa.BigInteger(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "manual",
                "amr",
                "estimated",
                "customer",
                name="reading_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["meters.id"], name=op.f("fk_meter_readings_meter_id_meters")
        ),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_meter_readings_origin_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_readings")),
        sa.UniqueConstraint("meter_id", "read_at", name=op.f("uq_meter_readings_meter_id_read_at")),
    )
    with op.batch_alter_table("meter_readings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meter_readings_origin_site_id"), ["origin_site_id"], unique=False
        )

    op.create_table(
        "payments",
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("bill_id", sa.Uuid(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "payment",
                "refund",
                "reversal",
                name="payment_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "method",
            sa.Enum(
                "bank_card",
                "cash",
                "counter",
                "online",
                name="payment_method",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("card_masked", sa.String(length=19), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("reverses_id", sa.Uuid(), nullable=True),
        sa.Column("paid_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", servicedb.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("origin_site_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("amount_fen <> 0", name=op.f("ck_payments_amount_not_zero")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_payments_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["bill_id"], ["bills.id"], name=op.f("fk_payments_bill_id_bills")),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_payments_origin_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"], ["payments.id"], name=op.f("fk_payments_reverses_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payments_idempotency_key")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_bill_id"), ["bill_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payments_origin_site_id"), ["origin_site_id"], unique=False
        )

    _make_payments_append_only()


def downgrade() -> None:
    _drop_payments_append_only()
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_origin_site_id"))
        batch_op.drop_index(batch_op.f("ix_payments_bill_id"))
        batch_op.drop_index(batch_op.f("ix_payments_account_id"))

    op.drop_table("payments")
    with op.batch_alter_table("meter_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meter_readings_origin_site_id"))

    op.drop_table("meter_readings")
    with op.batch_alter_table("bill_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bill_lines_origin_site_id"))

    op.drop_table("bill_lines")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_orders_status"))
        batch_op.drop_index(batch_op.f("ix_work_orders_origin_site_id"))
        batch_op.drop_index(batch_op.f("ix_work_orders_crew_id"))

    op.drop_table("work_orders")
    with op.batch_alter_table("queue_tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_queue_tickets_origin_site_id"))

    op.drop_table("queue_tickets")
    with op.batch_alter_table("meters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meters_origin_site_id"))
        batch_op.drop_index(batch_op.f("ix_meters_account_id"))

    op.drop_table("meters")
    with op.batch_alter_table("bills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bills_origin_site_id"))

    op.drop_table("bills")
    with op.batch_alter_table("account_phones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_phones_phone"))
        batch_op.drop_index(batch_op.f("ix_account_phones_origin_site_id"))

    op.drop_table("account_phones")
    op.drop_table("technician_skills")
    with op.batch_alter_table("gps_fixes", schema=None) as batch_op:
        batch_op.drop_index("ix_gps_fixes_technician_id_fix_at")

    op.drop_table("gps_fixes")
    op.drop_table("counter_categories")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_premises_id"))
        batch_op.drop_index(batch_op.f("ix_accounts_origin_site_id"))
        batch_op.drop_index(batch_op.f("ix_accounts_customer_id"))

    op.drop_table("accounts")
    with op.batch_alter_table("technicians", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_technicians_crew_id"))

    op.drop_table("technicians")
    op.drop_table("tariff_tiers")
    op.drop_table("service_categories")
    with op.batch_alter_table("premises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_premises_zone_id"))
        batch_op.drop_index(batch_op.f("ix_premises_origin_site_id"))

    op.drop_table("premises")
    with op.batch_alter_table("outages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outages_zone_id"))
        batch_op.drop_index(batch_op.f("ix_outages_origin_site_id"))

    op.drop_table("outages")
    op.drop_table("devices")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_origin_site_id"))

    op.drop_table("customers")
    op.drop_table("counters")
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcements_site_id"))
        batch_op.drop_index(batch_op.f("ix_announcements_origin_site_id"))

    op.drop_table("announcements")
    op.drop_table("zones")
    op.drop_table("tariffs")
    op.drop_table("sites")
    op.drop_table("crews")


# The payment ledger is append-only: corrections are REVERSAL entries, never edits.
# The database itself refuses UPDATE and DELETE so that no code path, script or console can.
_REFUSAL = "payments are append-only: add a reversal entry instead"


def _make_payments_append_only() -> None:
    if op.get_context().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER payments_no_{action.lower()} BEFORE {action} ON payments "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION payments_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{_REFUSAL}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER payments_append_only BEFORE UPDATE OR DELETE ON payments "
        "FOR EACH ROW EXECUTE FUNCTION payments_refuse_change()"
    )


def _drop_payments_append_only() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS payments_no_update")
        op.execute("DROP TRIGGER IF EXISTS payments_no_delete")
        return
    op.execute("DROP TRIGGER IF EXISTS payments_append_only ON payments")
    op.execute("DROP FUNCTION IF EXISTS payments_refuse_change()")
