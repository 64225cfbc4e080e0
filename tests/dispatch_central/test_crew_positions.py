"""Crew positions from gps_fixes: the newest per technician, stale after a silence, depot fallback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from domain.crew_positions import DbCrewPositions
from domain.dispatch_planning import DispatchPlanner
from domain.work_orders import WorkOrders
from servicedb.models import GpsFix, Technician
from tests.dispatch_central.builders import (
    CENTRAL,
    CREWS,
    MONDAY_10,
    Clock,
    build_city,
    listening_units,
)

pytestmark = pytest.mark.integration


def fix(session: Session, user: str, minutes_ago: float, lon: float, lat: float) -> None:
    technician = session.scalars(select(Technician).where(Technician.tracker_user == user)).one()
    session.add(
        GpsFix(
            technician_id=technician.id,
            fix_at=MONDAY_10 - timedelta(minutes=minutes_ago),
            lon=lon,
            lat=lat,
            accuracy_m=8.0,
            speed_kmh=24.0,
            course_deg=90.0,
            source="owntracks",
        )
    )


def test_newest_fix_per_technician_and_staleness(migrated: Engine) -> None:
    build_city(migrated)
    with Session(migrated) as session, session.begin():
        fix(session, "crew-burst-1", 30, 116.30, 39.90)  # older fix of the same phone
        fix(session, "crew-burst-1", 1, 116.3655, 39.9213)
        fix(session, "crew-burst-2", 12, 116.3600, 39.9100)  # silent for 12 minutes
        fix(session, "crew-meter-1", 60 * 30, 116.34, 39.93)  # beyond the 24 h horizon
    positions = DbCrewPositions(migrated, clock=Clock())
    latest = {p.tracker_user: p for p in positions.latest()}
    assert set(latest) == {"crew-burst-1", "crew-burst-2"}
    live, quiet = latest["crew-burst-1"], latest["crew-burst-2"]
    assert (live.lon, live.lat, live.stale) == (116.3655, 39.9213, False)
    assert live.fix_at == MONDAY_10 - timedelta(minutes=1) and live.speed_kmh == 24.0
    assert quiet.stale and quiet.age_s(MONDAY_10) == 12 * 60


def test_the_planner_places_a_crew_by_its_live_phone_or_else_its_depot(sqlite_db: Engine) -> None:
    build_city(sqlite_db)
    with Session(sqlite_db) as session, session.begin():
        fix(session, "crew-burst-1", 2, 116.3655, 39.9213)
        fix(session, "crew-meter-1", 20, 116.3500, 39.9000)  # stale: not trusted
    clock = Clock()
    units, _heard = listening_units(sqlite_db)
    planner = DispatchPlanner(
        WorkOrders(units, CENTRAL, clock=clock), DbCrewPositions(sqlite_db, clock=clock)
    )
    crews = {c.crew.code: c for c in planner.crews()}
    assert (crews["crew-burst"].lon, crews["crew-burst"].lat, crews["crew-burst"].located_by) == (
        116.3655, 39.9213, "gps",
    )  # fmt: skip
    meter = crews["crew-meter"]
    assert (meter.lon, meter.lat) == CREWS["crew-meter"][0] and meter.located_by == "depot"
    assert meter.stale and meter.fix_at == MONDAY_10 - timedelta(minutes=20)
    desk = crews["crew-desk"]
    assert desk.located_by == "depot" and not desk.stale and desk.fix_at is None
    assert crews["crew-burst"].core.skills == frozenset({"burst_main", "leak", "no_water"})
