"""What a person or the planner may ask of an order, and the core event each request becomes.

Plain frozen dataclasses, so the HTTP layer, the CLI and the planner build the same thing;
``to_event`` turns one into the ``field_dispatch.orders`` event the status machine judges.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

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
)
from field_dispatch.vocabulary import Actor

MAX_NOTE = 500


@dataclass(frozen=True)
class Dispatch:
    crew_id: uuid.UUID


@dataclass(frozen=True)
class Resolve:
    """The field's result, entered by a dispatcher when the crew phones it in."""

    result: Result
    note: str = ""


@dataclass(frozen=True)
class Close:
    """销账: close a resolved order with its final result."""

    result: Result


@dataclass(frozen=True)
class Cancel:
    reason: str


@dataclass(frozen=True)
class Reopen:
    """Back to new, or straight to ``crew_id``; the SLA clocks restart."""

    reason: str
    crew_id: uuid.UUID | None = None


@dataclass(frozen=True)
class FollowUp:
    """回访: the customer's satisfaction, 1 (very dissatisfied) to 5 (very satisfied)."""

    score: int
    note: str = ""


@dataclass(frozen=True)
class RaisePriority:
    priority: int
    reason: str


Command = Dispatch | Resolve | Close | Cancel | Reopen | FollowUp | RaisePriority


class ReportKind(enum.StrEnum):
    """What a technician's phone reports."""

    ACCEPTED = "accepted"
    DECLINED = "declined"
    SET_OFF = "set_off"
    ARRIVED = "arrived"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class FieldReport:
    """A technician's progress report as the phone sent it: at least once, perhaps late."""

    event_id: str  # the phone's id for this report; a repeat is recognised by it
    order_id: uuid.UUID
    crew_id: uuid.UUID
    kind: ReportKind
    at: datetime  # when the technician did it, by the phone's clock
    by: str  # the technician's tracker user
    result: Result | None = None  # for resolved; fixed when not said
    note: str = ""


def to_event(
    command: Command, state: OrderState, event_id: str, at: datetime, actor: Actor
) -> OrderEvent:
    e, o = event_id, state.order_id
    match command:
        case Dispatch(crew_id):
            return OrderDispatched(event_id=e, order_id=o, at=at, actor=actor, crew_id=str(crew_id))
        case Resolve(result, note):
            crew = state.crew_id or ""
            return OrderResolved(
                event_id=e,
                order_id=o,
                at=at,
                actor=actor,
                crew_id=crew,
                result=result,
                note=note[:MAX_NOTE],
            )
        case Close(result):
            return OrderClosed(event_id=e, order_id=o, at=at, actor=actor, result=result)
        case Cancel(reason):
            return OrderCancelled(
                event_id=e, order_id=o, at=at, actor=actor, reason=reason[:MAX_NOTE]
            )
        case Reopen(reason, crew_id):
            return OrderReopened(
                event_id=e,
                order_id=o,
                at=at,
                actor=actor,
                reason=reason[:MAX_NOTE],
                crew_id=None if crew_id is None else str(crew_id),
            )
        case FollowUp(score, note):
            return FollowUpRecorded(
                event_id=e, order_id=o, at=at, actor=actor, score=score, note=note[:MAX_NOTE]
            )
        case RaisePriority(priority, reason):
            return PriorityRaised(
                event_id=e,
                order_id=o,
                at=at,
                actor=actor,
                priority=priority,
                reason=reason[:MAX_NOTE],
            )
    raise TypeError(f"not a command: {command!r}")


def report_event(report: FieldReport, state: OrderState, event_id: str) -> OrderEvent:
    e, o, at, crew = event_id, state.order_id, report.at, str(report.crew_id)
    tech = Actor.TECHNICIAN
    match report.kind:
        case ReportKind.ACCEPTED:
            return OrderAccepted(event_id=e, order_id=o, at=at, actor=tech, crew_id=crew)
        case ReportKind.DECLINED:
            return OrderDeclined(
                event_id=e,
                order_id=o,
                at=at,
                actor=tech,
                crew_id=crew,
                reason=report.note[:MAX_NOTE],
            )
        case ReportKind.SET_OFF:
            return CrewSetOff(event_id=e, order_id=o, at=at, actor=tech, crew_id=crew)
        case ReportKind.ARRIVED:
            return CrewArrived(event_id=e, order_id=o, at=at, actor=tech, crew_id=crew)
    return OrderResolved(
        event_id=e,
        order_id=o,
        at=at,
        actor=tech,
        crew_id=crew,
        result=report.result or Result.FIXED,
        note=report.note[:MAX_NOTE],
    )
