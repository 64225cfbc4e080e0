"""Who goes where: the best crew for an urgent order now, and a plan for the backlog.

Work rules first, then objectives — the way Dynamics 365 Resource Scheduling Optimization
and Salesforce Field Service describe scheduling. A crew can take an order only if it
passes every rule, in this order (the first a crew fails is the reason it was not chosen):

1. **skill** — one of its technicians has the order's category as a skill;
2. **on duty**;
3. **free** — not en route to or on site at another order. A P1 order may pre-empt a crew
   *en route* to an order of priority 3 or lower (``Rules``); never a crew on site (a
   half-finished repair is left open in the street) nor one heading for a P1/P2;
4. **reachable** — a finite ETA (the travel-time matrix has NaN/inf where no route exists);
5. **shift** — ETA plus the expected work ends before the crew's shift does.

Among crews that pass, lower is better (seconds): ETA, plus ``late_per_s`` for every second
the crew would arrive after the order's SLA deadline, plus ``load_s`` for each order the crew
already holds, plus ``preempt_s`` for pulling a crew off its way. For the backlog, an order
left unserved costs ``unserved_s[priority]`` — orders outnumber crews, and this is what makes a
P1 worth a far longer drive than a P5 — and keeping a crew on the order it already has earns
``keep_s`` (a re-plan should not shuffle crews for a few seconds' gain).

``plan_backlog`` gives each free crew at most one order by linear assignment
(``scipy.optimize.linear_sum_assignment``) on that cost; pairs that break a rule cost
``_BIG`` and are dropped afterwards, so the solver first maximises the number of feasible
pairs and then minimises the cost. Crews en route or on site are never moved: the orders
they are working on stay with them (``Source.KEPT``). Dispatcher pins are honoured before
the optimiser runs, even against a soft rule (skill, duty, reach, shift: the dispatcher
may know better, and ``Assignment.overridden`` says which rules were set aside); a pin is
refused only when it cannot be carried out: an unknown order or crew, a crew pinned twice,
or a crew already en route or on site for another order. Every order comes back either
assigned or listed in ``Plan.unassigned`` with a reason.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from field_dispatch.vocabulary import Category

FloatArray = npt.NDArray[np.float64]

_BIG = 1e12  # an infeasible pair; larger than any sum of feasible costs


class Activity(enum.StrEnum):
    IDLE = "idle"
    ASSIGNED = "assigned"  # dispatched or accepted, not travelling yet: may be re-planned
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"


@dataclass(frozen=True)
class CrewNow:
    crew_id: str
    skills: frozenset[Category]
    on_duty: bool
    shift_ends_at: datetime
    activity: Activity = Activity.IDLE
    current_order_id: str | None = None
    current_priority: int | None = None
    load: int = 0  # open orders the crew holds (its current one included)


@dataclass(frozen=True)
class OpenOrder:
    order_id: str
    category: Category
    priority: int
    arrive_by: datetime | None = None  # the SLA's arrive deadline
    work_s: float = 3600.0  # expected time on site


@dataclass(frozen=True)
class Pin:
    """A dispatcher's override: this order goes to this crew, whatever the optimiser says."""

    order_id: str
    crew_id: str


@dataclass(frozen=True)
class Rules:
    allow_preemption: bool = True
    preempt_below: int = 3  # a P1 may pull a crew heading for an order of this priority or lower


def _default_unserved() -> Mapping[int, float]:
    return {1: 100_000.0, 2: 30_000.0, 3: 10_000.0, 4: 3_000.0, 5: 1_000.0}


@dataclass(frozen=True)
class Weights:
    late_per_s: float = 10.0
    load_s: float = 900.0
    preempt_s: float = 1800.0
    keep_s: float = 300.0
    unserved_s: Mapping[int, float] = field(default_factory=_default_unserved)


class Unfit(enum.IntEnum):
    """A rule a crew fails for an order, in the order the rules are checked."""

    NO_SKILL = 0
    OFF_DUTY = 1
    BUSY = 2
    UNREACHABLE = 3
    SHIFT_ENDS = 4


