"""Day routes with VROOM and our greedy fallback: skills, windows, shifts, pins, reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from field_dispatch.assign import Pin, PinProblem, UnassignedReason
from field_dispatch.routes import RouteCrew, RouteOrder, RoutePlan, plan_routes
from field_dispatch.vocabulary import Category

START = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 08:30 in Beijing
LEAK, METER, LINE = Category.LEAK, Category.METER_FAULT, Category.LINE_FAULT
ENGINES = ["vroom", "greedy"]


def line_matrix(n: int, step_s: int = 600) -> np.ndarray:
    """Places on a straight road, ``step_s`` apart: travel time is the distance along it."""
    positions = np.arange(n) * step_s
    matrix: np.ndarray = np.abs(positions[:, None] - positions[None, :]).astype(float)
    return matrix


def hours(h: float) -> datetime:
    return START + timedelta(hours=h)


def crews() -> list[RouteCrew]:
    return [
        RouteCrew(
            "leak-crew",
            frozenset({LEAK}),
            start_index=0,
            available_at=START,
            shift_ends_at=hours(8),
            end_index=0,
        ),
        RouteCrew(
            "meter-crew",
            frozenset({METER}),
            start_index=5,
            available_at=START,
            shift_ends_at=hours(8),
            end_index=5,
        ),
    ]


def check(
    plan: RoutePlan, orders: list[RouteOrder], crew_list: list[RouteCrew], pins: list[Pin]
) -> None:
    """What every plan must satisfy, whichever engine made it."""
    by_id = {o.order_id: o for o in orders}
    crew_by_id = {c.crew_id: c for c in crew_list}
    pinned: dict[str, str] = {}
    for pin in pins:  # the first pin of an order holds; later ones are refused
        if pin.order_id in by_id and pin.crew_id in crew_by_id:
            pinned.setdefault(pin.order_id, pin.crew_id)
    seen = [s.order_id for r in plan.routes for s in r.stops]
    assert sorted(seen + [u.order_id for u in plan.unassigned]) == sorted(by_id)
    for route in plan.routes:
        c = crew_by_id[route.crew_id]
        for stop in route.stops:
            o = by_id[stop.order_id]
            if o.order_id in pinned:
                assert pinned[o.order_id] == c.crew_id
            else:
                assert o.category in c.skills
            if o.windows:
                assert any(a <= stop.start_at <= b for a, b in o.windows)
            assert stop.start_at >= stop.arrive_at >= c.available_at
            assert stop.done_at == stop.start_at + timedelta(seconds=o.service_s)
        if route.stops:
            assert route.stops[-1].done_at <= c.shift_ends_at


@pytest.mark.unit
@pytest.mark.parametrize("engine", ENGINES)
def test_skills_windows_and_the_unservable(engine: str) -> None:
    orders = [
        RouteOrder("leak-a", LEAK, 2, location_index=1, service_s=1800),
        RouteOrder(
            "leak-b", LEAK, 3, location_index=2, service_s=1800, windows=((hours(3), hours(4)),)
        ),
        RouteOrder("meter-a", METER, 4, location_index=4, service_s=1200),
        RouteOrder("telecom", LINE, 3, location_index=3),
        RouteOrder("missed", LEAK, 3, location_index=1, windows=((hours(-3), hours(-1)),)),
    ]
    plan = plan_routes(orders, crews(), line_matrix(6), START, engine=engine)
    check(plan, orders, crews(), [])
    assert plan.crew_of("leak-a") == "leak-crew" and plan.crew_of("leak-b") == "leak-crew"
    assert plan.crew_of("meter-a") == "meter-crew"
    assert {u.order_id: u.reason for u in plan.unassigned} == {
        "telecom": UnassignedReason.NO_QUALIFIED_CREW,
        "missed": UnassignedReason.NO_TIME_LEFT,
    }
    leak_b = next(s for r in plan.routes for s in r.stops if s.order_id == "leak-b")
    assert leak_b.start_at == hours(3)  # waited for the promised slot to open


@pytest.mark.unit
@pytest.mark.parametrize("engine", ENGINES)
def test_a_full_day_leaves_the_least_urgent_order(engine: str) -> None:
    orders = [
        RouteOrder(f"p{p}", LEAK, p, location_index=1, service_s=2 * 3600) for p in (5, 1, 3, 2, 4)
    ]
    plan = plan_routes(orders, crews(), line_matrix(6), START, engine=engine)
    check(plan, orders, crews(), [])
    # 8 h shift, 10 min there and back: three two-hour jobs fit, not four.
    assert plan.served == 3
    assert sorted(u.order_id for u in plan.unassigned) == ["p4", "p5"]
    assert all(u.reason is UnassignedReason.NO_TIME_LEFT for u in plan.unassigned)


@pytest.mark.unit
@pytest.mark.parametrize("engine", ENGINES)
def test_pins_override_skills_and_bad_pins_are_refused(engine: str) -> None:
    orders = [
        RouteOrder("meter-a", METER, 4, location_index=1, service_s=1200),
        RouteOrder("leak-a", LEAK, 3, location_index=4, service_s=1200),
    ]
    pins = [Pin("meter-a", "leak-crew"), Pin("meter-a", "meter-crew"), Pin("nope", "leak-crew")]
    plan = plan_routes(orders, crews(), line_matrix(6), START, pins, engine=engine)
    check(plan, orders, crews(), pins)
    assert plan.crew_of("meter-a") == "leak-crew"
    assert [(r.pin.order_id, r.problem) for r in plan.refused_pins] == [
        ("meter-a", PinProblem.ORDER_PINNED_TWICE),
        ("nope", PinProblem.UNKNOWN_ORDER),
    ]


@pytest.mark.unit
def test_a_crew_still_on_an_order_starts_there_when_it_is_free() -> None:
    busy = RouteCrew(
        "busy",
        frozenset({LEAK}),
        start_index=3,
        available_at=hours(1),
        shift_ends_at=hours(8),
        end_index=0,
    )
    orders = [RouteOrder("next", LEAK, 3, location_index=4, service_s=600)]
    plan = plan_routes(orders, [busy], line_matrix(6), START)
    stop = plan.routes[0].stops[0]
    assert stop.arrive_at == hours(1) + timedelta(seconds=600)


@st.composite
def instances(draw: st.DrawFn) -> tuple[list[RouteOrder], list[RouteCrew], np.ndarray, list[Pin]]:
    n_places = draw(st.integers(2, 8))
    coords = np.array(
        draw(st.lists(st.integers(0, 3000), min_size=n_places * 2, max_size=n_places * 2))
    )
    xy = coords.reshape(n_places, 2)
    durations = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2).astype(float)
    cats = [LEAK, METER]
    orders = []
    for j in range(draw(st.integers(1, 8))):
        windows: tuple[tuple[datetime, datetime], ...] = ()
        if draw(st.booleans()):
            begin = draw(st.integers(-2, 7))
            windows = ((hours(begin), hours(begin + draw(st.integers(1, 3)))),)
        orders.append(
            RouteOrder(
                f"o{j}",
                draw(st.sampled_from(cats)),
                draw(st.integers(1, 5)),
                location_index=draw(st.integers(0, n_places - 1)),
                service_s=draw(st.sampled_from([600, 1800, 3600])),
                windows=windows,
            )
        )
    crew_list = [
        RouteCrew(
            f"c{i}",
            frozenset(draw(st.sets(st.sampled_from(cats), max_size=2))),
            start_index=draw(st.integers(0, n_places - 1)),
            available_at=hours(draw(st.integers(0, 2))),
            shift_ends_at=hours(draw(st.integers(2, 9))),
            end_index=draw(st.none() | st.integers(0, n_places - 1)),
        )
        for i in range(draw(st.integers(1, 3)))
    ]
    pins = draw(
        st.lists(
            st.builds(
                Pin,
                st.sampled_from([o.order_id for o in orders]),
                st.sampled_from([c.crew_id for c in crew_list]),
            ),
            max_size=2,
        )
    )
    return orders, crew_list, durations, pins


@pytest.mark.unit
@settings(max_examples=40, deadline=None)
@given(instances(), st.sampled_from(ENGINES))
def test_route_properties(
    case: tuple[list[RouteOrder], list[RouteCrew], np.ndarray, list[Pin]], engine: str
) -> None:
    orders, crew_list, durations, pins = case
    plan = plan_routes(
        orders, crew_list, durations, START, pins, engine=engine, exploration_level=0, threads=1
    )
    check(plan, orders, crew_list, pins)
