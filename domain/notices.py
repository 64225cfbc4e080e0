"""Outage notices and announcements that concern one hall."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from gis.geojson import GeoJSONError, from_geojson
from gis.metric import buffer_m
from servicedb.models import Announcement, Outage, OutageStatus, Site


@dataclass(frozen=True)
class OutageNotice:
    outage_id: uuid.UUID
    kind: str
    title_zh: str
    title_en: str
    starts_at: datetime
    restore_at: datetime | None


def hall_area(engine: Engine, site_code: str, radius_m: float) -> BaseGeometry | None:
    """The area a hall serves: a circle of ``radius_m`` metres around it."""
    with Session(engine) as session:
        site = session.scalar(select(Site).where(Site.code == site_code))
    if site is None or site.lon is None or site.lat is None:
        return None
    return buffer_m(Point(site.lon, site.lat), radius_m)


def active_outages(
    engine: Engine, site_code: str, now: datetime, *, radius_m: float = 3000.0
) -> list[OutageNotice]:
    """Outages in effect now whose area touches the hall's area. Planned ones count from their start."""
    area = hall_area(engine, site_code, radius_m)
    with Session(engine) as session:
        rows = session.scalars(
            select(Outage)
            .where(
                Outage.status.in_((OutageStatus.PLANNED, OutageStatus.ACTIVE)),
                Outage.starts_at <= now,
                or_(
                    Outage.estimated_restore_at.is_(None),
                    Outage.estimated_restore_at > now,
                    Outage.status == OutageStatus.ACTIVE,
                ),
            )
            .order_by(Outage.starts_at)
        ).all()
    notices = []
    for outage in rows:
        try:
            shape = from_geojson(outage.area_geojson)
        except GeoJSONError:
            continue  # a broken area is not shown; it is not guessed at
        if area is None or shape.intersects(area):
            notices.append(
                OutageNotice(
                    outage.id,
                    outage.kind.value,
                    outage.title_zh,
                    outage.title_en,
                    outage.starts_at,
                    outage.estimated_restore_at,
                )
            )
    return notices


def active_announcements(engine: Engine, site_code: str, now: datetime) -> list[tuple[str, str]]:
    with Session(engine) as session:
        site_id = session.scalar(select(Site.id).where(Site.code == site_code))
        rows = session.scalars(
            select(Announcement)
            .where(
                or_(Announcement.site_id.is_(None), Announcement.site_id == site_id),
                Announcement.starts_at <= now,
                or_(Announcement.ends_at.is_(None), Announcement.ends_at > now),
            )
            .order_by(Announcement.priority)
        ).all()
    return [(row.text_zh, row.text_en) for row in rows]