class UnassignedReason(enum.StrEnum):
    NO_QUALIFIED_CREW = "no_qualified_crew"  # no crew has the skill
    NO_CREW_ON_DUTY = "no_crew_on_duty"
    ALL_QUALIFIED_BUSY = "all_qualified_busy"
    UNREACHABLE = "unreachable"
    SHIFTS_TOO_SHORT = "shifts_too_short"
    CREWS_TAKEN = "crews_taken"  # crews could, but went to more urgent or nearer orders
    NO_TIME_LEFT = "no_time_left"  # day routes: no qualified crew's day has room for it


_REASON_BY_STAGE = (
    UnassignedReason.NO_QUALIFIED_CREW,
    UnassignedReason.NO_CREW_ON_DUTY,
    UnassignedReason.ALL_QUALIFIED_BUSY,
    UnassignedReason.UNREACHABLE,
    UnassignedReason.SHIFTS_TOO_SHORT,
    UnassignedReason.CREWS_TAKEN,
)


class Source(enum.StrEnum):
    PINNED = "pinned"
    KEPT = "kept"  # the crew is already en route or on site
    OPTIMISED = "optimised"


class PinProblem(enum.StrEnum):
    UNKNOWN_ORDER = "unknown_order"
    UNKNOWN_CREW = "unknown_crew"
    ORDER_PINNED_TWICE = "order_pinned_twice"
    CREW_TAKEN = "crew_taken"  # pinned to another order already, or working on one
    CREW_BUSY = "crew_busy"  # en route or on site for another order


@dataclass(frozen=True)
class Assignment:
    order_id: str
    crew_id: str
    eta_s: float
    late_s: float
    source: Source
    overridden: tuple[Unfit, ...] = ()


@dataclass(frozen=True)
class Unassigned:
    order_id: str
    reason: UnassignedReason


@dataclass(frozen=True)
class PinRefused:
    pin: Pin
    problem: PinProblem


@dataclass(frozen=True)
class Plan:
    assignments: tuple[Assignment, ...]
    unassigned: tuple[Unassigned, ...]
    refused_pins: tuple[PinRefused, ...]
    objective: float  # the optimised part's cost, in weighted seconds

    def crew_of(self, order_id: str) -> str | None:
        return next((a.crew_id for a in self.assignments if a.order_id == order_id), None)


@dataclass(frozen=True)
class Choice:
    order_id: str
    crew_id: str
    eta_s: float
    late_s: float
    score: float
    preempts: str | None = None  # the order the crew is pulled from
    runners_up: tuple[tuple[str, float], ...] = ()  # (crew, score), best first


@dataclass(frozen=True)
class NoCrew:
    order_id: str
    reason: UnassignedReason
    why: Mapping[str, Unfit]  # each crew's first failed rule


def _slack_s(order: OpenOrder, now: datetime) -> float:
    if order.arrive_by is None:
        return float("inf")
    return (order.arrive_by - now).total_seconds()


def _fails(
    order: OpenOrder, crew: CrewNow, eta_s: float, now: datetime, *, busy: bool
) -> tuple[Unfit, ...]:
    fails = []
    if order.category not in crew.skills:
        fails.append(Unfit.NO_SKILL)
    if not crew.on_duty:
        fails.append(Unfit.OFF_DUTY)
    if busy:
        fails.append(Unfit.BUSY)
    if not np.isfinite(eta_s) or eta_s < 0:
        fails.append(Unfit.UNREACHABLE)
    elif eta_s + order.work_s > (crew.shift_ends_at - now).total_seconds():
        fails.append(Unfit.SHIFT_ENDS)
    return tuple(fails)


def _may_preempt(order: OpenOrder, crew: CrewNow, rules: Rules) -> bool:
    return (
        rules.allow_preemption
        and order.priority == 1
        and crew.activity is Activity.EN_ROUTE
        and (crew.current_priority or 5) >= rules.preempt_below
    )


