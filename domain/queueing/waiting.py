"""Today's waiting tickets as plain policy values, kept in memory and up to date cheaply.

The hall screen and the board ask for the overview twice a second, and every new ticket
needs the whole waiting list for its estimate. Reading (and decoding) every waiting row
each time costs in proportion to the queue; instead the list is read once and then only
the tickets that changed are read again. Every change to a ticket writes a row to the
append-only ``queue_events`` in the same transaction, so "what changed" is the events
after the last one seen (indexed by ``at``). Three guards keep it honest:

* events are read from a margin (``slack``) before the newest seen, and told apart by
  id, so transactions that commit out of clock order are not missed;
* the number of waiting tickets is counted (an index-only count) and a mismatch, or a
  new service day, means a full read;
* a full read at least every ``full_every_s`` seconds of wall time, whatever happened.

``version`` increases whenever something changed: what is computed from the list can be
kept until it does.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.queueing.policy import Ticket
from servicedb.models import QueueEvent, QueueTicket, TicketStatus


class WaitingList:
    def __init__(
        self,
        site_id: uuid.UUID,
        *,
        slack: timedelta = timedelta(seconds=30),
        full_every_s: float = 60.0,
    ) -> None:
        self.site_id = site_id
        self.slack = slack
        self.full_every_s = full_every_s
        self.version = 0
        self.full_reads = 0  # how often the whole list was read (for tests and benches)
        self._day: date | None = None
        self._tickets: dict[uuid.UUID, Ticket] = {}
        self._seen: dict[uuid.UUID, datetime] = {}  # event id → at, within the margin
        self._newest: datetime | None = None
        self._read_at = 0.0

    def current(self, session: Session, day: date) -> tuple[Ticket, ...]:
        """The committed waiting list of ``day``, brought up to date through ``session``.

        ``session`` must see only committed data (a read session): what it shows is kept.
        """
        if day != self._day or time.monotonic() - self._read_at > self.full_every_s:
            self._read_all(session, day)
            return tuple(self._tickets.values())
        events = self._new_events(session)
        if events:
            self._apply(session, day, self._tickets, events)
            for event_id, _ticket, at in events:
                self._seen[event_id] = at
                if self._newest is None or at > self._newest:
                    self._newest = at
            self._forget_old_events()
            self.version += 1
        if self._count(session, day) != len(self._tickets):
            self._read_all(session, day)
        return tuple(self._tickets.values())

    def within(
        self, session: Session, day: date
    ) -> tuple[tuple[Ticket, ...], frozenset[uuid.UUID] | None]:
        """The waiting list as ``session`` sees it, its own uncommitted changes included.

        For a view inside a command's transaction; call ``current`` (with a read session)
        first so the kept list is fresh. Nothing seen here is kept: the transaction may
        yet roll back. Also returns the tickets that differ from the kept list (None when
        the list had to be read whole).
        """
        if day != self._day:
            return tuple(self._read(session, day)), None
        tickets = dict(self._tickets)
        events = self._new_events(session)
        changed = frozenset(ticket for _event, ticket, _at in events if ticket is not None)
        if changed:
            self._apply(session, day, tickets, events)
        if self._count(session, day) != len(tickets):
            return tuple(self._read(session, day)), None
        return tuple(tickets.values()), changed

    def kept(self, ticket_id: uuid.UUID) -> bool:
        """Is ``ticket_id`` in the kept (committed) list?"""
        return ticket_id in self._tickets

    # --- internals ----------------------------------------------------------------------
    def _read_all(self, session: Session, day: date) -> None:
        newest = session.scalar(
            select(func.max(QueueEvent.at)).where(QueueEvent.origin_site_id == self.site_id)
        )
        self._tickets = {t.id: t for t in self._read(session, day)}
        self._day = day
        self._newest = newest
        self._seen = {}
        if newest is not None:
            self._seen = {event_id: at for event_id, _ticket, at in self._new_events(session)}
        self._read_at = time.monotonic()
        self.full_reads += 1
        self.version += 1

    def _read(
        self, session: Session, day: date, ids: Iterable[uuid.UUID] | None = None
    ) -> list[Ticket]:
        query = select(
            QueueTicket.id,
            QueueTicket.category_id,
            QueueTicket.priority,
            QueueTicket.queued_since,
            QueueTicket.seq,
            QueueTicket.at_front,
            QueueTicket.target_counter_id,
        ).where(
            QueueTicket.origin_site_id == self.site_id,
            QueueTicket.service_day == day,
            QueueTicket.status == TicketStatus.WAITING,
        )
        if ids is not None:
            query = query.where(QueueTicket.id.in_(list(ids)))
        return [Ticket(*row) for row in session.execute(query)]

    def _new_events(self, session: Session) -> list[tuple[uuid.UUID, uuid.UUID | None, datetime]]:
        query = select(QueueEvent.id, QueueEvent.ticket_id, QueueEvent.at).where(
            QueueEvent.origin_site_id == self.site_id
        )
        if self._newest is not None:
            query = query.where(QueueEvent.at >= self._newest - self.slack)
        return [
            (event_id, ticket_id, at)
            for event_id, ticket_id, at in session.execute(query)
            if event_id not in self._seen
        ]

    def _apply(
        self,
        session: Session,
        day: date,
        tickets: dict[uuid.UUID, Ticket],
        events: list[tuple[uuid.UUID, uuid.UUID | None, datetime]],
    ) -> None:
        changed = {ticket_id for _event, ticket_id, _at in events if ticket_id is not None}
        if not changed:
            return
        for ticket_id in changed:
            tickets.pop(ticket_id, None)
        for ticket in self._read(session, day, changed):
            tickets[ticket.id] = ticket

    def _count(self, session: Session, day: date) -> int:
        return int(
            session.scalar(
                select(func.count()).where(
                    QueueTicket.origin_site_id == self.site_id,
                    QueueTicket.service_day == day,
                    QueueTicket.status == TicketStatus.WAITING,
                )
            )
            or 0
        )

    def _forget_old_events(self) -> None:
        if self._newest is None:
            return
        horizon = self._newest - self.slack
        if len(self._seen) > 256:
            self._seen = {e: at for e, at in self._seen.items() if at >= horizon}
