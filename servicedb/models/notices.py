"""Outages (停水 / 降压 / 抢修) and announcements (公告)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from servicedb.base import Base, GlobalRow, str_enum
from servicedb.types import UTCDateTime


class OutageKind(enum.StrEnum):
    WATER_OFF = "water_off"  # 停水
    LOW_PRESSURE = "low_pressure"  # 降压
    EMERGENCY_REPAIR = "emergency_repair"  # 抢修
    LINE_FAULT = "line_fault"  # telecom line fault


class OutageStatus(enum.StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    RESTORED = "restored"
    CANCELLED = "cancelled"


class Outage(GlobalRow, Base):
    __tablename__ = "outages"

    kind: Mapped[OutageKind] = mapped_column(str_enum(OutageKind, "outage_kind"))
    status: Mapped[OutageStatus] = mapped_column(str_enum(OutageStatus, "outage_status"))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    detail_zh: Mapped[str] = mapped_column(Text, default="")
    detail_en: Mapped[str] = mapped_column(Text, default="")
    # GeoJSON Polygon or MultiPolygon, [lon, lat].
    area_geojson: Mapped[str] = mapped_column(Text)
    zone_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("zones.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    estimated_restore_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Premises inside the area, counted by whoever declares or redraws the outage (field
    # dispatch); None until counted. The dispatcher's console shows it.
    affected_count: Mapped[int | None]


class Announcement(GlobalRow, Base):
    __tablename__ = "announcements"

    # None: every hall.
    site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sites.id"), index=True)
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    priority: Mapped[int] = mapped_column(default=0)
