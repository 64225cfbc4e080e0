"""What the planner answers, as plain data: crews now, options for an order, plans.

Kept apart from ``domain.dispatch_planning`` so that readers of these answers (the central
API, the console) do not load the optimiser (scipy) — a hall process imports the central
app's modules too, and a hall has no use for scipy.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from domain.crew_positions import CrewPosition
from domain.work_order_views import CrewRef, OrderView
from domain.work_orders import Change

if TYPE_CHECKING:
    from field_dispatch.assign import CrewNow  # imports scipy: for type checkers only


@dataclass(frozen=True)
class CrewState:
    crew: CrewRef
    core: CrewNow
    lon: float
    lat: float
    located_by: str  # "gps" (a live phone) or "depot"
    fix_at: datetime | None  # the newest fix of any technician, live or stale
    stale: bool  # phones reported, but none recently: shown faded, placed at the depot
    technicians: tuple[CrewPosition, ...]
    holds: tuple[str, ...]  # the open orders it holds, by id


@dataclass(frozen=True)
class CrewOption:
    crew: CrewRef
    eta_s: float | None  # None: no route
    fits: bool
    unfit: str | None  # the first rule the crew fails (no_skill, off_duty, busy, …)
    score: float | None  # lower is better; only for crews that fit


@dataclass(frozen=True)
class Suggestion:
    order: OrderView
    options: tuple[CrewOption, ...]  # the best first; crews that fit, then those that do not
    best: CrewRef | None
    no_crew_reason: str | None  # ``UnassignedReason`` when no crew fits


@dataclass(frozen=True)
class Assigned:
    change: Change
    overridden: tuple[str, ...]  # the rules the dispatcher set aside, e.g. ("no_skill",)


@dataclass(frozen=True)
class PlanLine:
    order_id: uuid.UUID
    number: str
    priority: int
    version: int  # the order's version the plan was made from
    outcome: str  # assign, keep, unassigned — and after apply: assigned, conflict, flagged
    crew: CrewRef | None
    crew_holds: tuple[str, ...]  # the crew's holdings the plan was made from
    eta_s: float | None
    reason: str | None  # why unassigned, or why a line could not be carried out


@dataclass(frozen=True)
class Plan:
    made_at: datetime
    lines: tuple[PlanLine, ...]
