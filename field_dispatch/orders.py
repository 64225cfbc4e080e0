"""The work order's status machine: events in, the next state or a typed answer out.

An order moves new → dispatched → accepted → en_route → on_site → resolved → closed, and can
be cancelled while open. Every change is an event (a frozen dataclass named in the past
tense, with an ``event_id``) that the adapter appends to the order's history; the current
state is the fold of those events, so ``transition`` is all there is to it.

Decisions written down here:

- **At least once.** Phones publish over MQTT QoS 1 and may send a report twice; an event
  whose id the order has already seen is ``Ignored(DUPLICATE)`` and changes nothing.
- **Technicians' reports arrive out of order.** A phone that was offline flushes its queue
  late, and the broker does not order messages across reconnects. The field steps
  (accepted < en_route < on_site < resolved) are ranked: a report that moves the order
  *forward* is applied and the steps it skips are implied (``on_site`` before ``en_route``
  means the crew did travel; ``Applied.implied`` lists them so timelines stay complete);
  a report that is not ahead of where the order already is, or that was made before the
  order was (re)dispatched to this crew, is stale and ``Ignored(STALE)``.
- **Only the assigned crew** may report progress; another crew's report is refused.
- **Closing needs resolving.** ``closed`` is reachable only from ``resolved``: no path
  skips the field's report. Closing carries a ``Result``.
- **Reopened is an event, not a status.** ``OrderReopened`` (from resolved, closed or
  cancelled) sends the order back to ``new`` — or straight to ``dispatched`` when it names
  a crew (send the same crew back). The SLA clocks restart at the reopen (``opened_at``)
  and ``reopen_count`` keeps the history for KPIs; a follow-up score is cleared.
- **Re-dispatch.** Dispatcher and system may move an order that is dispatched or accepted
  to another crew. Only a dispatcher may pull a crew that is en route or on site (the
  engine never does: ``plan_backlog`` keeps those crews where they are).
- **Escalation** raises priority through ``PriorityRaised``; a raise that would not make the
  order more urgent is ignored, so repeated SLA sweeps are harmless.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from field_dispatch.vocabulary import MOST_URGENT, PRIORITIES, Actor, Category, Status

OPEN = frozenset({Status.NEW, Status.DISPATCHED, Status.ACCEPTED, Status.EN_ROUTE, Status.ON_SITE})
# The field's progress, ranked: a technician report moves the order up this ladder only.
_FIELD_RANK: Mapping[Status, int] = {
    Status.DISPATCHED: 1,
    Status.ACCEPTED: 2,
    Status.EN_ROUTE: 3,
    Status.ON_SITE: 4,
    Status.RESOLVED: 5,
}
_LADDER = (Status.ACCEPTED, Status.EN_ROUTE, Status.ON_SITE, Status.RESOLVED)


class Result(enum.StrEnum):
    """How the order ended in the field (结果)."""

    FIXED = "fixed"  # 已修复
    TEMPORARY_FIX = "temporary_fix"  # 临时处理，需再次上门
    NO_FAULT_FOUND = "no_fault_found"  # 未发现故障
    CUSTOMER_SIDE = "customer_side"  # 用户内部设施问题
    REFERRED = "referred"  # 转交其他部门
    ANSWERED = "answered"  # 已答复 (enquiries, complaints)
    CUSTOMER_ABSENT = "customer_absent"  # 用户不在


# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OrderEvent:
    event_id: str
    order_id: str
    at: datetime
    actor: Actor


@dataclass(frozen=True, kw_only=True)
class OrderDispatched(OrderEvent):
    crew_id: str


@dataclass(frozen=True, kw_only=True)
class OrderAccepted(OrderEvent):
    crew_id: str


@dataclass(frozen=True, kw_only=True)
class OrderDeclined(OrderEvent):
    crew_id: str
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class CrewSetOff(OrderEvent):
    crew_id: str


@dataclass(frozen=True, kw_only=True)
class CrewArrived(OrderEvent):
    crew_id: str


@dataclass(frozen=True, kw_only=True)
class OrderResolved(OrderEvent):
    crew_id: str
    result: Result
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class OrderClosed(OrderEvent):
    result: Result


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderReopened(OrderEvent):
    reason: str
    crew_id: str | None = None  # send this crew straight back


@dataclass(frozen=True, kw_only=True)
class PriorityRaised(OrderEvent):
    priority: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class FollowUpRecorded(OrderEvent):
    """回访: the customer's satisfaction, 1 (very dissatisfied) to 5 (very satisfied)."""

    score: int
    note: str = ""


