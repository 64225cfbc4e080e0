"""Service categories, counters and queue tickets of a hall."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
)
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
    # 限号: at most this many tickets a day (None: no limit).
    daily_quota: Mapped[int | None]


class HallHours(Base):
    """营业时间: when a hall opens, stops issuing tickets (停止取号) and closes, per weekday.

    Local wall-clock times in the hall's time zone. A weekday with no row is a closed day.
    """

    __tablename__ = "hall_hours"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    weekday: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # 0 Monday … 6 Sunday
    opens: Mapped[time] = mapped_column(Time)
    last_ticket: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


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
    """A 取号 ticket: its current state. Every change is also a ``QueueEvent`` (the history).

    Numbers are per category per local service day and never reused (unique constraint).
    """

    __tablename__ = "queue_tickets"
    __table_args__ = (
        UniqueConstraint("origin_site_id", "issued_category_id", "service_day", "seq"),
        Index("ix_queue_tickets_waiting", "origin_site_id", "service_day", "status"),
        # Today's arrivals by issue time (the estimate's arrival rates).
        Index("ix_queue_tickets_issued", "origin_site_id", "service_day", "issued_at"),
    )

    # The queue the ticket waits in now (a transfer changes it) …
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_categories.id"))
    # … and the category whose numbers it took (never changes, so numbers are never reused).
    issued_category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_categories.id"))
    service_day: Mapped[date] = mapped_column(Date)
    seq: Mapped[int]
    number: Mapped[str] = mapped_column(String(8))
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus, "ticket_status"))
    priority_reason: Mapped[str | None] = mapped_column(String(32))
    # Higher is called first; 0 for everyone without a reason.
    priority: Mapped[int] = mapped_column(default=0)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    counter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("counters.id"))
    # Transferred to one counter: only that counter calls it.
    target_counter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("counters.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Place in line: the issue time, moved by a transfer to the back or a return from parking.
    queued_since: Mapped[datetime] = mapped_column(UTCDateTime)
    at_front: Mapped[bool] = mapped_column(default=False)
    recalls: Mapped[int] = mapped_column(default=0)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))
    rating: Mapped[int | None]
    walk_in: Mapped[bool] = mapped_column(default=False)
    # The wait printed on the ticket: compared with the real wait, it teaches the estimator.
    estimate_s: Mapped[int | None]


class QueueEvent(GlobalRow, Base):
    """One thing that happened to a ticket or at a counter. Append-only, like the ledger."""

    __tablename__ = "queue_events"
    __table_args__ = (
        Index("ix_queue_events_ticket_id_at", "ticket_id", "at"),
        # What changed since the last look, per site (the read side's kept waiting list).
        Index("ix_queue_events_origin_site_id_at", "origin_site_id", "at"),
    )

    ticket_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("queue_tickets.id"))
    counter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("counters.id"))
    action: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    staff: Mapped[str | None] = mapped_column(String(64))
    # JSON: target category or counter, outcome, rating …
    detail: Mapped[str] = mapped_column(Text, default="{}")


class CounterSession(GlobalRow, Base):
    """Staff signed in at a counter, serving these categories, from ``opened_at`` to ``closed_at``."""

    __tablename__ = "counter_sessions"

    counter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("counters.id"), index=True)
    staff: Mapped[str] = mapped_column(String(64))
    category_ids: Mapped[str] = mapped_column(Text)  # JSON list of ids
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 暂停服务: while set, the counter calls nobody and counts for no estimate.
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(String(32))


class Appointment(GlobalRow, Base):
    """A booked visit (预约): its code, checked at the kiosk, gives the ticket appointment priority."""

    __tablename__ = "appointments"
    __table_args__ = (UniqueConstraint("site_id", "code"),)

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_categories.id"))
    code: Mapped[str] = mapped_column(String(16))
    day: Mapped[date] = mapped_column(Date)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id"))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("queue_tickets.id"))