def best_crew_now(
    order: OpenOrder,
    crews: Sequence[CrewNow],
    eta_row: npt.ArrayLike,
    now: datetime,
    *,
    weights: Weights | None = None,
    rules: Rules | None = None,
) -> Choice | NoCrew:
    """The crew to send to one urgent order; ``eta_row[i]`` is crew i's travel time in seconds."""
    weights = weights or Weights()
    rules = rules or Rules()
    etas = np.asarray(eta_row, dtype=np.float64).reshape(-1)
    if etas.shape[0] != len(crews):
        raise ValueError(f"eta_row has {etas.shape[0]} entries for {len(crews)} crews")
    slack = _slack_s(order, now)
    scored: list[tuple[float, int, CrewNow, bool]] = []
    why: dict[str, Unfit] = {}
    for index, crew in enumerate(crews):
        working = crew.activity in (Activity.EN_ROUTE, Activity.ON_SITE)
        elsewhere = working and crew.current_order_id != order.order_id
        preempt = elsewhere and _may_preempt(order, crew, rules)
        fails = _fails(order, crew, float(etas[index]), now, busy=elsewhere and not preempt)
        if fails:
            why[crew.crew_id] = fails[0]
            continue
        eta = float(etas[index])
        score = (
            eta
            + weights.late_per_s * max(0.0, eta - slack)
            + weights.load_s * crew.load
            + (weights.preempt_s if preempt else 0.0)
        )
        scored.append((score, index, crew, preempt))
    if not scored:
        stage = max(why.values(), default=Unfit.NO_SKILL)
        return NoCrew(order.order_id, _REASON_BY_STAGE[stage], why)
    scored.sort(key=lambda item: (item[0], item[1]))
    score, index, crew, preempt = scored[0]
    eta = float(etas[index])
    return Choice(
        order_id=order.order_id,
        crew_id=crew.crew_id,
        eta_s=eta,
        late_s=max(0.0, eta - slack),
        score=score,
        preempts=crew.current_order_id if preempt else None,
        runners_up=tuple((c.crew_id, s) for s, _, c, _ in scored[1:4]),
    )


