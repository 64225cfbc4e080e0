"""Small, explicit central data for the field tests: a central site, crews with technicians,
work orders, premises with customers and phones, zones — straight into a migrated database."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gis.geojson import to_geojson
from servicedb.models import (
    Account,
    AccountPhone,
    Crew,
    Customer,
    Premises,
    Site,
    SiteKind,
    Tariff,
    Technician,
    TechnicianSkill,
    WorkOrder,
    WorkOrderCategory,
    WorkOrderStatus,
    Zone,
)
from servicedb.models.billing import TierPeriod
from servicedb.models.customers import ServiceKind

OPENED = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CrewRef:
    id: uuid.UUID
    code: str
    users: tuple[str, ...]  # tracker users of its technicians
    technician_ids: tuple[uuid.UUID, ...]


def central_site(engine: Engine, code: str = "central") -> uuid.UUID:
    with Session(engine) as session, session.begin():
        found = session.scalar(select(Site.id).where(Site.code == code))
        if found is not None:
            return found
        site = Site(
            code=code,
            kind=SiteKind.CENTRAL,
            name_zh="客户服务中心",
            name_en="Customer Service Centre",
            lon=116.3601,
            lat=39.9125,
        )
        session.add(site)
        session.flush()
        return site.id


def hall_site(engine: Engine, code: str, lon: float, lat: float) -> uuid.UUID:
    with Session(engine) as session, session.begin():
        site = Site(code=code, kind=SiteKind.HALL, name_zh=code, name_en=code, lon=lon, lat=lat)
        session.add(site)
        session.flush()
        return site.id


def crew(
    engine: Engine,
    code: str = "crew-north-1",
    members: int = 2,
    depot: tuple[float, float] = (116.3712, 39.9401),
    *,
    users: Sequence[str] | None = None,
    skills: Sequence[WorkOrderCategory] = (),
) -> CrewRef:
    with Session(engine) as session, session.begin():
        row = Crew(
            code=code, name_zh=f"{code}队", name_en=code, depot_lon=depot[0], depot_lat=depot[1]
        )
        session.add(row)
        session.flush()
        names = list(users) if users is not None else [f"{code}-{n}" for n in range(1, members + 1)]
        techs = [
            Technician(
                crew_id=row.id, name=f"队员{n}", phone=f"139100000{n:02d}", tracker_user=user
            )
            for n, user in enumerate(names, start=1)
        ]
        session.add_all(techs)
        session.flush()
        session.add_all(
            TechnicianSkill(technician_id=tech.id, skill=skill)
            for tech in techs
            for skill in skills
        )
        return CrewRef(
            row.id, code, tuple(t.tracker_user for t in techs), tuple(t.id for t in techs)
        )


def work_order(
    engine: Engine,
    number: str = "WO-0001",
    *,
    category: WorkOrderCategory = WorkOrderCategory.BURST_MAIN,
    lonlat: tuple[float, float] = (116.3652, 39.9142),
    priority: int = 1,
    status: WorkOrderStatus = WorkOrderStatus.NEW,
    crew_id: uuid.UUID | None = None,
) -> uuid.UUID:
    site_id = central_site(engine)
    with Session(engine) as session, session.begin():
        order = WorkOrder(
            origin_site_id=site_id,
            number=number,
            category=category,
            status=status,
            source="kiosk",
            priority=priority,
            description="阜成门内大街爆管 / Burst main on Fuchengmennei Street",
            lon=lonlat[0],
            lat=lonlat[1],
            crew_id=crew_id,
        )
        session.add(order)
        session.flush()
        return order.id


def _tariff(session: Session) -> uuid.UUID:
    found = session.scalar(select(Tariff.id).where(Tariff.code == "T"))
    if found is not None:
        return found
    tariff = Tariff(
        code="T",
        name_zh="水价",
        name_en="Water",
        service_kind=ServiceKind.WATER,
        tier_period=TierPeriod.ANNUAL,
        valid_from=date(2024, 1, 1),
    )
    session.add(tariff)
    session.flush()
    return tariff.id


@dataclass(frozen=True)
class Household:
    premises_id: uuid.UUID
    customer_id: uuid.UUID
    phones: tuple[str, ...]


def household(
    engine: Engine,
    lon: float,
    lat: float,
    phones: Sequence[str] = ("13800138000",),
    *,
    customer_id: uuid.UUID | None = None,
    opted_out: Sequence[str] = (),
    zone_id: uuid.UUID | None = None,
) -> Household:
    """A premises with an account whose customer (new, or ``customer_id``) has ``phones``."""
    site_id = central_site(engine)
    n = uuid.uuid4().hex[:10]
    with Session(engine) as session, session.begin():
        if customer_id is None:
            customer = Customer(origin_site_id=site_id, name="王伟")
            session.add(customer)
            session.flush()
            customer_id = customer.id
        premises = Premises(
            origin_site_id=site_id,
            address_zh=f"北京市西城区测试路 {n} 号",
            address_en=f"No. {n} Test Road, Xicheng",
            lon=lon,
            lat=lat,
            zone_id=zone_id,
        )
        session.add(premises)
        session.flush()
        account = Account(
            origin_site_id=site_id,
            account_no=f"XC{n}",
            service_kind=ServiceKind.WATER,
            customer_id=customer_id,
            premises_id=premises.id,
            tariff_id=_tariff(session),
            opened_at=OPENED,
        )
        session.add(account)
        session.flush()
        for phone in phones:
            session.add(
                AccountPhone(
                    origin_site_id=site_id,
                    account_id=account.id,
                    phone=phone,
                    sms_opt_out=phone in opted_out,
                )
            )
        return Household(premises.id, customer_id, tuple(phones))


def zone(engine: Engine, code: str, area: BaseGeometry) -> uuid.UUID:
    with Session(engine) as session, session.begin():
        row = Zone(code=code, name_zh=code, name_en=code, area_geojson=to_geojson(area))
        session.add(row)
        session.flush()
        return row.id
