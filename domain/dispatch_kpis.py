"""Field-service KPIs per day and per crew: response time, time to restore, SLA share, first-time fix.

Definitions (what the figures mean, so two readers get the same number):

- An order counts on the **day** (Beijing time) it was first reported (``created_at``: at the
  hall, the kiosk or the phone) and for the **crew** that holds it last. Cancelled orders
  and orders not yet taken in at central are left out.
- **Response time**: from the start of the order's clocks (intake, or its last reopen) to
  the crew on site — or to the first answer for orders resolved without a visit — the
  milestone of the SLA's *arrive* clock. Mean over orders that reached it.
- **Time to restore**: from the same start to the field's report that the fault is dealt
  with (resolved). Mean over resolved orders.
- **SLA share**: among orders whose *restore* clock has ended — resolved, or still open
  past its deadline — the share whose arrive and restore milestones were both on time.
  An order still inside its deadlines is not judged yet.
- **First-time fix**: among orders resolved with a field result (fixed, temporary fix, no
  fault found, customer-side, customer absent — not answered or referred), the share
  fixed on the first visit: result *fixed* and never reopened.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from field_dispatch.sla import BEIJING
from servicedb.models import Crew, WorkOrder, WorkOrderResult, WorkOrderStatus

_FIELD_RESULTS = frozenset(
    {
        WorkOrderResult.FIXED,
        WorkOrderResult.TEMPORARY_FIX,
        WorkOrderResult.NO_FAULT_FOUND,
        WorkOrderResult.CUSTOMER_SIDE,
        WorkOrderResult.CUSTOMER_ABSENT,
    }
)
_RESOLVED = (WorkOrderStatus.RESOLVED, WorkOrderStatus.CLOSED)


@dataclass(frozen=True)
class KpiRow:
    day: date
    crew_id: uuid.UUID | None  # None: every crew, and orders no crew holds
    crew_code: str | None
    orders: int
    responded: int
    mean_response_s: float | None
    restored: int
    mean_restore_s: float | None
    sla_judged: int
    sla_met: int
    first_fix_judged: int
    first_time_fixes: int

    @property
    def sla_share(self) -> float | None:
        return self.sla_met / self.sla_judged if self.sla_judged else None

    @property
    def first_time_fix_share(self) -> float | None:
        return self.first_time_fixes / self.first_fix_judged if self.first_fix_judged else None


@dataclass
class _Tally:
    orders: int = 0
    responses: list[float] = field(default_factory=list)
    restores: list[float] = field(default_factory=list)
    sla_judged: int = 0
    sla_met: int = 0
    fix_judged: int = 0
    fixes: int = 0

    def add(self, order: WorkOrder, now: datetime) -> None:
        self.orders += 1
        assert order.opened_at is not None  # noqa: S101 - filtered by the query
        reached = order.arrived_at or order.resolved_at
        if reached is not None:
            self.responses.append((reached - order.opened_at).total_seconds())
        resolved = order.resolved_at if order.status in _RESOLVED else None
        if resolved is not None:
            self.restores.append((resolved - order.opened_at).total_seconds())
        if order.restore_by is not None and (resolved is not None or now > order.restore_by):
            self.sla_judged += 1
            on_time_arrival = (
                reached is not None and order.arrive_by is not None and reached <= order.arrive_by
            )
            if resolved is not None and resolved <= order.restore_by and on_time_arrival:
                self.sla_met += 1
        if resolved is not None and order.result in _FIELD_RESULTS:
            self.fix_judged += 1
            if order.result is WorkOrderResult.FIXED and order.reopen_count == 0:
                self.fixes += 1

    def row(self, day: date, crew_id: uuid.UUID | None, code: str | None) -> KpiRow:
        responses, restores = self.responses, self.restores
        return KpiRow(
            day=day,
            crew_id=crew_id,
            crew_code=code,
            orders=self.orders,
            responded=len(responses),
            mean_response_s=sum(responses) / len(responses) if responses else None,
            restored=len(restores),
            mean_restore_s=sum(restores) / len(restores) if restores else None,
            sla_judged=self.sla_judged,
            sla_met=self.sla_met,
            first_fix_judged=self.fix_judged,
            first_time_fixes=self.fixes,
        )


def kpis(session: Session, first: date, last: date, now: datetime) -> list[KpiRow]:
    """One row per day for all crews, then one per day and crew that held orders that day."""
    start = datetime.combine(first, datetime.min.time(), BEIJING)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), BEIJING)
    orders: Iterable[WorkOrder] = session.scalars(
        select(WorkOrder).where(
            WorkOrder.created_at >= start,
            WorkOrder.created_at < end,
            WorkOrder.opened_at.is_not(None),
            WorkOrder.status != WorkOrderStatus.CANCELLED,
        )
    )
    codes = dict(session.execute(select(Crew.id, Crew.code)).all())
    days: dict[date, _Tally] = {}
    crews: dict[tuple[date, uuid.UUID], _Tally] = {}
    for order in orders:
        day = order.created_at.astimezone(BEIJING).date()
        days.setdefault(day, _Tally()).add(order, now)
        if order.crew_id is not None:
            crews.setdefault((day, order.crew_id), _Tally()).add(order, now)
    rows = [days[day].row(day, None, None) for day in sorted(days)]
    rows += [
        tally.row(day, crew_id, codes.get(crew_id))
        for (day, crew_id), tally in sorted(
            crews.items(), key=lambda i: (i[0][0], codes.get(i[0][1], ""))
        )
    ]
    return rows
