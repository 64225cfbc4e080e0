"""KPIs per day and crew, on orders whose every time is set by hand and whose figures are
worked out below by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from domain.dispatch_kpis import kpis
from domain.work_order_commands import Cancel, FieldReport, ReportKind
from domain.work_orders import Intake, Who, WorkOrders
from field_dispatch.orders import Result
from field_dispatch.vocabulary import Actor, Category
from tests.dispatch_central.builders import CENTRAL, MONDAY_10, Clock, build_city, listening_units

pytestmark = pytest.mark.integration
D = Who(Actor.DISPATCHER, "D001")


def test_response_restore_sla_share_and_first_time_fix(sqlite_db: Engine) -> None:
    city = build_city(sqlite_db)
    units, _heard = listening_units(sqlite_db)
    clock = Clock()
    orders = WorkOrders(units, CENTRAL, clock=clock)
    burst, meter = city.crews["crew-burst"], city.crews["crew-meter"]
    n = iter(range(100))

    def at(minutes: int, order_id, crew, kind: ReportKind, result: Result | None = None) -> None:  # type: ignore[no-untyped-def]
        outcome = orders.report(
            FieldReport(
                f"m{next(n)}",
                order_id,
                crew,
                kind,
                MONDAY_10 + timedelta(minutes=minutes),
                "t",
                result,
            )
        )
        assert outcome.outcome == "applied"

    # O1, P1 burst main (arrive 30 min, restore 4 h): on site at 20 min, fixed at 2 h.
    o1 = orders.open(Intake(Category.BURST_MAIN, "O1", "phone", lon=116.36, lat=39.91), D).id
    orders.dispatch(o1, burst, D)
    at(20, o1, burst, ReportKind.ARRIVED)
    at(120, o1, burst, ReportKind.RESOLVED, Result.FIXED)
    # O2, P3 leak (arrive 1 h, restore 24 h): on site at 70 min (late), a temporary fix at 3 h.
    o2 = orders.open(Intake(Category.LEAK, "O2", "phone", lon=116.36, lat=39.91), D).id
    orders.dispatch(o2, meter, D)
    at(70, o2, meter, ReportKind.ARRIVED)
    at(180, o2, meter, ReportKind.RESOLVED, Result.TEMPORARY_FIX)
    # O3, P3 leak: dispatched, never reached; judged once its 24 h restore deadline passes.
    o3 = orders.open(Intake(Category.LEAK, "O3", "phone", lon=116.36, lat=39.91), D).id
    orders.dispatch(o3, burst, D)
    # O4: cancelled, left out.
    o4 = orders.open(Intake(Category.ENQUIRY, "O4", "phone", lon=116.36, lat=39.91), D).id
    orders.command(o4, Cancel("重复来电"), D)

    with orders.reading() as session:
        rows = kpis(
            session, date(2026, 11, 23), date(2026, 11, 23), MONDAY_10 + timedelta(hours=26)
        )
    day, crew_burst, crew_meter = rows
    # All crews: 3 orders; responses 20 and 70 min → mean 45 min; restores 2 h and 3 h → 2.5 h;
    # SLA judged 3 (O1, O2 resolved; O3 past its deadline), met 1 (O1); first-time fix 1 of 2.
    assert (day.day, day.crew_code, day.orders) == (date(2026, 11, 23), None, 3)
    assert (day.responded, day.mean_response_s) == (2, 45 * 60)
    assert (day.restored, day.mean_restore_s) == (2, 2.5 * 3600)
    assert (day.sla_judged, day.sla_met, day.first_fix_judged, day.first_time_fixes) == (3, 1, 2, 1)
    assert day.sla_share == pytest.approx(1 / 3) and day.first_time_fix_share == 0.5
    # crew-burst: O1 and O3. crew-meter: O2.
    assert (crew_burst.crew_code, crew_burst.orders, crew_burst.mean_response_s) == (
        "crew-burst",
        2,
        20 * 60,
    )
    assert (crew_burst.sla_judged, crew_burst.sla_met, crew_burst.first_time_fix_share) == (
        2,
        1,
        1.0,
    )
    assert (crew_meter.crew_code, crew_meter.mean_restore_s, crew_meter.sla_share) == (
        "crew-meter",
        3 * 3600,
        0.0,
    )
    assert crew_meter.first_time_fix_share == 0.0

    # Asked while O3 is still inside its restore deadline, O3 is not judged yet.
    with orders.reading() as session:
        (early, *_crews) = kpis(
            session, date(2026, 11, 23), date(2026, 11, 23), MONDAY_10 + timedelta(hours=5)
        )
    assert (early.sla_judged, early.sla_met) == (2, 1)