# --- state --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderState:
    order_id: str
    category: Category
    priority: int
    status: Status
    opened_at: datetime  # intake, or the last reopen: the SLA clocks start here
    sla_priority: int  # the priority the SLA deadlines were set for (escalation keeps them)
    crew_id: str | None = None
    dispatched_at: datetime | None = None
    arrived_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    result: Result | None = None
    satisfaction: int | None = None
    reopen_count: int = 0
    seen: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


def new_order(order_id: str, category: Category, priority: int, opened_at: datetime) -> OrderState:
    if priority not in PRIORITIES:
        raise ValueError(f"priority {priority} is not 1..5")
    if opened_at.tzinfo is None:
        raise ValueError("opened_at must be timezone-aware")
    return OrderState(order_id, category, priority, Status.NEW, opened_at, priority)


# --- outcomes -----------------------------------------------------------------------------


class IgnoreReason(enum.StrEnum):
    DUPLICATE = "duplicate"  # this event id was applied before
    STALE = "stale"  # a late report the order has already moved past
    NO_CHANGE = "no_change"  # e.g. a priority raise to a priority the order already has


class RefusalReason(enum.StrEnum):
    WRONG_ORDER = "wrong_order"
    NOT_ALLOWED_NOW = "not_allowed_now"
    ACTOR_NOT_ALLOWED = "actor_not_allowed"
    NOT_ASSIGNED_CREW = "not_assigned_crew"
    BAD_VALUE = "bad_value"


_REFUSAL_TEXT: Mapping[RefusalReason, tuple[str, str]] = {
    RefusalReason.WRONG_ORDER: ("事件不属于此工单", "The event is for another order"),
    RefusalReason.NOT_ALLOWED_NOW: ("工单当前状态不允许此操作", "The order cannot do that now"),
    RefusalReason.ACTOR_NOT_ALLOWED: ("您无权进行此操作", "You may not do that"),
    RefusalReason.NOT_ASSIGNED_CREW: (
        "此工单未派给您的班组",
        "This order is not assigned to your crew",
    ),
    RefusalReason.BAD_VALUE: ("数值无效", "A value is not valid"),
}


@dataclass(frozen=True)
class Applied:
    state: OrderState
    implied: tuple[Status, ...] = ()  # steps a forward-jumping report skipped over


@dataclass(frozen=True)
class Ignored:
    state: OrderState
    reason: IgnoreReason


@dataclass(frozen=True)
class Refused:
    reason: RefusalReason
    detail: str

    @property
    def message_zh(self) -> str:
        return _REFUSAL_TEXT[self.reason][0]

    @property
    def message_en(self) -> str:
        return _REFUSAL_TEXT[self.reason][1]


Outcome = Applied | Ignored | Refused

# --- the table ----------------------------------------------------------------------------

_D, _T, _S, _H = Actor.DISPATCHER, Actor.TECHNICIAN, Actor.SYSTEM, Actor.HALL

