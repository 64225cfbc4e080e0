"""Work orders, crews, technicians and the GPS fixes they report."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column

from servicedb.base import Base, GlobalRow, str_enum
from servicedb.ids import new_id
from servicedb.types import UTCDateTime


class WorkOrderCategory(enum.StrEnum):
    BURST_MAIN = "burst_main"  # 爆管
    NO_WATER = "no_water"  # 停水 / 无水
    LOW_PRESSURE = "low_pressure"  # 降压 / 水压低
    LEAK = "leak"
    METER_FAULT = "meter_fault"
    LINE_FAULT = "line_fault"  # telecom
    COMPLAINT = "complaint"  # 投诉
    ENQUIRY = "enquiry"  # 咨询
    HELP = "help"  # 求助
    MISCONDUCT = "misconduct"  # 举报


class WorkOrderStatus(enum.StrEnum):
    NEW = "new"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    RESOLVED = "resolved"  # the field reported back
    CLOSED = "closed"  # 销账
    CANCELLED = "cancelled"


class WorkOrderResult(enum.StrEnum):
    """How an order ended in the field; mirrors ``field_dispatch.orders.Result`` by value."""

    FIXED = "fixed"  # 已修复
    TEMPORARY_FIX = "temporary_fix"  # 临时处理，需再次上门
    NO_FAULT_FOUND = "no_fault_found"  # 未发现故障
    CUSTOMER_SIDE = "customer_side"  # 用户内部设施问题
    REFERRED = "referred"  # 转交其他部门
    ANSWERED = "answered"  # 已答复
    CUSTOMER_ABSENT = "customer_absent"  # 用户不在


class Crew(Base):
    __tablename__ = "crews"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    depot_lon: Mapped[float]
    depot_lat: Mapped[float]
    on_duty: Mapped[bool] = mapped_column(default=True)


class Technician(Base):
    __tablename__ = "technicians"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    crew_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("crews.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20))
    # The OwnTracks user name the technician's phone reports under.
    tracker_user: Mapped[str] = mapped_column(String(40), unique=True)


class TechnicianSkill(Base):
    __tablename__ = "technician_skills"

    technician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("technicians.id"), primary_key=True)
    skill: Mapped[WorkOrderCategory] = mapped_column(
        str_enum(WorkOrderCategory, "skill"), primary_key=True
    )


class WorkOrder(GlobalRow, Base):
    __tablename__ = "work_orders"

    number: Mapped[str] = mapped_column(String(32), unique=True)
    category: Mapped[WorkOrderCategory] = mapped_column(
        str_enum(WorkOrderCategory, "work_order_category")
    )
    status: Mapped[WorkOrderStatus] = mapped_column(
        str_enum(WorkOrderStatus, "work_order_status"), index=True
    )
    source: Mapped[str] = mapped_column(String(16))  # hall, phone, web, kiosk
    priority: Mapped[int] = mapped_column(default=3)  # 1 most urgent
    description: Mapped[str] = mapped_column(Text)
    lon: Mapped[float]
    lat: Mapped[float]
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    premises_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("premises.id"))
    crew_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("crews.id"), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Central's projection of the order's events (work_order_events), for lists, the map and
    # KPIs. A hall makes the row with these empty; central fills them when it takes the order
    # in (``opened_at`` is None until then). See domain.work_orders.
    intake_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    opened_by: Mapped[str | None] = mapped_column(String(64))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(20), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sla_priority: Mapped[int | None]
    sla_target: Mapped[str | None] = mapped_column(String(200))  # the spans, JSON, as at intake
    arrive_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    restore_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[WorkOrderResult | None] = mapped_column(
        str_enum(WorkOrderResult, "work_order_result")
    )
    satisfaction: Mapped[int | None]
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(default=0, server_default="0")
    pinned: Mapped[bool] = mapped_column(default=False, server_default=false())
    flag_reason: Mapped[str | None] = mapped_column(String(32))
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class GpsFix(Base):
    """A position report of a technician's phone (OwnTracks) or a van's GPS unit (NMEA)."""

    __tablename__ = "gps_fixes"
    # Unique: one position per technician per second (OwnTracks tst is whole seconds), so a
    # QoS 1 redelivery or a phone flushing its queue twice is stored once (migration 0007).
    __table_args__ = (
        Index("ix_gps_fixes_technician_id_fix_at", "technician_id", "fix_at", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    technician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("technicians.id"))
    fix_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lon: Mapped[float]
    lat: Mapped[float]
    accuracy_m: Mapped[float | None]
    speed_kmh: Mapped[float | None]
    course_deg: Mapped[float | None]
    source: Mapped[str] = mapped_column(String(16))  # owntracks, nmea
