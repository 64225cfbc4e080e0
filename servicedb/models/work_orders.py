"""A work order's history: one append-only row per thing that happened to it.

The database refuses updates and deletions (triggers, see migration 0006): the timeline a
supervisor or an auditor reads is the one that was written. ``work_orders`` keeps the
current state as a projection of these rows.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servicedb.base import Base, GlobalRow, str_enum
from servicedb.models.dispatch import WorkOrderResult, WorkOrderStatus
from servicedb.types import UTCDateTime


class WorkOrderEventKind(enum.StrEnum):
    # The status machine's events (field_dispatch.orders), by value.
    OPENED = "opened"  # intake: category and priority as given
    DISPATCHED = "dispatched"  # 派单
    ACCEPTED = "accepted"  # 接单
    DECLINED = "declined"  # 拒单
    SET_OFF = "set_off"  # 出发
    ARRIVED = "arrived"  # 到场
    RESOLVED = "resolved"  # 处理完毕
    CLOSED = "closed"  # 销账
    CANCELLED = "cancelled"
    REOPENED = "reopened"
    PRIORITY_RAISED = "priority_raised"
    FOLLOWED_UP = "followed_up"  # 回访
    # Decisions about the order that change no status: kept for the timeline and so that a
    # repeated sweep knows what it already did (the event key).
    SLA_WARNED = "sla_warned"  # the dispatcher was warned: a clock is at risk
    SUPERVISOR_NOTIFIED = "supervisor_notified"  # a clock was breached
    FLAGGED = "flagged"  # no crew can take it now, and why


class WorkOrderActor(enum.StrEnum):
    """Mirrors ``field_dispatch.vocabulary.Actor`` by value."""

    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    SYSTEM = "system"
    HALL = "hall"


class WorkOrderEvent(GlobalRow, Base):
    __tablename__ = "work_order_events"
    __table_args__ = (
        UniqueConstraint("order_id", "seq"),
        # A phone's message id, a console request's key, an SLA decision's key: once per order.
        UniqueConstraint("order_id", "event_key"),
        Index("ix_work_order_events_kind_at", "kind", "at"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_orders.id"))
    seq: Mapped[int]
    event_key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[WorkOrderEventKind] = mapped_column(
        str_enum(WorkOrderEventKind, "work_order_event_kind")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # when it happened, as the reporter says
    actor: Mapped[WorkOrderActor] = mapped_column(str_enum(WorkOrderActor, "work_order_actor"))
    actor_name: Mapped[str] = mapped_column(String(64))  # staff number, tracker user, "sla" …
    status_after: Mapped[WorkOrderStatus | None] = mapped_column(
        str_enum(WorkOrderStatus, "work_order_status")
    )
    crew_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("crews.id"))
    priority: Mapped[int | None]
    result: Mapped[WorkOrderResult | None] = mapped_column(
        str_enum(WorkOrderResult, "work_order_result")
    )
    score: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(Text)
    # Steps a forward-jumping field report implied (comma-separated statuses).
    implied: Mapped[str | None] = mapped_column(String(64))