# event type → (statuses it may be applied in, actors who may make it, the status it leads to;
# None = decided by the handler). Read this table to know the machine.
TRANSITIONS: Mapping[
    type[OrderEvent], tuple[frozenset[Status], frozenset[Actor], Status | None]
] = {
    OrderDispatched: (
        frozenset(
            {Status.NEW, Status.DISPATCHED, Status.ACCEPTED, Status.EN_ROUTE, Status.ON_SITE}
        ),
        frozenset({_D, _S}),
        Status.DISPATCHED,
    ),
    OrderAccepted: (frozenset({Status.DISPATCHED}), frozenset({_T}), Status.ACCEPTED),
    OrderDeclined: (frozenset({Status.DISPATCHED, Status.ACCEPTED}), frozenset({_T}), Status.NEW),
    CrewSetOff: (frozenset({Status.DISPATCHED, Status.ACCEPTED}), frozenset({_T}), Status.EN_ROUTE),
    CrewArrived: (
        frozenset({Status.DISPATCHED, Status.ACCEPTED, Status.EN_ROUTE}),
        frozenset({_T}),
        Status.ON_SITE,
    ),
    OrderResolved: (
        frozenset({Status.DISPATCHED, Status.ACCEPTED, Status.EN_ROUTE, Status.ON_SITE}),
        frozenset({_T, _D}),
        Status.RESOLVED,
    ),
    OrderClosed: (frozenset({Status.RESOLVED}), frozenset({_D, _S, _H}), Status.CLOSED),
    OrderCancelled: (OPEN, frozenset({_D, _H, _S}), Status.CANCELLED),
    OrderReopened: (
        frozenset({Status.RESOLVED, Status.CLOSED, Status.CANCELLED}),
        frozenset({_D, _H}),
        None,
    ),
    PriorityRaised: (OPEN, frozenset({_D, _S}), None),
    FollowUpRecorded: (frozenset({Status.CLOSED}), frozenset({_D, _H, _S}), None),
}

_FIELD_REPORTS = (OrderAccepted, OrderDeclined, CrewSetOff, CrewArrived, OrderResolved)


def transition(state: OrderState, event: OrderEvent) -> Outcome:
    """Apply one event to an order; never raises for a bad event, answers with ``Refused``."""
    if event.order_id != state.order_id:
        return Refused(RefusalReason.WRONG_ORDER, f"{event.order_id} is not {state.order_id}")
    if event.event_id in state.seen:
        return Ignored(state, IgnoreReason.DUPLICATE)
    rule = TRANSITIONS.get(type(event))
    if rule is None:
        return Refused(RefusalReason.BAD_VALUE, f"unknown event {type(event).__name__}")
    allowed_from, actors, target = rule
    if event.actor not in actors:
        return Refused(
            RefusalReason.ACTOR_NOT_ALLOWED, f"{event.actor} may not {type(event).__name__}"
        )
    if isinstance(event, _FIELD_REPORTS):
        return _field_report(state, event, allowed_from, target)
    if state.status not in allowed_from:
        return Refused(RefusalReason.NOT_ALLOWED_NOW, f"{type(event).__name__} in {state.status}")
    seen = state.seen | {event.event_id}
    if isinstance(event, OrderDispatched):
        if event.crew_id == state.crew_id and state.status is not Status.DISPATCHED:
            return Ignored(state, IgnoreReason.NO_CHANGE)  # the crew has it and is working on it
        if (
            state.status in (Status.EN_ROUTE, Status.ON_SITE)
            and event.actor is not Actor.DISPATCHER
        ):
            return Refused(
                RefusalReason.ACTOR_NOT_ALLOWED,
                "only a dispatcher pulls a crew en route or on site",
            )
        return Applied(
            replace(
                state,
                status=Status.DISPATCHED,
                crew_id=event.crew_id,
                dispatched_at=event.at,
                arrived_at=None,
                seen=seen,
            )
        )
    if isinstance(event, OrderClosed):
        return Applied(
            replace(state, status=Status.CLOSED, closed_at=event.at, result=event.result, seen=seen)
        )
    if isinstance(event, OrderCancelled):
        return Applied(replace(state, status=Status.CANCELLED, closed_at=event.at, seen=seen))
    if isinstance(event, OrderReopened):
        back = Status.NEW if event.crew_id is None else Status.DISPATCHED
        return Applied(
            replace(
                state,
                status=back,
                crew_id=event.crew_id,
                opened_at=event.at,
                dispatched_at=None if event.crew_id is None else event.at,
                arrived_at=None,
                resolved_at=None,
                closed_at=None,
                result=None,
                satisfaction=None,
                reopen_count=state.reopen_count + 1,
                seen=seen,
            )
        )
    if isinstance(event, PriorityRaised):
        if event.priority not in PRIORITIES:
            return Refused(RefusalReason.BAD_VALUE, f"priority {event.priority} is not 1..5")
        if event.priority >= state.priority:
            return Ignored(state, IgnoreReason.NO_CHANGE)
        return Applied(replace(state, priority=max(event.priority, MOST_URGENT), seen=seen))
    if isinstance(event, FollowUpRecorded):
        if not 1 <= event.score <= 5:
            return Refused(RefusalReason.BAD_VALUE, f"score {event.score} is not 1..5")
        if state.satisfaction is not None:
            return Refused(RefusalReason.NOT_ALLOWED_NOW, "this closing has its follow-up")
        return Applied(replace(state, satisfaction=event.score, seen=seen))
    return Refused(RefusalReason.BAD_VALUE, f"unhandled event {type(event).__name__}")


