"""Work orders between the database and the pure core (``field_dispatch.orders`` / ``sla``).

- **The history is the truth.** An order's state is the fold of its ``work_order_events``
  rows through ``field_dispatch.orders.transition`` (``replayed``); the ``work_orders`` row
  is a projection of that state for lists, the map and KPIs (``project``), rewritten by
  every change, with ``version`` counting the changes (a dispatcher's view of version N
  is refused once N+1 exists).
- **SLA spans are kept as at intake** (``sla_target``, JSON): changing the configured
  targets later changes new orders, never the clocks an order is already running on.
- Rows store the core's enums by value; conversion is here and nowhere else.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from field_dispatch.orders import (
    CrewArrived,
    CrewSetOff,
    FollowUpRecorded,
    OrderAccepted,
    OrderCancelled,
    OrderClosed,
    OrderDeclined,
    OrderDispatched,
    OrderEvent,
    OrderReopened,
    OrderResolved,
    OrderState,
    PriorityRaised,
    Result,
    new_order,
    replay,
)
from field_dispatch.sla import SlaPolicy, SlaTarget, Span, deadlines
from field_dispatch.vocabulary import Actor, Category, Status
from servicedb.models import (
    WorkOrder,
    WorkOrderActor,
    WorkOrderEvent,
    WorkOrderEventKind,
    WorkOrderResult,
    WorkOrderStatus,
)

Kind = WorkOrderEventKind

# The core's event classes and the kinds they are stored as.
KIND_OF: dict[type[OrderEvent], WorkOrderEventKind] = {
    OrderDispatched: Kind.DISPATCHED,
    OrderAccepted: Kind.ACCEPTED,
    OrderDeclined: Kind.DECLINED,
    CrewSetOff: Kind.SET_OFF,
    CrewArrived: Kind.ARRIVED,
    OrderResolved: Kind.RESOLVED,
    OrderClosed: Kind.CLOSED,
    OrderCancelled: Kind.CANCELLED,
    OrderReopened: Kind.REOPENED,
    PriorityRaised: Kind.PRIORITY_RAISED,
    FollowUpRecorded: Kind.FOLLOWED_UP,
}


# --- SLA spans as stored ---------------------------------------------------------------------


def target_json(target: SlaTarget) -> str:
    def one(span: Span) -> list[object]:
        return [span.seconds, span.working]

    return json.dumps(
        {"arrive": one(target.arrive), "restore": one(target.restore), "close": one(target.close)},
        separators=(",", ":"),
    )


def target_from_json(text: str) -> SlaTarget:
    data = json.loads(text)

    def one(name: str) -> Span:
        seconds, working = data[name]
        return Span(float(seconds), bool(working))

    return SlaTarget(one("arrive"), one("restore"), one("close"))


def order_policy(row: WorkOrder, base: SlaPolicy) -> SlaPolicy:
    """The policy this order's clocks run on: its own spans as at intake, the base calendar."""
    if row.sla_target is None or row.sla_priority is None:
        return base
    category = Category(row.category.value)
    return SlaPolicy(
        {category: {row.sla_priority: target_from_json(row.sla_target)}},
        base.calendar,
        base.warn_share,
    )


# --- rows ⇄ core -----------------------------------------------------------------------------


