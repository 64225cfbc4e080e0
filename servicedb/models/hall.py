"""Service categories, counters and queue tickets of a hall."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from servicedb.base import Base, GlobalRow, str_enum
from servicedb.ids import new_id
from servicedb.types import UTCDateTime


class ServiceCategory(Base):
    """What a customer comes for (缴费, 报装, 报修/投诉, 咨询, 贵宾) at one hall."""

    __tablename__ = "service_categories"
    __table_args__ = (UniqueConstraint("site_id", "code"), UniqueConstraint("site_id", "prefix"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    code: Mapped[str] = mapped_column(String(40))
    prefix: Mapped[str] = mapped_column(String(2))  # ticket letter: A001, B001 …
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    is_priority: Mapped[bool] = mapped_column(default=False)
    target_wait_minutes: Mapped[int] = mapped_column(default=15)
    mean_service_seconds: Mapped[int] = mapped_column(default=300)
    active: Mapped[bool] = mapped_column(default=True)


class Counter(Base):
    """A 窗口: where staff serve tickets."""

    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("site_id", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    number: Mapped[int]
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))


class CounterCategory(Base):
    """Which categories a counter serves by default."""

    __tablename__ = "counter_categories"

    counter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("counters.id"), primary_key=True)
    category_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("service_categories.id"), primary_key=True
    )


class TicketStatus(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    PARKED = "parked"
    DONE = "done"
    NO_SHOW = "no_show"


class QueueTicket(GlobalRow, Base):
    """A 取号 ticket. Numbers are per category per local service day and never reused."""

    __tablename__ = "queue_tickets"
    __table_args__ = (UniqueConstraint("origin_site_id", "category_id", "service_day", "seq"),)

    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_categories.id"))
    service_day: Mapped[date] = mapped_column(Date)
    seq: Mapped[int]
    number: Mapped[str] = mapped_column(String(8))
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus, "ticket_status"))
    priority_reason: Mapped[str | None] = mapped_column(String(32))
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    counter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("counters.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
