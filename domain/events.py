"""Everything the hall can announce, in one place: plain frozen dataclasses, past tense.

A command records these in its unit of work; after the commit the event bus hands them on
(the live feed for screens and counters, the LED board, later the sync outbox). Events carry
what a listener needs to act without reading the database again: numbers and counter numbers
as people see them, and the ids that identify rows across sites.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Event:
    at: datetime


@dataclass(frozen=True)
class TicketEvent(Event):
    ticket_id: uuid.UUID
    number: str


@dataclass(frozen=True)
class TicketTaken(TicketEvent):
    category: str
    priority_reason: str | None


@dataclass(frozen=True)
class TicketCalled(TicketEvent):
    counter: int
    specific: bool = False  # 特呼: called by number, out of turn


@dataclass(frozen=True)
class TicketRecalled(TicketEvent):
    counter: int
    recalls: int


@dataclass(frozen=True)
class TicketNoShow(TicketEvent):
    counter: int


@dataclass(frozen=True)
class ServiceStarted(TicketEvent):
    counter: int


@dataclass(frozen=True)
class TicketFinished(TicketEvent):
    counter: int
    outcome: str


@dataclass(frozen=True)
class TicketTransferred(TicketEvent):
    counter: int
    to_category: str | None
    to_counter: int | None
    front: bool


@dataclass(frozen=True)
class TicketParked(TicketEvent):
    counter: int


@dataclass(frozen=True)
class TicketReturned(TicketEvent):
    counter: int


@dataclass(frozen=True)
class WalkInServed(TicketEvent):
    counter: int
    category: str


@dataclass(frozen=True)
class TicketRated(TicketEvent):
    score: int


@dataclass(frozen=True)
class CounterEvent(Event):
    counter: int


@dataclass(frozen=True)
class CounterSignedIn(CounterEvent):
    staff: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class CounterSignedOut(CounterEvent):
    staff: str | None


@dataclass(frozen=True)
class CounterPaused(CounterEvent):
    reason: str


@dataclass(frozen=True)
class CounterResumed(CounterEvent):
    pass
