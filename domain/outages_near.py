"""Outages near me: planned and active outages (停水 / 降压 / 抢修) whose area holds the
customer's premises or the chosen street, with the expected restoration time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from shapely import Point
from sqlalchemy import select

from domain.accounts import find_account
from domain.kiosk_errors import NoPlace, UnknownStreet
from domain.kiosk_site import KioskSite
from gis.geojson import from_geojson
from servicedb.models import Outage, OutageStatus, Premises, Street


@dataclass(frozen=True)
class OutageView:
    outage_id: uuid.UUID
    kind: str
    status: str
    title_zh: str
    title_en: str
    detail_zh: str
    detail_en: str
    starts_at: datetime
    restore_at: datetime | None


@dataclass(frozen=True)
class OutagesNear:
    where_zh: str
    where_en: str
    outages: list[OutageView]


class OutageLookup:
    def __init__(self, site: KioskSite) -> None:
        self._site = site

    def near(self, *, account_no: str | None = None, street_code: str | None = None) -> OutagesNear:
        if (account_no is None) == (street_code is None):
            raise NoPlace("one of account or street")
        with self._site.read() as session:
            if account_no is not None:
                account = find_account(session, account_no)
                premises = session.get(Premises, account.premises_id)
                assert premises is not None  # noqa: S101 - a foreign key
                point = Point(premises.lon, premises.lat)
                where = ("您的地址", "Your address")
            else:
                street = session.scalars(select(Street).where(Street.code == street_code)).first()
                if street is None:
                    raise UnknownStreet(f"no street {street_code}")
                point = Point(street.lon, street.lat)
                where = (street.name_zh, street.name_en)
            rows = session.scalars(
                select(Outage)
                .where(Outage.status.in_([OutageStatus.ACTIVE, OutageStatus.PLANNED]))
                .order_by(Outage.starts_at)
            ).all()
            found = [
                OutageView(
                    o.id,
                    o.kind.value,
                    o.status.value,
                    o.title_zh,
                    o.title_en,
                    o.detail_zh,
                    o.detail_en,
                    o.starts_at,
                    o.estimated_restore_at,
                )
                for o in rows
                if from_geojson(o.area_geojson).covers(point)
            ]
            # Active first (they matter now), then planned by start.
            found.sort(key=lambda o: (o.status != "active", o.starts_at))
            return OutagesNear(where[0], where[1], found)