def _crew(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def state_from_row(row: WorkOrder, seen: frozenset[str] = frozenset()) -> OrderState:
    """The core's state as projected on the row (cheap: for reads and SLA pre-checks)."""
    if row.opened_at is None or row.sla_priority is None:
        raise ValueError(f"work order {row.number} has not been taken in at central")
    return OrderState(
        order_id=str(row.id),
        category=Category(row.category.value),
        priority=row.priority,
        status=Status(row.status.value),
        opened_at=row.opened_at,
        sla_priority=row.sla_priority,
        crew_id=_crew(row.crew_id),
        dispatched_at=row.dispatched_at,
        arrived_at=row.arrived_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        result=None if row.result is None else Result(row.result.value),
        satisfaction=row.satisfaction,
        reopen_count=row.reopen_count,
        seen=seen,
    )


def core_event(row: WorkOrderEvent) -> OrderEvent | None:
    """The core event a history row stands for; None for intake and for SLA/flag notes."""
    e, o, at, actor = row.event_key, str(row.order_id), row.at, Actor(row.actor.value)
    crew = _crew(row.crew_id) or ""
    result = Result.FIXED if row.result is None else Result(row.result.value)
    note = row.note or ""
    match row.kind:
        case Kind.DISPATCHED:
            return OrderDispatched(event_id=e, order_id=o, at=at, actor=actor, crew_id=crew)
        case Kind.ACCEPTED:
            return OrderAccepted(event_id=e, order_id=o, at=at, actor=actor, crew_id=crew)
        case Kind.DECLINED:
            return OrderDeclined(
                event_id=e, order_id=o, at=at, actor=actor, crew_id=crew, reason=note
            )
        case Kind.SET_OFF:
            return CrewSetOff(event_id=e, order_id=o, at=at, actor=actor, crew_id=crew)
        case Kind.ARRIVED:
            return CrewArrived(event_id=e, order_id=o, at=at, actor=actor, crew_id=crew)
        case Kind.RESOLVED:
            return OrderResolved(
                event_id=e, order_id=o, at=at, actor=actor, crew_id=crew, result=result, note=note
            )
        case Kind.CLOSED:
            return OrderClosed(event_id=e, order_id=o, at=at, actor=actor, result=result)
        case Kind.CANCELLED:
            return OrderCancelled(event_id=e, order_id=o, at=at, actor=actor, reason=note)
        case Kind.REOPENED:
            return OrderReopened(
                event_id=e, order_id=o, at=at, actor=actor, reason=note, crew_id=_crew(row.crew_id)
            )
        case Kind.PRIORITY_RAISED:
            return PriorityRaised(
                event_id=e, order_id=o, at=at, actor=actor, priority=row.priority or 5, reason=note
            )
        case Kind.FOLLOWED_UP:
            return FollowUpRecorded(
                event_id=e, order_id=o, at=at, actor=actor, score=row.score or 0, note=note
            )
    return None


def history(session: Session, order_id: uuid.UUID) -> list[WorkOrderEvent]:
    return list(
        session.scalars(
            select(WorkOrderEvent)
            .where(WorkOrderEvent.order_id == order_id)
            .order_by(WorkOrderEvent.seq)
        )
    )


def replayed(row: WorkOrder, events: Sequence[WorkOrderEvent]) -> OrderState:
    """The fold of the stored history. Only applied events are stored, so none is refused here."""
    opened = events[0] if events else None
    if opened is None or opened.kind is not Kind.OPENED or opened.priority is None:
        raise ValueError(f"the history of {row.number} does not start with its intake")
    start = new_order(str(row.id), Category(row.category.value), opened.priority, opened.at)
    return replay(start, [e for e in map(core_event, events[1:]) if e is not None])


def append(
    session: Session,
    order: WorkOrder,
    seq: int,
    kind: WorkOrderEventKind,
    key: str,
    at: datetime,
    actor: Actor,
    actor_name: str,
    *,
    status_after: Status | None = None,
    crew_id: uuid.UUID | None = None,
    priority: int | None = None,
    result: Result | None = None,
    score: int | None = None,
    note: str | None = None,
    implied: Sequence[Status] = (),
    origin_site_id: uuid.UUID,
) -> WorkOrderEvent:
    row = WorkOrderEvent(
        origin_site_id=origin_site_id,
        order_id=order.id,
        seq=seq,
        event_key=key[:120],
        kind=kind,
        at=at,
        actor=WorkOrderActor(actor.value),
        actor_name=actor_name[:64],
        status_after=None if status_after is None else WorkOrderStatus(status_after.value),
        crew_id=crew_id,
        priority=priority,
        result=None if result is None else WorkOrderResult(result.value),
        score=score,
        note=note,
        implied=",".join(s.value for s in implied) or None,
    )
    session.add(row)
    return row


def event_fields(event: OrderEvent) -> dict[str, object]:
    """What of a core event goes into its history row's columns."""
    fields: dict[str, object] = {}
    crew = getattr(event, "crew_id", None)
    if crew:
        fields["crew_id"] = uuid.UUID(crew)
    if isinstance(event, OrderResolved | OrderClosed):
        fields["result"] = event.result
    if isinstance(event, PriorityRaised):
        fields["priority"] = event.priority
    if isinstance(event, FollowUpRecorded):
        fields["score"] = event.score
    note = getattr(event, "reason", None) or getattr(event, "note", None)
    if note:
        fields["note"] = note
    return fields


def project(
    row: WorkOrder, state: OrderState, policy: SlaPolicy, at: datetime, *, reopened: bool = False
) -> None:
    """Write the state onto the row; deadlines move only when the clocks restart (reopen)."""
    row.status = WorkOrderStatus(state.status.value)
    row.priority = state.priority
    row.crew_id = None if state.crew_id is None else uuid.UUID(state.crew_id)
    row.opened_at = state.opened_at
    row.dispatched_at = state.dispatched_at
    row.arrived_at = state.arrived_at
    row.resolved_at = state.resolved_at
    row.closed_at = state.closed_at
    row.result = None if state.result is None else WorkOrderResult(state.result.value)
    row.satisfaction = state.satisfaction
    row.reopen_count = state.reopen_count
    if reopened or row.arrive_by is None:
        due = deadlines(state, order_policy(row, policy))
        row.arrive_by, row.restore_by, row.close_by = due.arrive_by, due.restore_by, due.close_by
        row.due_at = due.restore_by
    row.version += 1
    row.updated_at = at
