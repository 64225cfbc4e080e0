"""Assignment: the best crew now, and the backlog plan's rules, pins and optimality."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from field_dispatch.assign import (
    Activity,
    Choice,
    CrewNow,
    NoCrew,
    OpenOrder,
    Pin,
    PinProblem,
    Source,
    UnassignedReason,
    Unfit,
    Weights,
    best_crew_now,
    plan_backlog,
)
from field_dispatch.vocabulary import Category

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
END = NOW + timedelta(hours=8)
LEAK, METER, BURST = Category.LEAK, Category.METER_FAULT, Category.BURST_MAIN


def crew(name: str, *skills: Category, **kw: object) -> CrewNow:
    fields: dict[str, object] = {"on_duty": True, "shift_ends_at": END, **kw}
    return CrewNow(name, frozenset(skills), **fields)  # type: ignore[arg-type]


@pytest.mark.unit
def test_the_nearest_qualified_free_crew_goes() -> None:
    order = OpenOrder("o1", LEAK, 2, arrive_by=NOW + timedelta(minutes=45))
    crews = [
        crew("near-no-skill", METER),
        crew("far", LEAK),
        crew("near", LEAK),
        crew("off", LEAK, on_duty=False),
    ]
    choice = best_crew_now(order, crews, [60, 1500, 600, 10], NOW)
    assert isinstance(choice, Choice) and choice.crew_id == "near"
    assert choice.runners_up[0][0] == "far"


@pytest.mark.unit
def test_lateness_against_the_sla_outweighs_a_lighter_load() -> None:
    order = OpenOrder("o1", LEAK, 2, arrive_by=NOW + timedelta(minutes=20))
    crews = [crew("busy-near", LEAK, load=2), crew("idle-far", LEAK)]
    # busy-near: 900 s + 2 × 900; idle-far: 1500 s is 300 s late → 1500 + 10 × 300.
    choice = best_crew_now(order, crews, [900, 1500], NOW)
    assert isinstance(choice, Choice) and choice.crew_id == "busy-near"
    assert choice.score == 2700


@pytest.mark.unit
def test_a_p1_may_pull_a_crew_en_route_to_a_minor_order_but_never_one_on_site() -> None:
    order = OpenOrder("burst", BURST, 1, arrive_by=NOW + timedelta(minutes=30))
    crews = [
        crew("on-site", BURST, activity=Activity.ON_SITE, current_order_id="x", current_priority=5),
        crew("to-p2", BURST, activity=Activity.EN_ROUTE, current_order_id="y", current_priority=2),
        crew("to-p4", BURST, activity=Activity.EN_ROUTE, current_order_id="z", current_priority=4),
        crew("idle-far", BURST),
    ]
    choice = best_crew_now(order, crews, [60, 120, 300, 2400], NOW)
    assert isinstance(choice, Choice)
    assert (choice.crew_id, choice.preempts) == ("to-p4", "z")
    minor = OpenOrder("m", BURST, 3)
    choice = best_crew_now(minor, crews, [60, 120, 300, 2400], NOW)
    assert isinstance(choice, Choice) and choice.crew_id == "idle-far"


@pytest.mark.unit
def test_no_crew_says_why() -> None:
    order = OpenOrder("o1", METER, 4, work_s=3600)
    assert best_crew_now(order, [crew("a", LEAK)], [100], NOW) == NoCrew(
        "o1", UnassignedReason.NO_QUALIFIED_CREW, {"a": Unfit.NO_SKILL}
    )
    late_shift = crew("b", METER, shift_ends_at=NOW + timedelta(minutes=30))
    outcome = best_crew_now(
        order, [crew("a", LEAK), late_shift, crew("c", METER)], [1, 1, np.inf], NOW
    )
    assert isinstance(outcome, NoCrew) and outcome.reason is UnassignedReason.SHIFTS_TOO_SHORT
    assert outcome.why == {"a": Unfit.NO_SKILL, "b": Unfit.SHIFT_ENDS, "c": Unfit.UNREACHABLE}


def backlog() -> tuple[list[OpenOrder], list[CrewNow], np.ndarray]:
    orders = [
        OpenOrder("p1", LEAK, 1),
        OpenOrder("p3", LEAK, 3),
        OpenOrder("meter", METER, 4),
        OpenOrder("telecom", Category.LINE_FAULT, 3),
        OpenOrder("kept", LEAK, 3),
    ]
    crews = [
        crew("a", LEAK),
        crew("b", LEAK, METER),
        crew("c", LEAK, activity=Activity.EN_ROUTE, current_order_id="kept", current_priority=3),
    ]
    eta = np.array(
        [
            [600, 300, 900, 900, 900],
            [900, 600, 300, 900, 900],
            [100, 100, 100, 100, 500],
        ],
        dtype=float,
    )
    return orders, crews, eta


@pytest.mark.unit
def test_backlog_plan_keeps_crews_en_route_and_explains_the_rest() -> None:
    orders, crews, eta = backlog()
    plan = plan_backlog(orders, crews, eta, NOW)
    by_order = {a.order_id: (a.crew_id, a.source) for a in plan.assignments}
    assert by_order == {
        "kept": ("c", Source.KEPT),
        "p1": ("a", Source.OPTIMISED),
        "p3": ("b", Source.OPTIMISED),
    }
    reasons = {u.order_id: u.reason for u in plan.unassigned}
    assert reasons == {
        "meter": UnassignedReason.CREWS_TAKEN,
        "telecom": UnassignedReason.NO_QUALIFIED_CREW,
    }


@pytest.mark.unit
def test_a_pin_wins_over_the_optimiser_and_says_which_rule_it_overrode() -> None:
    orders, crews, eta = backlog()
    plan = plan_backlog(orders, crews, eta, NOW, [Pin("telecom", "a")])
    telecom = next(a for a in plan.assignments if a.order_id == "telecom")
    assert (telecom.crew_id, telecom.source, telecom.overridden) == (
        "a",
        Source.PINNED,
        (Unfit.NO_SKILL,),
    )
    assert plan.crew_of("p1") == "b"  # the optimiser works around the pin


@pytest.mark.unit
def test_pins_that_cannot_be_carried_out_are_refused_and_planning_goes_on() -> None:
    orders, crews, eta = backlog()
    pins = [Pin("p1", "c"), Pin("p3", "a"), Pin("meter", "a"), Pin("ghost", "a"), Pin("p1", "zed")]
    plan = plan_backlog(orders, crews, eta, NOW, pins)
    assert [(r.pin, r.problem) for r in plan.refused_pins] == [
        (Pin("p1", "c"), PinProblem.CREW_BUSY),
        (Pin("meter", "a"), PinProblem.CREW_TAKEN),
        (Pin("ghost", "a"), PinProblem.UNKNOWN_ORDER),
        (Pin("p1", "zed"), PinProblem.UNKNOWN_CREW),
    ]
    assert plan.crew_of("kept") == "c" and plan.crew_of("p3") == "a" and plan.crew_of("p1") == "b"


@pytest.mark.unit
def test_a_dispatcher_may_move_an_order_off_a_crew_en_route() -> None:
    orders, crews, eta = backlog()
    plan = plan_backlog(orders, crews, eta, NOW, [Pin("kept", "a")])
    assert plan.crew_of("kept") == "a"
    assert all(a.crew_id != "c" for a in plan.assignments)  # c is still on its way: not re-planned


@pytest.mark.unit
def test_a_crew_keeps_its_order_unless_the_gain_is_worth_the_churn() -> None:
    orders = [OpenOrder("x", LEAK, 3), OpenOrder("y", LEAK, 3)]
    crews = [
        crew("a", LEAK, activity=Activity.ASSIGNED, current_order_id="x"),
        crew("b", LEAK, activity=Activity.ASSIGNED, current_order_id="y"),
    ]
    small_gain = np.array([[500, 400], [400, 500]], dtype=float)  # swapping saves 200 s
    assert plan_backlog(orders, crews, small_gain, NOW).crew_of("x") == "a"
    big_gain = np.array([[1500, 400], [400, 1500]], dtype=float)
    assert plan_backlog(orders, crews, big_gain, NOW).crew_of("x") == "b"


# --- properties ---------------------------------------------------------------------------

SMALL_CATS = [LEAK, METER, BURST]


@st.composite
def instances(
    draw: st.DrawFn,
) -> tuple[list[OpenOrder], list[CrewNow], np.ndarray, list[Pin]]:
    n_orders = draw(st.integers(1, 6))
    n_crews = draw(st.integers(1, 5))
    orders = [
        OpenOrder(
            f"o{j}",
            draw(st.sampled_from(SMALL_CATS)),
            draw(st.integers(1, 5)),
            arrive_by=NOW + timedelta(minutes=draw(st.integers(5, 120))),
            work_s=draw(st.sampled_from([600.0, 3600.0])),
        )
        for j in range(n_orders)
    ]
    crews = []
    for i in range(n_crews):
        activity = draw(st.sampled_from(list(Activity)))
        current = draw(st.none() | st.sampled_from([o.order_id for o in orders] + ["elsewhere"]))
        crews.append(
            CrewNow(
                f"c{i}",
                frozenset(draw(st.sets(st.sampled_from(SMALL_CATS), max_size=3))),
                on_duty=draw(st.booleans()),
                shift_ends_at=NOW + timedelta(minutes=draw(st.integers(0, 480))),
                activity=activity,
                current_order_id=current if activity is not Activity.IDLE else None,
            )
        )
    cells = st.one_of(st.integers(0, 7200).map(float), st.just(float("inf")), st.just(float("nan")))
    eta = np.array(
        draw(st.lists(cells, min_size=n_orders * n_crews, max_size=n_orders * n_crews)), dtype=float
    ).reshape(n_crews, n_orders)
    pins = draw(
        st.lists(
            st.builds(
                Pin,
                st.sampled_from([o.order_id for o in orders] + ["ghost"]),
                st.sampled_from([c.crew_id for c in crews]),
            ),
            max_size=3,
        )
    )
    return orders, crews, eta, pins


@pytest.mark.unit
@settings(max_examples=300, deadline=None)
@given(instances())
def test_plan_properties(
    case: tuple[list[OpenOrder], list[CrewNow], np.ndarray, list[Pin]],
) -> None:
    orders, crews, eta, pins = case
    plan = plan_backlog(orders, crews, eta, NOW, pins)
    assigned = [a.order_id for a in plan.assignments]
    left = [u.order_id for u in plan.unassigned]
    # Every order is either assigned once or listed with a reason; no crew gets two.
    assert sorted(assigned + left) == sorted(o.order_id for o in orders)
    assert len({a.crew_id for a in plan.assignments}) == len(plan.assignments)
    by_id = {c.crew_id: c for c in crews}
    order_by_id = {o.order_id: o for o in orders}
    refused = {r.pin for r in plan.refused_pins}
    for a in plan.assignments:
        c, o = by_id[a.crew_id], order_by_id[a.order_id]
        if a.source is Source.OPTIMISED:
            # The optimiser never sends an unqualified, off-duty, busy or out-of-shift crew.
            assert (
                o.category in c.skills
                and c.on_duty
                and c.activity in (Activity.IDLE, Activity.ASSIGNED)
            )
            assert np.isfinite(a.eta_s)
            assert a.eta_s + o.work_s <= (c.shift_ends_at - NOW).total_seconds()
    # Crews en route or on site are never given another order.
    for c in crews:
        if c.activity in (Activity.EN_ROUTE, Activity.ON_SITE):
            theirs = [a for a in plan.assignments if a.crew_id == c.crew_id]
            assert all(a.order_id == c.current_order_id for a in theirs)
    # Every pin is either honoured or refused with a reason.
    for pin in pins:
        assert pin in refused or plan.crew_of(pin.order_id) == pin.crew_id


def brute_force(
    orders: list[OpenOrder], crews: list[CrewNow], eta: np.ndarray, weights: Weights
) -> tuple[int, float]:
    """(most feasible pairs, least cost among those) over every matching of idle crews."""
    rows = range(len(crews))
    best = (0, 0.0)

    def ok(i: int, j: int) -> bool:
        c, o = crews[i], orders[j]
        return (
            o.category in c.skills
            and c.on_duty
            and np.isfinite(eta[i, j])
            and eta[i, j] + o.work_s <= (c.shift_ends_at - NOW).total_seconds()
        )

    def cost(i: int, j: int) -> float:
        o = orders[j]
        slack = (o.arrive_by - NOW).total_seconds() if o.arrive_by else float("inf")
        return float(
            eta[i, j]
            + weights.late_per_s * max(0.0, eta[i, j] - slack)
            - weights.unserved_s[o.priority]
        )

    for k in range(1, min(len(crews), len(orders)) + 1):
        for chosen in itertools.combinations(rows, k):
            for columns in itertools.permutations(range(len(orders)), k):
                pairs = list(zip(chosen, columns, strict=True))
                if all(ok(i, j) for i, j in pairs):
                    total = sum(cost(i, j) for i, j in pairs)
                    if k > best[0] or (k == best[0] and total < best[1]):
                        best = (k, total)
    return best


@pytest.mark.unit
@settings(max_examples=150, deadline=None)
@given(instances())
def test_the_optimiser_matches_exhaustive_search(
    case: tuple[list[OpenOrder], list[CrewNow], np.ndarray, list[Pin]],
) -> None:
    orders, crews, eta, _ = case
    crews = [
        CrewNow(c.crew_id, c.skills, c.on_duty, c.shift_ends_at) for c in crews
    ]  # idle, no pins: the optimiser alone
    plan = plan_backlog(orders, crews, eta, NOW)
    count, cost = brute_force(orders, crews, eta, Weights())
    assert len(plan.assignments) == count
    assert plan.objective == pytest.approx(cost, abs=1e-6)


def load_bench(name: str) -> ModuleType:
    folder = Path(__file__).resolve().parents[2] / "bench"
    sys.path.insert(0, str(folder))
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.unit
def test_the_bench_harness_in_miniature(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench("dispatch_assign")
    figures = bench.run(120, 40, seed=3, repeat=1)
    assert figures["gap"] == pytest.approx(0.0, abs=1e-9)
    assert figures["ours"] <= figures["greedy"]
    assert "gap to the optimum" in capsys.readouterr().out
