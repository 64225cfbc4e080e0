"""Devices registered at a site: kiosks, printers, readers, boards, counter terminals."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from servicedb.base import Base, str_enum
from servicedb.ids import new_id
from servicedb.types import UTCDateTime


class DeviceKind(enum.StrEnum):
    KIOSK = "kiosk"
    COUNTER_TERMINAL = "counter_terminal"
    RECEIPT_PRINTER = "receipt_printer"
    CARD_READER = "card_reader"
    LED_BOARD = "led_board"
    HALL_SCREEN = "hall_screen"
    GPS_UNIT = "gps_unit"


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    kind: Mapped[DeviceKind] = mapped_column(str_enum(DeviceKind, "device_kind"))
    name: Mapped[str] = mapped_column(String(64))
    # A pyserial port or URL, printer URL, … Never credentials.
    connection: Mapped[str | None] = mapped_column(String(200))
    # SHA-256 of the device's API token; the token itself is never stored.
    token_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A revoked device's token stops working at once; the row stays for the record.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    health: Mapped[str] = mapped_column(String(16), default="unknown")
    health_reason: Mapped[str | None] = mapped_column(String(200))
    health_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeviceCounter(Base):
    """The counters a counter terminal may act at (its token works for these only)."""

    __tablename__ = "device_counters"

    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    counter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("counters.id"), primary_key=True)
