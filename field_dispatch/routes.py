"""Day routes: several orders per crew, with skills, priorities, time windows and shifts.

The engine is VROOM (pyvroom, the ``dispatch`` extra): it serves as many high-priority
orders as the crews' days allow, then minimises travel. Our plain cheapest-insertion
heuristic (``engine="greedy"``) is the fallback where pyvroom is not installed, and the
baseline ``bench/dispatch_routes.py`` measures VROOM against.

The caller gives one travel-time matrix (seconds) over locations and says where each crew
starts (``start_index``: its depot, or the order it is on for a crew already en route or on
site — such a crew is never taken off that order: it enters the plan with ``available_at``
set to when it will be free there) and ends (``end_index``, or None for an open route).

Mapping onto VROOM: categories are skills (one integer each); a dispatcher's pin gives the
order a skill of its own that only the pinned crew has, so VROOM can put it nowhere else —
and, as in ``plan_backlog``, the pin sets the category skill aside. Priorities 1–5 map to
VROOM priorities 100/40/15/5/1: each level outweighs two orders of the next, so a P1 is
never dropped to fit in two P2s. Times are whole seconds from ``origin``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from field_dispatch.assign import Pin, PinProblem, PinRefused, Unassigned, UnassignedReason
from field_dispatch.vocabulary import Category

VROOM_PRIORITY: Mapping[int, int] = {1: 100, 2: 40, 3: 15, 4: 5, 5: 1}
DEFAULT_EXPLORATION = 2  # see bench/dispatch_routes.py for the time / cost trade
_PIN_SKILL_BASE = 1000


@dataclass(frozen=True)
class RouteCrew:
    crew_id: str
    skills: frozenset[Category]
    start_index: int
    available_at: datetime  # shift start, or when it is free from the order it is on
    shift_ends_at: datetime
    end_index: int | None = None


@dataclass(frozen=True)
class RouteOrder:
    order_id: str
    category: Category
    priority: int
    location_index: int
    service_s: int = 3600
    windows: tuple[tuple[datetime, datetime], ...] = ()  # promised visit slots; empty = any time


@dataclass(frozen=True)
class Stop:
    order_id: str
    arrive_at: datetime
    start_at: datetime  # after waiting for the order's window to open
    done_at: datetime


@dataclass(frozen=True)
class Route:
    crew_id: str
    stops: tuple[Stop, ...]
    travel_s: int


@dataclass(frozen=True)
class RoutePlan:
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    refused_pins: tuple[PinRefused, ...]
    engine: str
    solve_s: float

    @property
    def travel_s(self) -> int:
        return sum(r.travel_s for r in self.routes)

    @property
    def served(self) -> int:
        return sum(len(r.stops) for r in self.routes)

    def crew_of(self, order_id: str) -> str | None:
        return next(
            (r.crew_id for r in self.routes for s in r.stops if s.order_id == order_id), None
        )


@dataclass(frozen=True)
class _Problem:
    """Everything in whole seconds from the origin, with pins resolved to crew indices."""

    origin: datetime
    durations: npt.NDArray[np.int64]
    orders: Sequence[RouteOrder]
    crews: Sequence[RouteCrew]
    allowed: npt.NDArray[np.bool_]  # crews × orders: who may take what (skill or pin)
    pinned: Mapping[int, int]  # order index → crew index
    windows: Sequence[tuple[tuple[int, int], ...]]
    shifts: Sequence[tuple[int, int]]
    expired: frozenset[int]  # orders whose promised slots are all over


def _seconds(origin: datetime, at: datetime) -> int:
    return max(0, int((at - origin).total_seconds()))


def _prepare(
    orders: Sequence[RouteOrder],
    crews: Sequence[RouteCrew],
    durations: npt.ArrayLike,
    origin: datetime,
    pins: Sequence[Pin],
) -> tuple[_Problem, list[PinRefused]]:
    matrix = np.asarray(durations, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError("durations must be a square matrix over locations")
    size = matrix.shape[0]
    used = [o.location_index for o in orders] + [c.start_index for c in crews]
    used += [c.end_index for c in crews if c.end_index is not None]
    if any(not 0 <= index < size for index in used):
        raise ValueError("a location index is outside the durations matrix")
    # Unroutable pairs become a day's drive: feasible on paper, never worth taking.
    matrix = np.where(np.isfinite(matrix) & (matrix >= 0), matrix, 86_400.0)
    order_index = {o.order_id: j for j, o in enumerate(orders)}
    crew_index = {c.crew_id: i for i, c in enumerate(crews)}
    allowed = np.array(
        [[o.category in c.skills for o in orders] for c in crews], dtype=bool
    ).reshape(len(crews), len(orders))
    pinned: dict[int, int] = {}
    refused: list[PinRefused] = []
    for pin in pins:
        j = order_index.get(pin.order_id)
        i = crew_index.get(pin.crew_id)
        if j is None:
            refused.append(PinRefused(pin, PinProblem.UNKNOWN_ORDER))
        elif i is None:
            refused.append(PinRefused(pin, PinProblem.UNKNOWN_CREW))
        elif j in pinned:
            refused.append(PinRefused(pin, PinProblem.ORDER_PINNED_TWICE))
        else:
            pinned[j] = i
            allowed[:, j] = False
            allowed[i, j] = True
    # Slots already over are dropped; an order whose every slot is over cannot be served.
    windows = [
        tuple((_seconds(origin, a), _seconds(origin, b)) for a, b in o.windows if b > origin)
        for o in orders
    ]
    expired = frozenset(j for j, o in enumerate(orders) if o.windows and not windows[j])
    shifts = [(_seconds(origin, c.available_at), _seconds(origin, c.shift_ends_at)) for c in crews]
    problem = _Problem(
        origin,
        np.rint(matrix).astype(np.int64),
        orders,
        crews,
        allowed,
        pinned,
        windows,
        shifts,
        expired,
    )
    return problem, refused


def plan_routes(
    orders: Sequence[RouteOrder],
    crews: Sequence[RouteCrew],
    durations: npt.ArrayLike,
    origin: datetime,
    pins: Sequence[Pin] = (),
    *,
    engine: str = "vroom",
    exploration_level: int = DEFAULT_EXPLORATION,
    threads: int = 2,
) -> RoutePlan:
    """Routes for the day. ``engine``: "vroom" (default) or "greedy" (ours, no dependency)."""
    problem, refused = _prepare(orders, crews, durations, origin, pins)
    started = time.perf_counter()
    if engine == "vroom":
        routes, left = _solve_vroom(problem, exploration_level, threads)
    elif engine == "greedy":
        routes, left = _solve_greedy(problem)
    else:
        raise ValueError(f"unknown engine {engine!r}")
    elapsed = time.perf_counter() - started
    unassigned = tuple(
        Unassigned(
            orders[j].order_id,
            UnassignedReason.NO_TIME_LEFT
            if problem.allowed[:, j].any() or j in problem.expired
            else UnassignedReason.NO_QUALIFIED_CREW,
        )
        for j in sorted(left)
    )
    return RoutePlan(
        tuple(_route(problem, i, seq) for i, seq in enumerate(routes)),
        unassigned,
        tuple(refused),
        engine,
        elapsed,
    )


def _schedule(
    problem: _Problem, crew: int, sequence: Sequence[int]
) -> list[tuple[int, int, int]] | None:
    """(arrive, start, done) per stop in seconds, or None if a window or the shift is missed."""
    start_at, shift_end = problem.shifts[crew]
    here = problem.crews[crew].start_index
    clock = start_at
    times = []
    for j in sequence:
        order = problem.orders[j]
        clock += int(problem.durations[here, order.location_index])
        arrive = clock
        windows = problem.windows[j]
        if windows:
            begin = next((max(arrive, a) for a, b in windows if arrive <= b), None)
            if begin is None:
                return None
        else:
            begin = arrive
        clock = begin + order.service_s
        times.append((arrive, begin, clock))
        here = order.location_index
    end = problem.crews[crew].end_index
    if end is not None:
        clock += int(problem.durations[here, end])
    if clock > shift_end:
        return None
    return times


def _travel(problem: _Problem, crew: int, sequence: Sequence[int]) -> int:
    here = problem.crews[crew].start_index
    total = 0
    for j in sequence:
        there = problem.orders[j].location_index
        total += int(problem.durations[here, there])
        here = there
    end = problem.crews[crew].end_index
    if end is not None and sequence:
        total += int(problem.durations[here, end])
    return total


def _route(problem: _Problem, crew: int, sequence: Sequence[int]) -> Route:
    times = _schedule(problem, crew, sequence) or []
    at = problem.origin
    stops = tuple(
        Stop(
            problem.orders[j].order_id,
            at + timedelta(seconds=arrive),
            at + timedelta(seconds=begin),
            at + timedelta(seconds=done),
        )
        for j, (arrive, begin, done) in zip(sequence, times, strict=True)
    )
    return Route(problem.crews[crew].crew_id, stops, _travel(problem, crew, sequence))


def _solve_vroom(
    problem: _Problem, exploration_level: int, threads: int
) -> tuple[list[list[int]], set[int]]:
    try:
        import vroom
    except ImportError as err:  # pragma: no cover - the dispatch extra is installed in dev
        raise RuntimeError(
            "day routes need pyvroom: pip install 'servicehall[dispatch]' (or engine='greedy')"
        ) from err
    categories = list(Category)
    skill_of = {cat: index + 1 for index, cat in enumerate(categories)}
    solver = vroom.Input()
    solver.set_durations_matrix(profile="car", matrix_input=problem.durations.astype(np.uint32))
    pin_skills: dict[int, set[int]] = {}
    jobs = []
    for j, order in enumerate(problem.orders):
        if j in problem.expired:
            continue
        if j in problem.pinned:
            skills = {_PIN_SKILL_BASE + j}
            pin_skills.setdefault(problem.pinned[j], set()).add(_PIN_SKILL_BASE + j)
        else:
            skills = {skill_of[order.category]}
        jobs.append(
            vroom.Job(
                j,
                location=order.location_index,
                default_service=order.service_s,
                skills=skills,
                priority=VROOM_PRIORITY.get(order.priority, 0),
                time_windows=[vroom.TimeWindow(a, b) for a, b in problem.windows[j]],
            )
        )
    vehicles = []
    for i, crew in enumerate(problem.crews):
        begin, end = problem.shifts[i]
        if end <= begin:
            continue  # no time left today
        vehicles.append(
            vroom.Vehicle(
                i,
                start=crew.start_index,
                end=crew.end_index,
                skills={skill_of[c] for c in crew.skills} | pin_skills.get(i, set()),
                time_window=vroom.TimeWindow(begin, end),
            )
        )
    if not vehicles or not jobs:
        return [[] for _ in problem.crews], set(range(len(problem.orders)))
    solver.add_vehicle(vehicles)
    solver.add_job(jobs)
    solution: dict[str, Any] = solver.solve(
        exploration_level=exploration_level, nb_threads=threads
    ).to_dict()
    routes: list[list[int]] = [[] for _ in problem.crews]
    for route in solution.get("routes", []):
        routes[int(route["vehicle"])] = [
            int(step["id"]) for step in route["steps"] if step["type"] == "job"
        ]
    served = {j for seq in routes for j in seq}
    return routes, set(range(len(problem.orders))) - served


def _solve_greedy(problem: _Problem) -> tuple[list[list[int]], set[int]]:
    """Cheapest feasible insertion, most urgent orders first (then tightest window)."""
    routes: list[list[int]] = [[] for _ in problem.crews]
    travel = [0 for _ in problem.crews]
    left: set[int] = set()

    def urgency(j: int) -> tuple[int, int]:
        windows = problem.windows[j]
        return problem.orders[j].priority, min((b for _, b in windows), default=1 << 62)

    left.update(problem.expired)
    for j in sorted(set(range(len(problem.orders))) - problem.expired, key=urgency):
        best: tuple[int, int, int] | None = None  # (added travel, crew, position)
        for i in np.flatnonzero(problem.allowed[:, j]):
            crew = int(i)
            seq = routes[crew]
            for position in range(len(seq) + 1):
                trial = [*seq[:position], j, *seq[position:]]
                added = _travel(problem, crew, trial) - travel[crew]
                if best is not None and added >= best[0]:
                    continue
                if _schedule(problem, crew, trial) is not None:
                    best = (added, crew, position)
        if best is None:
            left.add(j)
            continue
        added, crew, position = best
        routes[crew].insert(position, j)
        travel[crew] += added
    return routes, left