def _field_report(
    state: OrderState,
    event: OrderAccepted | OrderDeclined | CrewSetOff | CrewArrived | OrderResolved,
    allowed_from: frozenset[Status],
    target: Status | None,
) -> Outcome:
    if state.crew_id is not None and event.crew_id != state.crew_id:
        # A crew the order was taken away from may still be flushing its queue: stale if its
        # report predates the re-dispatch, otherwise not its order.
        if state.dispatched_at is not None and event.at < state.dispatched_at:
            return Ignored(state, IgnoreReason.STALE)
        return Refused(RefusalReason.NOT_ASSIGNED_CREW, f"{event.crew_id} is not {state.crew_id}")
    if state.crew_id is None:
        if state.status is Status.NEW and state.dispatched_at is None and state.reopen_count == 0:
            return Refused(RefusalReason.NOT_ASSIGNED_CREW, "the order is not dispatched")
        return Ignored(state, IgnoreReason.STALE)  # declined or taken back since
    if state.dispatched_at is not None and event.at < state.dispatched_at:
        return Ignored(state, IgnoreReason.STALE)  # made for an earlier dispatch
    seen = state.seen | {event.event_id}
    if isinstance(event, OrderDeclined):
        if state.status not in allowed_from:
            return Ignored(state, IgnoreReason.STALE)  # already travelling: too late to decline
        # dispatched_at keeps the decline's time, so the crew's earlier reports read as stale.
        return Applied(
            replace(state, status=Status.NEW, crew_id=None, dispatched_at=event.at, seen=seen)
        )
    assert target is not None  # noqa: S101 - every ladder report has a fixed target
    if state.status in (Status.CLOSED, Status.CANCELLED):
        if state.closed_at is not None and event.at <= state.closed_at:
            return Ignored(state, IgnoreReason.STALE)
        # Made after the order ended: the phone should hear that it did.
        return Refused(RefusalReason.NOT_ALLOWED_NOW, f"{type(event).__name__} in {state.status}")
    current = _FIELD_RANK[state.status]
    if current >= _FIELD_RANK[target]:
        return Ignored(state, IgnoreReason.STALE)
    implied = tuple(step for step in _LADDER if current < _FIELD_RANK[step] < _FIELD_RANK[target])
    new = replace(state, status=target, seen=seen)
    if target is Status.ON_SITE or (Status.ON_SITE in implied and state.arrived_at is None):
        new = replace(new, arrived_at=event.at)
    if isinstance(event, OrderResolved):
        new = replace(new, resolved_at=event.at, result=event.result)
    return Applied(new, implied)


def replay(state: OrderState, events: list[OrderEvent]) -> OrderState:
    """The state after a stored history; refused events leave it as it was."""
    for event in events:
        outcome = transition(state, event)
        if not isinstance(outcome, Refused):
            state = outcome.state
    return state
