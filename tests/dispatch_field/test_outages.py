"""Declaring outages at central: drawn areas and burst mains, affected premises from the
register, the halls they concern, notices queued, restoring; on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import Polygon, box
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from domain.bus import EventBus
from domain.events import Event
from domain.notifications import queue_for_premises
from domain.outages import OutageDeclared, OutageRestored, Outages, PremisesRegister, notice_text
from domain.uow import UnitsOfWork
from gis.outage_area import BurstOutsideNetwork
from gis.premises_index import InvalidArea
from servicedb.models import (
    Notification,
    NotificationKind,
    NotificationStatus,
    Outage,
    OutageKind,
    OutageStatus,
)
from tests.dispatch_field import builders

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
# Four DMAs, 2 × 2, over part of Xicheng.
WEST, MID_LON, EAST = 116.32, 116.36, 116.40
SOUTH, MID_LAT, NORTH = 39.865, 39.905, 39.945
DMAS = {
    "DMA-NW": box(WEST, MID_LAT, MID_LON, NORTH),
    "DMA-NE": box(MID_LON, MID_LAT, EAST, NORTH),
    "DMA-SW": box(WEST, SOUTH, MID_LON, MID_LAT),
    "DMA-SE": box(MID_LON, SOUTH, EAST, MID_LAT),
}
M_PER_DEG_LAT = 111_000.0


def north_of(lon: float, lat: float, metres: float) -> tuple[float, float]:
    return lon, lat + metres / M_PER_DEG_LAT


@dataclass
class City:
    engine: Engine
    outages: Outages
    register: PremisesRegister
    events: list[Event]


def make_city(engine: Engine) -> City:
    builders.central_site(engine)
    for code, area in DMAS.items():
        builders.zone(engine, code, area)
    builders.hall_site(engine, "hall-near", 116.3652, 39.9142)
    builders.hall_site(engine, "hall-far", 116.3330, 39.8700)
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(Event, events.append)
    register = PremisesRegister(engine)
    outages = Outages(UnitsOfWork(engine, bus), register, clock=lambda: NOW)
    return City(engine, outages, register, events)


def notices(engine: Engine, outage_id: uuid.UUID) -> list[Notification]:
    with Session(engine) as session:
        rows = session.scalars(
            select(Notification).where(Notification.outage_id == outage_id)
        ).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def test_a_drawn_outage_finds_its_premises_customers_and_halls(migrated: Engine) -> None:
    city = make_city(migrated)
    drawn = box(116.362, 39.910, 116.370, 39.918)
    inside = [
        builders.household(migrated, 116.364, 39.912, ["13800000001"]),
        builders.household(migrated, 116.368, 39.916, ["13800000002", "13800000003"]),
        builders.household(migrated, 116.366, 39.914, ["13800000004"], opted_out=["13800000004"]),
    ]
    # A second flat of the first customer, also inside: still one text for that customer.
    second_flat = builders.household(
        migrated, 116.3645, 39.9125, ["13800000001"], customer_id=inside[0].customer_id
    )
    builders.household(migrated, 116.370, 39.914, ["13800000005"])  # on the boundary
    builders.household(migrated, 116.380, 39.914, ["13800000006"])  # outside
    declared = city.outages.declare_area(
        drawn,
        kind=OutageKind.WATER_OFF,
        title=("阜成门内大街停水", "Water off on Fuchengmennei Street"),
        restore_at=NOW + timedelta(hours=4),
    )
    assert declared.affected_premises == 4
    assert declared.halls == ("hall-near",)  # hall-far is 5 km away; the radius is 3 km
    assert (declared.notices_queued, declared.notices_opted_out) == (2, 1)
    count, page = city.outages.affected(declared.outage_id, limit=10)
    assert count == 4
    assert {p.id for p in page} == {h.premises_id for h in (*inside, second_flat)}
    assert all(p.address_zh.startswith("北京市西城区") for p in page)
    sent_to = {n.customer_id: (n.phone, n.status) for n in notices(migrated, declared.outage_id)}
    assert sent_to == {
        inside[0].customer_id: ("13800000001", NotificationStatus.PENDING),
        inside[1].customer_id: ("13800000002", NotificationStatus.PENDING),
        inside[2].customer_id: ("13800000004", NotificationStatus.OPTED_OUT),
    }
    (event,) = [e for e in city.events if isinstance(e, OutageDeclared)]
    assert (event.outage_id, event.halls, event.affected_premises, event.notices_queued) == (
        declared.outage_id,
        ("hall-near",),
        4,
        2,
    )
    with Session(migrated) as session:
        outage = session.get_one(Outage, declared.outage_id)
        assert outage.status is OutageStatus.ACTIVE and outage.starts_at == NOW
        assert '"Polygon"' in outage.area_geojson


def test_a_burst_main_takes_out_its_dma_or_a_circle_clipped_to_it(sqlite_db: Engine) -> None:
    city = make_city(sqlite_db)
    burst = (116.3500, 39.9200)  # in DMA-NW
    near = builders.household(sqlite_db, *north_of(*burst, 100))
    mid = builders.household(sqlite_db, *north_of(*burst, 250))
    builders.household(sqlite_db, *north_of(*burst, 400))  # same DMA, outside 300 m
    builders.household(sqlite_db, MID_LON + 0.001, 39.9200)  # next DMA, 900 m east
    whole = city.outages.declare_burst(*burst, notify=False)
    assert whole.districts == ("DMA-NW",) and whole.affected_premises == 3
    local = city.outages.declare_burst(*burst, radius_m=300)
    assert local.affected_premises == 2 and local.notices_queued == 2
    count, page = city.outages.affected(local.outage_id)
    assert count == 2 and {p.id for p in page} == {near.premises_id, mid.premises_id}
    # A circle near the border stays in its DMA: the neighbour is fed through its own inlets.
    edge = city.outages.declare_burst(MID_LON - 0.001, 39.92, radius_m=500, notify=False)
    assert edge.affected_premises == 0 and edge.area.bounds[2] <= MID_LON + 1e-9
    with pytest.raises(BurstOutsideNetwork):
        city.outages.declare_burst(116.50, 39.92)


def test_drawn_areas_are_repaired_or_refused(sqlite_db: Engine) -> None:
    city = make_city(sqlite_db)
    builders.household(sqlite_db, 116.3625, 39.9125)
    builders.household(sqlite_db, 116.3675, 39.9125)
    # A bow tie, as a hurried hand draws it: two lobes, each holding one premises.
    bow_tie = Polygon([(116.36, 39.91), (116.37, 39.915), (116.37, 39.91), (116.36, 39.915)])
    declared = city.outages.declare_area(
        bow_tie, kind=OutageKind.LOW_PRESSURE, title=("降压", "Low pressure"), notify=False
    )
    assert declared.affected_premises == 2
    geojson = '{"type":"Polygon","coordinates":[[[116.36,39.91],[116.37,39.91],[116.37,39.92],[116.36,39.91]]]}'
    assert (
        city.outages.declare_area(
            geojson, kind=OutageKind.WATER_OFF, title=("停水", "Water off"), notify=False
        ).affected_premises
        == 1
    )
    for bad in (
        '{"type":"Point","coordinates":[116.36,39.91]}',
        '{"type":"Polygon","coordinates":[[[39.91,116.36],[39.92,116.37],[39.90,116.37],[39.91,116.36]]]}',
    ):
        with pytest.raises(ValueError):
            city.outages.declare_area(bad, kind=OutageKind.WATER_OFF, title=("x", "x"))
    assert issubclass(InvalidArea, ValueError)


def test_the_register_reloads_when_the_premises_change(sqlite_db: Engine) -> None:
    builders.central_site(sqlite_db)
    clock = [0.0]
    register = PremisesRegister(
        sqlite_db, check_every=timedelta(seconds=60), monotonic=lambda: clock[0]
    )
    area = box(116.36, 39.91, 116.37, 39.92)
    builders.household(sqlite_db, 116.365, 39.915)
    register.ensure_fresh()
    assert register.affected_count(area) == 1 and register.loads == 1
    builders.household(sqlite_db, 116.366, 39.916)
    clock[0] = 30.0
    register.ensure_fresh()  # checked a minute at most: not yet
    assert register.affected_count(area) == 1
    clock[0] = 61.0
    register.ensure_fresh()
    assert register.affected_count(area) == 2 and register.loads == 2
    clock[0] = 200.0
    register.ensure_fresh()  # nothing changed: no reload
    assert register.loads == 2
    register.refresh()
    assert register.loads == 3 and len(register) == 2


def test_restoring_tells_those_who_were_told_and_cancels_the_rest(migrated: Engine) -> None:
    city = make_city(migrated)
    told = builders.household(migrated, 116.364, 39.912, ["13800000011"])
    untold = builders.household(migrated, 116.365, 39.913, ["13800000012"])
    declared = city.outages.declare_area(
        box(116.36, 39.91, 116.37, 39.92), kind=OutageKind.WATER_OFF, title=("停水", "Water off")
    )
    with Session(migrated) as session, session.begin():  # the sender reached one of them
        row = session.scalars(
            select(Notification).where(Notification.customer_id == told.customer_id)
        ).one()
        row.status, row.sent_at = NotificationStatus.SENT, NOW
    restored = city.outages.restore(declared.outage_id)
    assert isinstance(restored, OutageRestored) and restored.halls == ("hall-near",)
    assert restored.notices_queued == 1
    by_kind = {(n.customer_id, n.kind): n.status for n in notices(migrated, declared.outage_id)}
    assert by_kind == {
        (told.customer_id, NotificationKind.OUTAGE_DECLARED): NotificationStatus.SENT,
        (untold.customer_id, NotificationKind.OUTAGE_DECLARED): NotificationStatus.CANCELLED,
        (told.customer_id, NotificationKind.OUTAGE_RESTORED): NotificationStatus.PENDING,
    }
    with Session(migrated) as session:
        outage = session.get_one(Outage, declared.outage_id)
        assert outage.status is OutageStatus.RESTORED and outage.restored_at == NOW
    with pytest.raises(ValueError, match="already restored"):
        city.outages.restore(declared.outage_id)


def test_a_notice_is_queued_once_per_customer_outage_and_kind(sqlite_db: Engine) -> None:
    city = make_city(sqlite_db)
    homes = [builders.household(sqlite_db, 116.364 + i * 1e-3, 39.912) for i in range(3)]
    declared = city.outages.declare_area(
        box(116.36, 39.91, 116.37, 39.92), kind=OutageKind.WATER_OFF, title=("停水", "Water off")
    )
    with Session(sqlite_db) as session, session.begin():
        again = queue_for_premises(
            session,
            outage_id=declared.outage_id,
            premises_ids=[h.premises_id for h in homes],
            kind=NotificationKind.OUTAGE_DECLARED,
            text="重复 / again",
            now=NOW,
        )
    assert (again.pending, again.opted_out, again.already) == (0, 0, 3)
    assert len(notices(sqlite_db, declared.outage_id)) == 3


def test_the_text_is_chinese_first_in_beijing_time() -> None:
    outage = Outage(
        kind=OutageKind.WATER_OFF,
        title_zh="金融大街供水管道更换",
        title_en="Main replacement on Jinrong Street",
        starts_at=NOW,
        estimated_restore_at=NOW + timedelta(hours=8),
    )
    text = notice_text(NotificationKind.OUTAGE_DECLARED, outage, ZoneInfo("Asia/Shanghai"))
    assert text == (
        "停水通知：金融大街供水管道更换，11月23日09:00起，预计11月23日17:00恢复。 "
        "Water off: Main replacement on Jinrong Street, from 23 Nov 09:00, expected back by "
        "23 Nov 17:00. 回复TD退订 / Reply TD to opt out"
    )
    back = notice_text(NotificationKind.OUTAGE_RESTORED, outage, ZoneInfo("Asia/Shanghai"))
    assert back.startswith("恢复供水：金融大街供水管道更换") and "Service restored" in back
