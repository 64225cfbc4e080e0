"""A small, explicit central for dispatch tests, built straight into a migrated database.

Three crews with plain skills, two zones, one customer with two accounts on one phone and a
year of bills — enough to mean something, small enough that a test's expected figures can
be worked out by hand.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from shapely.geometry import box
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from domain.bus import EventBus
from domain.events import Event
from domain.staff import hash_pin
from domain.uow import UnitsOfWork
from gis.geojson import to_geojson
from servicedb.models import (
    Account,
    AccountPhone,
    Bill,
    Crew,
    Customer,
    Outage,
    OutageKind,
    OutageStatus,
    Payment,
    PaymentKind,
    Premises,
    Site,
    SiteKind,
    Staff,
    StaffRole,
    Tariff,
    Technician,
    TechnicianSkill,
    WorkOrderCategory,
    Zone,
)
from servicedb.models.billing import PaymentMethod, TierPeriod
from servicedb.models.console import ConsoleRole
from servicedb.models.customers import ServiceKind

CENTRAL = "central"
HALL = "hall-a"
PHONE = "13800138000"
PIN = "2468"
# Monday 23 November 2026, 10:00 in Beijing.
MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

CREWS = {
    "crew-burst": ((116.370, 39.940), ("burst_main", "leak", "no_water")),
    "crew-meter": ((116.340, 39.930), ("meter_fault", "low_pressure", "leak")),
    "crew-desk": ((116.376, 39.894), ("complaint", "help", "enquiry")),
}
# The premises of the two accounts: west and east of Xicheng's centre.
HOME = (116.360, 39.910)
SHOP = (116.380, 39.915)


class Clock:
    def __init__(self, now: datetime = MONDAY_10) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Heard:
    """Every event the bus published after a commit, in order."""

    events: list[Event] = field(default_factory=list)

    def of(self, kind: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, kind)]


@dataclass(frozen=True)
class City:
    central_id: uuid.UUID
    hall_id: uuid.UUID
    crews: dict[str, uuid.UUID]
    home_account: str
    shop_account: str
    home_account_id: uuid.UUID
    zone_ids: tuple[uuid.UUID, uuid.UUID]
    outage_id: uuid.UUID


def build_city(engine: Engine) -> City:
    with Session(engine) as session, session.begin():
        central = Site(
            code=CENTRAL, kind=SiteKind.CENTRAL, name_zh="客户服务中心", name_en="Centre"
        )
        hall = Site(
            code=HALL,
            kind=SiteKind.HALL,
            name_zh="测试营业厅",
            name_en="Test hall",
            lon=116.3652,
            lat=39.9142,
        )
        west = Zone(
            code="Z01",
            name_zh="西区",
            name_en="West",
            area_geojson=to_geojson(box(116.32, 39.88, 116.365, 39.945)),
        )
        east = Zone(
            code="Z02",
            name_zh="东区",
            name_en="East",
            area_geojson=to_geojson(box(116.365, 39.88, 116.40, 39.945)),
        )
        tariff = Tariff(
            code="W1",
            name_zh="居民水价",
            name_en="Residential water",
            service_kind=ServiceKind.WATER,
            tier_period=TierPeriod.ANNUAL,
            valid_from=date(2024, 1, 1),
        )
        session.add_all([central, hall, west, east, tariff])
        session.flush()
        customer = Customer(origin_site_id=central.id, name="王伟")
        session.add(customer)
        session.flush()
        accounts = []
        for number, (lon, lat), address in (
            ("XC000000001", HOME, "北京市西城区阜成门内大街 1 号"),
            ("XC000000002", SHOP, "北京市西城区西单北大街 2 号"),
        ):
            premises = Premises(
                origin_site_id=central.id,
                address_zh=address,
                address_en=f"{address} (en)",
                lon=lon,
                lat=lat,
                zone_id=west.id if lon < 116.365 else east.id,
            )
            session.add(premises)
            session.flush()
            account = Account(
                origin_site_id=central.id,
                account_no=number,
                service_kind=ServiceKind.WATER,
                customer_id=customer.id,
                premises_id=premises.id,
                tariff_id=tariff.id,
                opened_at=datetime(2024, 1, 1, tzinfo=UTC),
            )
            session.add(account)
            session.flush()
            session.add(AccountPhone(origin_site_id=central.id, account_id=account.id, phone=PHONE))
            accounts.append(account)
        _bills(session, central.id, accounts[0].id)
        crews = {}
        for code, ((lon, lat), skills) in CREWS.items():
            crew = Crew(
                code=code, name_zh=f"{code} 班组", name_en=code, depot_lon=lon, depot_lat=lat
            )
            session.add(crew)
            session.flush()
            crews[code] = crew.id
            for member in (1, 2):
                tech = Technician(
                    crew_id=crew.id,
                    name=f"{code} 队员{member}",
                    phone=f"139{member:08d}",
                    tracker_user=f"{code}-{member}",
                )
                session.add(tech)
                session.flush()
                for skill in skills:
                    session.add(
                        TechnicianSkill(technician_id=tech.id, skill=WorkOrderCategory(skill))
                    )
        outage = Outage(
            origin_site_id=central.id,
            kind=OutageKind.WATER_OFF,
            status=OutageStatus.ACTIVE,
            title_zh="阜成门内大街爆管抢修",
            title_en="Burst main on Fuchengmennei Street",
            area_geojson=to_geojson(box(116.355, 39.905, 116.365, 39.915)),
            zone_id=west.id,
            starts_at=MONDAY_10 - timedelta(hours=1),
            affected_count=412,
        )
        session.add(outage)
        session.flush()
        return City(
            central.id,
            hall.id,
            crews,
            accounts[0].account_no,
            accounts[1].account_no,
            accounts[0].id,
            (west.id, east.id),
            outage.id,
        )


def _bills(session: Session, site_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """Twelve monthly bills of 30.00 yuan; all paid but the last two; one part-paid."""
    for month in range(1, 13):
        start = date(2025, 11, 1) + timedelta(days=31 * (month - 1))
        start = start.replace(day=1)
        bill = Bill(
            origin_site_id=site_id,
            account_id=account_id,
            period_start=start,
            period_end=start + timedelta(days=27),
            consumption_litres=6000 + month,
            amount_fen=3000,
            due_date=start + timedelta(days=40),
        )
        session.add(bill)
        session.flush()
        paid = {11: 1000, 12: 0}.get(month, 3000)
        if paid:
            session.add(
                Payment(
                    origin_site_id=site_id,
                    idempotency_key=f"pay-{account_id}-{month}",
                    account_id=account_id,
                    bill_id=bill.id,
                    kind=PaymentKind.PAYMENT,
                    method=PaymentMethod.BANK_CARD,
                    amount_fen=paid,
                    card_masked="622202******1234",
                    paid_at=datetime.combine(start + timedelta(days=35), datetime.min.time(), UTC),
                )
            )


def add_console_staff(
    engine: Engine, central_id: uuid.UUID, staff_no: str, *roles: ConsoleRole
) -> None:
    with Session(engine) as session, session.begin():
        staff = Staff(
            site_id=central_id,
            staff_no=staff_no,
            name=f"职员{staff_no}",
            pin_hash=hash_pin(PIN, cost=1024),
        )
        session.add(staff)
        session.flush()
        for role in roles:
            session.add(StaffRole(staff_id=staff.id, role=role))


def listening_units(engine: Engine) -> tuple[UnitsOfWork, Heard]:
    bus = EventBus()
    heard = Heard()
    bus.subscribe(Event, heard.events.append)
    return UnitsOfWork(engine, bus), heard
