"""Sites (central and the halls) and zones (district metered areas)."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from servicedb.base import Base, str_enum
from servicedb.ids import new_id


class SiteKind(enum.StrEnum):
    CENTRAL = "central"
    HALL = "hall"


class Site(Base):
    """A place that runs its own database: the data centre or one service hall."""

    __tablename__ = "sites"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[SiteKind] = mapped_column(str_enum(SiteKind, "site_kind"))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    lon: Mapped[float | None]
    lat: Mapped[float | None]
    address_zh: Mapped[str | None] = mapped_column(String(200))
    address_en: Mapped[str | None] = mapped_column(String(200))


class Zone(Base):
    """A district metered area (DMA): the unit outages and crews are planned by."""

    __tablename__ = "zones"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    # GeoJSON Polygon, coordinates in [lon, lat] order (WGS 84).
    area_geojson: Mapped[str] = mapped_column(Text)
