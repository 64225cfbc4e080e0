"""Suggestions, a dispatcher's pick, and plans for the backlog — with a dispatcher in the way."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine

from domain.crew_positions import DbCrewPositions
from domain.dispatch_events import WorkOrderFlagged
from domain.dispatch_planning import DispatchPlanner
from domain.work_orders import Intake, Who, WorkOrders
from field_dispatch.vocabulary import Actor, Category
from tests.dispatch_central.builders import (
    CENTRAL,
    CREWS,
    City,
    Clock,
    Heard,
    build_city,
    listening_units,
)

pytestmark = pytest.mark.integration
DISPATCHER = Who(Actor.DISPATCHER, "D001")


Rig = tuple[DispatchPlanner, City, Heard]


@pytest.fixture
def rig(sqlite_db: Engine) -> Rig:
    city = build_city(sqlite_db)
    units, heard = listening_units(sqlite_db)
    clock = Clock()
    orders = WorkOrders(units, CENTRAL, clock=clock)
    return DispatchPlanner(orders, DbCrewPositions(sqlite_db, clock=clock)), city, heard


def near(crew: str, category: Category, text: str = "报修") -> Intake:
    """An order a few hundred metres from a crew's depot."""
    (lon, lat), _skills = CREWS[crew]
    return Intake(category, text, "phone", lon=lon + 0.003, lat=lat - 0.002)


def open_order(planner: DispatchPlanner, intake: Intake) -> uuid.UUID:
    return planner.orders.open(intake, DISPATCHER).id


def test_the_nearest_qualified_crew_first_and_the_others_with_why_not(rig: Rig) -> None:
    planner, city, _heard = rig
    order_id = open_order(planner, near("crew-meter", Category.LEAK))
    suggestion = planner.suggest(order_id)
    assert suggestion.best is not None and suggestion.best.code == "crew-meter"
    codes = [(o.crew.code, o.fits, o.unfit) for o in suggestion.options]
    # Both leak crews fit, the nearer first; the desk crew has no leak skill.
    assert codes == [
        ("crew-meter", True, None),
        ("crew-burst", True, None),
        ("crew-desk", False, "no_skill"),
    ]
    meter, burst = suggestion.options[0], suggestion.options[1]
    assert meter.eta_s is not None and burst.eta_s is not None and 0 < meter.eta_s < burst.eta_s
    assert suggestion.no_crew_reason is None
    assert city.crews["crew-meter"] == suggestion.best.id


def test_an_order_no_crew_can_take_is_flagged_once_not_dropped(rig: Rig) -> None:
    planner, _city, heard = rig
    order_id = open_order(planner, near("crew-burst", Category.LINE_FAULT, "电话线路故障"))
    suggestion = planner.suggest(order_id)
    assert suggestion.best is None and suggestion.no_crew_reason == "no_qualified_crew"
    assert all(not o.fits and o.unfit == "no_skill" for o in suggestion.options)

    (line,) = planner.replan().lines
    assert (line.outcome, line.reason) == ("flagged", "no_qualified_crew")
    order = planner.orders.get(order_id)
    assert (order.status, order.flag_reason) == ("new", "no_qualified_crew")
    assert [e.reason for e in heard.of(WorkOrderFlagged)] == ["no_qualified_crew"]  # type: ignore[attr-defined]
    (again,) = planner.replan().lines  # still nobody: said again, flagged once
    assert (again.outcome, again.reason) == ("unassigned", "no_qualified_crew")
    assert [e.kind for e in planner.orders.timeline(order_id)] == ["opened", "flagged"]
    assert planner.orders.alerts()[0].kind == "flagged"


def test_a_dispatcher_may_set_a_rule_aside_and_is_told_which(rig: Rig) -> None:
    planner, city, _heard = rig
    order_id = open_order(planner, near("crew-burst", Category.METER_FAULT, "水表漏水"))
    assigned = planner.assign(order_id, city.crews["crew-burst"], DISPATCHER)
    assert assigned.overridden == ("no_skill",)
    assert assigned.change.order.status == "dispatched" and assigned.change.order.pinned


def test_the_backlog_is_planned_and_a_dispatchers_override_in_between_wins(rig: Rig) -> None:
    planner, city, _heard = rig
    x = open_order(planner, near("crew-meter", Category.LEAK, "X"))
    y = open_order(planner, near("crew-burst", Category.LEAK, "Y"))
    plan = planner.plan()
    assert {
        (line.number, line.outcome, line.crew.code if line.crew else None) for line in plan.lines
    } == {
        (planner.orders.get(x).number, "assign", "crew-meter"),
        (planner.orders.get(y).number, "assign", "crew-burst"),
    }
    # Before the plan is applied, the dispatcher sends crew-burst to X instead.
    planner.assign(x, city.crews["crew-burst"], DISPATCHER)
    outcomes = {line.order_id: (line.outcome, line.reason) for line in planner.apply(plan).lines}
    assert outcomes == {x: ("conflict", "order_changed"), y: ("conflict", "crew_changed")}
    assert planner.orders.get(x).crew.code == "crew-burst"  # type: ignore[union-attr]
    assert planner.orders.get(y).status == "new"

    # The next plan leaves the pinned order alone and gives Y the other leak crew.
    (line,) = planner.replan().lines
    assert (line.order_id, line.outcome, line.crew.code) == (y, "assigned", "crew-meter")  # type: ignore[union-attr]
    y_now = planner.orders.get(y)
    assert not y_now.pinned and y_now.crew.code == "crew-meter"  # type: ignore[union-attr]
    assert [e.actor_name for e in planner.orders.timeline(y)] == ["D001", "planner"]
    # A plan that finds nothing to change keeps what the planner already did.
    (kept,) = planner.replan().lines
    assert (kept.order_id, kept.outcome) == (y, "keep")


def test_the_crew_holding_an_order_is_not_penalised_for_holding_it(rig: Rig) -> None:
    planner, city, _heard = rig
    order_id = open_order(planner, near("crew-meter", Category.LEAK))
    planner.orders.dispatch(order_id, city.crews["crew-meter"], DISPATCHER)
    suggestion = planner.suggest(order_id)
    # Its one order is this one: it is still the nearest and the best, not "loaded".
    assert suggestion.best is not None and suggestion.best.code == "crew-meter"
