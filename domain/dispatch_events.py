"""Everything central's work-order service can announce, in one place (past tense, frozen).

``domain.work_orders`` records these in its unit of work; after the commit the bus hands
them on. Who listens: the MQTT publisher that sends an assignment to the crew's phones
(``WorkOrderDispatched``; branch dispatch-field), the dispatcher console, and later the
sync down-flow and SMS notices. An event carries what a listener needs without reading the
database again — a publisher must be able to send the order to the technicians from the
event alone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from domain.events import Event


@dataclass(frozen=True)
class WorkOrderEvent(Event):
    order_id: uuid.UUID
    number: str


@dataclass(frozen=True)
class WorkOrderOpened(WorkOrderEvent):
    category: str
    priority: int
    source: str  # hall, kiosk, phone, web, dispatcher
    lon: float
    lat: float
    arrive_by: datetime
    restore_by: datetime
    close_by: datetime


@dataclass(frozen=True)
class WorkOrderDispatched(WorkOrderEvent):
    """An order was given to a crew (also when it moves from one crew to another).

    ``event_key`` is unique per order and stays the same if this dispatch is announced again:
    use it as the MQTT message id so a phone that sees the message twice applies it once.
    ``previous_*`` name the crew the order was taken from, whose phones should drop it.
    """

    event_key: str
    crew_id: uuid.UUID
    crew_code: str
    tracker_users: tuple[str, ...]  # the technicians' OwnTracks users: one topic each
    category: str
    priority: int
    description: str
    lon: float
    lat: float
    address: str | None
    contact_phone: str | None
    arrive_by: datetime | None
    restore_by: datetime | None
    by: str  # who dispatched: a staff number, or "planner"
    pinned: bool  # a dispatcher's choice that re-plans keep
    previous_crew_id: uuid.UUID | None = None
    previous_tracker_users: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkOrderStatusChanged(WorkOrderEvent):
    status_from: str
    status_to: str
    actor: str  # dispatcher, technician, system, hall
    by: str
    crew_id: uuid.UUID | None
    implied: tuple[str, ...] = ()  # steps a forward-jumping report skipped


@dataclass(frozen=True)
class WorkOrderEscalated(WorkOrderEvent):
    """An SLA clock is at risk (the dispatcher is warned) or breached (the supervisor is told)."""

    milestone: str  # arrive, restore, close
    level: str  # at_risk, breached
    due_at: datetime
    priority: int  # after any raise
    priority_raised: bool
    supervisor_notified: bool


@dataclass(frozen=True)
class WorkOrderClosed(WorkOrderEvent):
    result: str
    by: str


@dataclass(frozen=True)
class WorkOrderFlagged(WorkOrderEvent):
    """No crew can take the order now; ``reason`` is ``field_dispatch.assign.UnassignedReason``."""

    reason: str