def plan_backlog(
    orders: Sequence[OpenOrder],
    crews: Sequence[CrewNow],
    eta: npt.ArrayLike,
    now: datetime,
    pins: Sequence[Pin] = (),
    *,
    weights: Weights | None = None,
) -> Plan:
    """One order per crew for the backlog; ``eta[i, j]`` is crew i's travel time to order j (s)."""
    weights = weights or Weights()
    matrix = np.asarray(eta, dtype=np.float64)
    if matrix.shape != (len(crews), len(orders)):
        raise ValueError(f"eta is {matrix.shape}, expected {(len(crews), len(orders))}")
    order_index = {o.order_id: j for j, o in enumerate(orders)}
    crew_index = {c.crew_id: i for i, c in enumerate(crews)}
    if len(order_index) != len(orders) or len(crew_index) != len(crews):
        raise ValueError("order and crew ids must be unique")

    assignments: list[Assignment] = []
    refused: list[PinRefused] = []
    crew_done = np.zeros(len(crews), dtype=bool)
    order_done = np.zeros(len(orders), dtype=bool)
    slack = np.array([_slack_s(o, now) for o in orders], dtype=np.float64)

    def record(i: int, j: int, source: Source, overridden: tuple[Unfit, ...] = ()) -> None:
        travel = float(matrix[i, j])
        late = max(0.0, travel - slack[j]) if np.isfinite(travel) else float("inf")
        assignments.append(
            Assignment(orders[j].order_id, crews[i].crew_id, travel, late, source, overridden)
        )
        crew_done[i] = True
        order_done[j] = True

    # Crews en route or on site keep the order they are working on.
    working = np.array(
        [c.activity in (Activity.EN_ROUTE, Activity.ON_SITE) for c in crews], dtype=bool
    )
    pinned_orders = {p.order_id for p in pins}
    for i, crew in enumerate(crews):
        j = order_index.get(crew.current_order_id or "")
        if (
            working[i]
            and j is not None
            and not order_done[j]  # two crews reporting the same order: the first keeps it
            and orders[j].order_id not in pinned_orders
        ):
            record(i, j, Source.KEPT)
        elif working[i]:
            crew_done[i] = True  # busy with something outside this plan, or pulled by a pin
        elif crew.activity is Activity.ASSIGNED and j is None:
            # Its order is not in this backlog, so it is not ours to re-plan: leave it be.
            working[i] = True
            crew_done[i] = True

    for pin in pins:
        j_pin = order_index.get(pin.order_id)
        i_pin = crew_index.get(pin.crew_id)
        problem = None
        if j_pin is None:
            problem = PinProblem.UNKNOWN_ORDER
        elif i_pin is None:
            problem = PinProblem.UNKNOWN_CREW
        elif order_done[j_pin]:
            problem = PinProblem.ORDER_PINNED_TWICE
        elif working[i_pin] and crews[i_pin].current_order_id != pin.order_id:
            problem = PinProblem.CREW_BUSY
        elif crew_done[i_pin] and not working[i_pin]:
            problem = PinProblem.CREW_TAKEN
        if problem is not None or j_pin is None or i_pin is None:
            refused.append(PinRefused(pin, problem or PinProblem.UNKNOWN_ORDER))
            continue
        fails = _fails(orders[j_pin], crews[i_pin], float(matrix[i_pin, j_pin]), now, busy=False)
        record(i_pin, j_pin, Source.PINNED, fails)

    # The optimiser: the rules as masks over every (crew, order) pair.
    categories = list(Category)
    cat_of_order = np.array([categories.index(o.category) for o in orders], dtype=np.intp)
    skill = np.array([[cat in c.skills for cat in categories] for c in crews], dtype=bool).reshape(
        len(crews), len(categories)
    )
    has_skill = skill[:, cat_of_order]
    on_duty = np.array([c.on_duty for c in crews], dtype=bool)[:, None]
    free = ~crew_done[:, None] & ~order_done[None, :]
    with np.errstate(invalid="ignore"):
        reachable = np.isfinite(matrix) & (matrix >= 0)
    shift_left = np.array([(c.shift_ends_at - now).total_seconds() for c in crews])
    work = np.array([o.work_s for o in orders], dtype=np.float64)
    safe_eta = np.where(reachable, matrix, 0.0)
    in_shift = safe_eta + work[None, :] <= shift_left[:, None]
    feasible = has_skill & on_duty & free & reachable & in_shift

    unserved = np.array([weights.unserved_s.get(o.priority, 0.0) for o in orders])
    late = np.maximum(safe_eta - slack[None, :], 0.0)
    cost = safe_eta + weights.late_per_s * late - unserved[None, :]
    for i, crew in enumerate(crews):
        j = order_index.get(crew.current_order_id or "")
        if j is not None:
            cost[i, j] -= weights.keep_s
    rows = np.flatnonzero(feasible.any(axis=1))
    cols = np.flatnonzero(feasible.any(axis=0))
    objective = 0.0
    if rows.size and cols.size:
        sub = np.where(feasible[np.ix_(rows, cols)], cost[np.ix_(rows, cols)], _BIG)
        r, c = linear_sum_assignment(sub)
        chosen = sub[r, c] < _BIG / 2
        objective = float(sub[r, c][chosen].sum())
        for i, j in zip(rows[r[chosen]], cols[c[chosen]], strict=True):
            record(int(i), int(j), Source.OPTIMISED)

    # Why each order left over was left over: the furthest rule any crew got it past.
    stage = has_skill.astype(np.int8)
    passed = has_skill & on_duty
    stage += passed
    passed = passed & ~working[:, None]
    stage += passed
    passed = passed & reachable
    stage += passed
    stage += passed & in_shift
    best_stage = stage.max(axis=0) if len(crews) else np.zeros(len(orders), dtype=np.int8)
    unassigned = tuple(
        Unassigned(orders[j].order_id, _REASON_BY_STAGE[int(best_stage[j])])
        for j in np.flatnonzero(~order_done).tolist()
    )
    return Plan(tuple(assignments), unassigned, tuple(refused), objective)
