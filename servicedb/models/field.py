"""Field dispatch at central: live positions, assignments on their way to phones, SMS notices."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from servicedb.base import Base, str_enum
from servicedb.ids import new_id
from servicedb.types import UTCDateTime, utcnow


class TechnicianPosition(Base):
    """The newest position of each technician: what the live map and the ETA matrix read.

    ``gps_fixes`` keeps the track; this table answers "where is everyone now" in one row per
    technician instead of a newest-per-group query over millions of fixes.
    """

    __tablename__ = "technician_positions"

    technician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("technicians.id"), primary_key=True)
    device: Mapped[str] = mapped_column(String(40))
    fix_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lon: Mapped[float]
    lat: Mapped[float]
    accuracy_m: Mapped[float | None]
    speed_kmh: Mapped[float | None]
    course_deg: Mapped[float | None]
    battery_pct: Mapped[int | None]
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The phone's Last Will fired (the broker lost it) and no fix has come since.
    offline_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AssignmentMessage(Base):
    """An order on its way to one technician's phone (the MQTT outbox).

    Written in the same transaction as the dispatch, published after the commit; a row not
    yet handed to the broker when the process stopped is published at the next start. ``id``
    is the message id the phone deduplicates by, the same for every technician of the crew.
    """

    __tablename__ = "assignment_messages"
    __table_args__ = (Index("ix_assignment_messages_published_at", "published_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    technician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("technicians.id"), primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_orders.id"), index=True)
    crew_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("crews.id"))
    topic: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationKind(enum.StrEnum):
    OUTAGE_DECLARED = "outage_declared"  # 停水通知
    OUTAGE_RESTORED = "outage_restored"  # 恢复供水通知


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # refused by the gateway, or out of attempts
    OPTED_OUT = "opted_out"  # every phone of the customer said 退订
    CANCELLED = "cancelled"  # no longer true (the water came back before it went out)


class Notification(Base):
    """One SMS to one customer about one outage: the notification outbox.

    Unique per (customer, outage, kind): a redrawn area or a second declaration never texts
    a customer twice. ``id`` is the gateway's idempotency key, so a send repeated after a
    crash is sent once.
    """

    __tablename__ = "notification_outbox"
    __table_args__ = (
        UniqueConstraint("customer_id", "outage_id", "kind"),
        Index("ix_notification_outbox_status_due_at", "status", "due_at"),
        Index("ix_notification_outbox_phone_sent_at", "phone", "sent_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    outage_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outages.id"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind, "notification_kind"))
    phone: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[NotificationStatus] = mapped_column(
        str_enum(NotificationStatus, "notification_status")
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # not before: retries, rate limits
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gateway_message_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(200))
