"""Who should go: suggestions for one order, a dispatcher's pick, and plans for the backlog.

The decisions are ``field_dispatch.assign``'s; this module feeds it from the database and
records what it decides through ``domain.work_orders``.

Crews as the core sees them (``CrewNow``): skills are the union of its technicians' skills;
on duty is ``crews.on_duty``; what it is doing follows from the orders it holds (on site >
en route > assigned > idle); where it is, the freshest live position of any of its
technicians, or its depot when every phone is stale or silent (a stale fix is not trusted
for travel times). The schema has no shift rota yet: a shift is assumed to end ``shift``
(8 h) from now. Expected time on site per category (``WORK_S``) is an assumption to
calibrate from closed orders.

- **A dispatcher's pick** (``assign``) is recorded even against a rule — the dispatcher may
  know better (the crew will finish its job first, the skill list is out of date) — and
  the rules set aside are reported. The order is pinned: plans leave it alone.
- **Plans** (``plan`` then ``apply``): the backlog is the new orders and the planner's own
  unaccepted dispatches; pinned and accepted orders are not the planner's to move. A plan
  records each order's version and each crew's holdings as it saw them; ``apply`` carries
  out a line only if neither changed since, so a dispatcher's override made in between
  always wins (the line comes back as a conflict, with the reason). Every order comes back
  assigned, kept, or with the reason no crew could take it — and such an order is flagged
  on the board, never silently dropped.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.crew_positions import CrewPosition, CrewPositions
from domain.dispatch_plans import Assigned, CrewOption, CrewState, Plan, PlanLine, Suggestion
from domain.work_order_views import OrderView, crews_by_id
from domain.work_orders import PLANNER, OrderChanged, OrderRefused, Who, WorkOrders
from field_dispatch.assign import (
    Activity,
    Choice,
    CrewNow,
    NoCrew,
    OpenOrder,
    Source,
    best_crew_now,
    plan_backlog,
)
from field_dispatch.vocabulary import Category
from gis.eta import HaversineTravelTimes, TravelTimes
from servicedb.models import Crew, Technician, TechnicianSkill, WorkOrder, WorkOrderStatus

# Expected time on site, seconds (assumed; calibrate from closed orders).
WORK_S: Mapping[Category, float] = {
    Category.BURST_MAIN: 3 * 3600,
    Category.NO_WATER: 2 * 3600,
    Category.LEAK: 1.5 * 3600,
    Category.LOW_PRESSURE: 3600,
    Category.METER_FAULT: 45 * 60,
    Category.LINE_FAULT: 1.5 * 3600,
    Category.COMPLAINT: 30 * 60,
    Category.ENQUIRY: 30 * 60,
    Category.HELP: 30 * 60,
    Category.MISCONDUCT: 30 * 60,
}
_HELD = (
    WorkOrderStatus.DISPATCHED,
    WorkOrderStatus.ACCEPTED,
    WorkOrderStatus.EN_ROUTE,
    WorkOrderStatus.ON_SITE,
)
_ACTIVITY_RANK = {
    WorkOrderStatus.ON_SITE: (3, Activity.ON_SITE),
    WorkOrderStatus.EN_ROUTE: (2, Activity.EN_ROUTE),
    WorkOrderStatus.ACCEPTED: (1, Activity.ASSIGNED),
    WorkOrderStatus.DISPATCHED: (1, Activity.ASSIGNED),
}


class DispatchPlanner:
    def __init__(
        self,
        orders: WorkOrders,
        positions: CrewPositions,
        travel: TravelTimes | None = None,
        *,
        shift: timedelta = timedelta(hours=8),
    ) -> None:
        self.orders = orders
        self.positions = positions
        self.travel = travel or HaversineTravelTimes()
        self.shift = shift

    # --- crews now -------------------------------------------------------------------------
    def crews(self, backlog: frozenset[str] = frozenset()) -> list[CrewState]:
        """Every crew as the planner sees it now (``backlog``: orders a plan may move)."""
        now = self.orders.now()
        by_crew: dict[uuid.UUID, list[CrewPosition]] = {}
        for position in self.positions.latest():
            by_crew.setdefault(position.crew_id, []).append(position)
        with self.orders.reading() as session:
            refs = crews_by_id(session)
            rows = {c.id: c for c in session.scalars(select(Crew))}
            skills = _skills(session)
            held = session.execute(
                select(WorkOrder.crew_id, WorkOrder.id, WorkOrder.status, WorkOrder.priority)
                .where(WorkOrder.status.in_(_HELD), WorkOrder.crew_id.is_not(None))
                .order_by(WorkOrder.crew_id, WorkOrder.id)
            ).all()
        holdings: dict[uuid.UUID, list[tuple[uuid.UUID, WorkOrderStatus, int]]] = {}
        for holder, order_id, status, priority in held:
            if holder is not None:
                holdings.setdefault(holder, []).append((order_id, status, priority))
        states = []
        for crew_id, ref in refs.items():
            row = rows[crew_id]
            mine = holdings.get(crew_id, [])
            activity, current, current_priority = Activity.IDLE, None, None
            if mine:
                # The order in the backlog, if it holds one (a plan may keep or move it);
                # otherwise the one it is furthest along with.
                in_backlog = [m for m in mine if str(m[0]) in backlog]
                pick = (
                    in_backlog[0]
                    if in_backlog
                    else max(mine, key=lambda m: _ACTIVITY_RANK[m[1]][0])
                )
                current, current_priority = str(pick[0]), pick[2]
                activity = max((_ACTIVITY_RANK[m[1]] for m in mine), key=lambda r: r[0])[1]
            technicians = tuple(sorted(by_crew.get(crew_id, []), key=lambda p: p.tracker_user))
            live = [p for p in technicians if not p.stale]
            freshest = max(live, key=lambda p: p.fix_at, default=None)
            newest = max(technicians, key=lambda p: p.fix_at, default=None)
            lon, lat = (freshest.lon, freshest.lat) if freshest else (row.depot_lon, row.depot_lat)
            states.append(
                CrewState(
                    crew=ref,
                    core=CrewNow(
                        crew_id=str(crew_id),
                        skills=frozenset(Category(s) for s in skills.get(crew_id, ())),
                        on_duty=row.on_duty,
                        shift_ends_at=now + self.shift,
                        activity=activity,
                        current_order_id=current,
                        current_priority=current_priority,
                        load=len(mine),
                    ),
                    lon=lon,
                    lat=lat,
                    located_by="gps" if freshest else "depot",
                    fix_at=newest.fix_at if newest else None,
                    stale=bool(technicians) and freshest is None,
                    technicians=technicians,
                    holds=tuple(str(m[0]) for m in mine),
                )
            )
        return states

    def _etas(
        self, crews: Sequence[CrewState], points: Sequence[tuple[float, float]]
    ) -> np.ndarray:
        if not crews or not points:
            return np.empty((len(crews), len(points)), dtype=np.float64)
        sources = [(c.lon, c.lat) for c in crews]
        return np.asarray(self.travel.matrix(sources, list(points), self.orders.now()))

    # --- one order -------------------------------------------------------------------------
    def suggest(self, order_id: uuid.UUID) -> Suggestion:
        """Every crew for this order: the best first, with ETA; the others with why not."""
        view = self.orders.get(order_id)
        crews = _without(self.crews(), order_id)
        order = _open_order(view)
        etas = self._etas(crews, [(view.lon, view.lat)])[:, 0] if crews else np.empty(0)
        now = self.orders.now()
        best = best_crew_now(order, [c.core for c in crews], etas, now) if crews else None
        options = [
            self._option(order, crew, float(eta), now)
            for crew, eta in zip(crews, etas, strict=True)
        ]
        options.sort(key=lambda o: (not o.fits, o.score if o.fits else (o.eta_s or math.inf)))
        chosen = None
        if isinstance(best, Choice):
            chosen = next(c.crew for c in crews if c.core.crew_id == best.crew_id)
            options.sort(key=lambda o: o.crew.id != chosen.id)  # stable: the rest keep their order
        reason = best.reason.value if isinstance(best, NoCrew) else None
        if best is None:
            reason = "no_qualified_crew"
        return Suggestion(view, tuple(options), chosen, reason)

    def _option(self, order: OpenOrder, crew: CrewState, eta: float, now: datetime) -> CrewOption:
        alone = best_crew_now(order, [crew.core], [eta], now)
        reach = eta if math.isfinite(eta) else None
        if isinstance(alone, Choice):
            return CrewOption(crew.crew, reach, True, None, alone.score)
        why = alone.why.get(crew.core.crew_id)
        return CrewOption(crew.crew, reach, False, None if why is None else why.name.lower(), None)

    def assign(
        self,
        order_id: uuid.UUID,
        crew_id: uuid.UUID,
        who: Who,
        *,
        expected_version: int | None = None,
    ) -> Assigned:
        """A dispatcher's pick: recorded and pinned, with the rules it sets aside."""
        view = self.orders.get(order_id)
        crews = [c for c in _without(self.crews(), order_id) if c.crew.id == crew_id]
        overridden: tuple[str, ...] = ()
        if crews:
            eta = float(self._etas(crews, [(view.lon, view.lat)])[0, 0])
            option = self._option(_open_order(view), crews[0], eta, self.orders.now())
            overridden = () if option.fits or option.unfit is None else (option.unfit,)
        change = self.orders.dispatch(order_id, crew_id, who, expected_version=expected_version)
        return Assigned(change, overridden)

    # --- the backlog -----------------------------------------------------------------------
    def plan(self) -> Plan:
        """A plan for the backlog, as of now; nothing is recorded until ``apply``."""
        now = self.orders.now()
        with self.orders.reading() as session:
            rows = session.scalars(
                select(WorkOrder)
                .where(
                    WorkOrder.opened_at.is_not(None),
                    WorkOrder.pinned.is_(False),
                    (WorkOrder.status == WorkOrderStatus.NEW)
                    | (WorkOrder.status == WorkOrderStatus.DISPATCHED),
                )
                .order_by(WorkOrder.priority, WorkOrder.opened_at)
            ).all()
        backlog = [self._backlog_order(r) for r in rows]
        crews = self.crews(frozenset(o.order_id for o in backlog))
        if not backlog:
            return Plan(now, ())
        etas = self._etas(crews, [(r.lon, r.lat) for r in rows])
        result = plan_backlog(backlog, [c.core for c in crews], etas, now)
        by_crew = {c.core.crew_id: c for c in crews}
        lines: list[PlanLine] = []
        for row in rows:
            order_id = str(row.id)
            assignment = next((a for a in result.assignments if a.order_id == order_id), None)
            if assignment is not None:
                crew = by_crew[assignment.crew_id]
                same = row.crew_id is not None and str(row.crew_id) == assignment.crew_id
                keep = same or assignment.source is Source.KEPT
                eta = assignment.eta_s if math.isfinite(assignment.eta_s) else None
                lines.append(
                    PlanLine(
                        row.id,
                        row.number,
                        row.priority,
                        row.version,
                        "keep" if keep else "assign",
                        crew.crew,
                        crew.holds,
                        eta,
                        None,
                    )
                )
                continue
            reason = next(
                (u.reason.value for u in result.unassigned if u.order_id == order_id),
                "crews_taken",
            )
            lines.append(
                PlanLine(
                    row.id,
                    row.number,
                    row.priority,
                    row.version,
                    "unassigned",
                    None,
                    (),
                    None,
                    reason,
                )
            )
        return Plan(now, tuple(lines))

    def _backlog_order(self, row: WorkOrder) -> OpenOrder:
        category = Category(row.category.value)
        return OpenOrder(str(row.id), category, row.priority, row.arrive_by, WORK_S[category])

    def apply(self, plan: Plan, who: Who = PLANNER, *, most_urgent_first: int = 5) -> Plan:
        """Carry the plan out where nothing changed since it was made; say what happened.

        Only lines for orders of priority ``most_urgent_first`` or more urgent are carried
        out (the periodic auto-dispatch leaves the rest to the dispatcher); flags always are.
        """
        current = {c.crew.id: c.holds for c in self.crews()}
        done: list[PlanLine] = []
        for line in plan.lines:
            if line.outcome == "assign" and line.crew is not None:
                if line.priority > most_urgent_first:
                    done.append(line)  # a proposal for the dispatcher
                    continue
                holds = tuple(h for h in current.get(line.crew.id, ()) if h != str(line.order_id))
                planned = tuple(h for h in line.crew_holds if h != str(line.order_id))
                if holds != planned:
                    done.append(_with(line, "conflict", "crew_changed"))
                    continue
                try:
                    self.orders.dispatch(
                        line.order_id,
                        line.crew.id,
                        who,
                        expected_version=line.version,
                        pinned=False,
                    )
                except OrderChanged:
                    done.append(_with(line, "conflict", "order_changed"))
                    continue
                except OrderRefused as refused:
                    done.append(_with(line, "conflict", refused.reason))
                    continue
                current[line.crew.id] = (*current.get(line.crew.id, ()), str(line.order_id))
                done.append(_with(line, "assigned", None))
            elif line.outcome == "unassigned":
                flagged = self._flag(line)
                done.append(_with(line, "flagged" if flagged else "unassigned", line.reason))
            else:
                done.append(line)
        return Plan(plan.made_at, tuple(done))

    def _flag(self, line: PlanLine) -> bool:
        view = self.orders.get(line.order_id)
        if view.version != line.version or view.status != "new" or line.reason is None:
            return False
        return self.orders.flag(line.order_id, line.reason)

    def replan(self, who: Who = PLANNER, *, most_urgent_first: int = 5) -> Plan:
        """Plan and apply at once: what the periodic auto-dispatch does."""
        return self.apply(self.plan(), who, most_urgent_first=most_urgent_first)


def _without(crews: Sequence[CrewState], order_id: uuid.UUID) -> list[CrewState]:
    """Crews as they would be without this order: a crew's load is not its own reason to lose it."""
    held = str(order_id)
    return [
        replace(c, core=replace(c.core, load=c.core.load - 1)) if held in c.holds else c
        for c in crews
    ]


def _with(line: PlanLine, outcome: str, reason: str | None) -> PlanLine:
    return replace(line, outcome=outcome, reason=reason)


def _open_order(view: OrderView) -> OpenOrder:
    category = Category(view.category)
    return OpenOrder(str(view.id), category, view.priority, view.arrive_by, WORK_S[category])


def _skills(session: Session) -> dict[uuid.UUID, set[str]]:
    skills: dict[uuid.UUID, set[str]] = {}
    for crew_id, skill in session.execute(
        select(Technician.crew_id, TechnicianSkill.skill).join(
            TechnicianSkill, TechnicianSkill.technician_id == Technician.id
        )
    ):
        skills.setdefault(crew_id, set()).add(skill.value)
    return skills
