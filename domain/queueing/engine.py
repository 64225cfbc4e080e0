"""The queue engine of one hall: take a ticket, call, recall, transfer, park, serve, rate.

Every action writes the ticket's new state and an append-only ``QueueEvent`` in one
transaction. Two counters pressing "next" at once never get the same ticket: on PostgreSQL
the candidate row is locked with ``FOR UPDATE SKIP LOCKED``; on SQLite each write
transaction takes the database lock at ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from domain import events as ev
from domain.queueing.admission import (
    NotIssuing,
    check_issuing,
    check_vip_card,
    not_issuing,
    use_appointment,
)
from domain.queueing.counter_state import (
    CounterStatus,
    PauseReason,
    counter_status,
    open_session,
    served_categories,
)
from domain.queueing.errors import (
    CalledNotResolved,
    CounterClosed,
    InvalidAppointment,
    InvalidVipCard,
    NothingAtCounter,
    StillServing,
    UnknownTicket,
    WrongState,
)
from domain.queueing.layout import HallLayout
from domain.queueing.views import (
    ACTIVE,
    PRIORITY,
    CallView,
    CategoryOverview,
    Clock,
    HallOverview,
    QueueReads,
    TicketView,
    call_candidates,
)
from domain.staff import verify_staff
from domain.uow import UnitOfWork, UnitsOfWork
from servicedb.engine import make_session_factory
from servicedb.models import (
    Counter,
    CounterSession,
    QueueEvent,
    QueueTicket,
    ServiceCategory,
    TicketStatus,
)
from servicedb.types import utcnow

__all__ = ["CallView", "CategoryOverview", "HallOverview", "HallQueue", "TicketView"]


class HallQueue:
    def __init__(
        self,
        engine: Engine,
        site_code: str,
        *,
        clock: Clock = utcnow,
        max_recalls: int = 3,
        units: UnitsOfWork | None = None,
    ) -> None:
        self._engine = engine
        self.units = units or UnitsOfWork(engine)
        self._clock = clock
        self.max_recalls = max_recalls
        with make_session_factory(engine)() as session:
            self.layout = HallLayout.load(session, site_code)
        self.reads = QueueReads(engine, self.layout, clock)
        self._postgres = engine.dialect.name == "postgresql"

    @property
    def site_id(self) -> uuid.UUID:
        return self.layout.site_id

    @property
    def site_code(self) -> str:
        return self.layout.site_code

    @property
    def site_names(self) -> tuple[str, str]:
        return self.layout.names

    @property
    def timezone(self) -> Any:
        return self.layout.timezone

    @contextlib.contextmanager
    def _work(self, uow: UnitOfWork | None) -> Iterator[UnitOfWork]:
        """The caller's unit of work (it commits), or a new one committed here."""
        if uow is not None:
            yield uow
            return
        with self.units() as work:
            yield work
            work.commit()

    # --- what the hall knows ------------------------------------------------------------
    def service_day(self, moment: datetime | None = None) -> date:
        """The hall's local calendar day: numbers restart at the hall's midnight."""
        return self.layout.service_day(moment or self._clock())

    @property
    def categories(self) -> Sequence[ServiceCategory]:
        return list(self.layout.categories.values())

    def _category(self, code: str) -> ServiceCategory:
        return self.layout.category(code)

    def _counter(self, number: int) -> Counter:
        return self.layout.counter(number)

    # --- reading ------------------------------------------------------------------------
    def not_issuing(self) -> dict[str, tuple[NotIssuing, str]]:
        """Categories that give no ticket now, and why (hours, cut-off, quota)."""
        now = self._clock()
        with self.reads.session() as session:
            answers = {
                code: not_issuing(session, self.layout, category, now)
                for code, category in self.layout.categories.items()
                if category.active
            }
        return {code: why for code, why in answers.items() if why is not None}

    def overview(self) -> HallOverview:
        return self.reads.overview()

    def recent_calls(self, limit: int = 5) -> list[CallView]:
        return self.reads.recent_calls(limit)

    # --- customers ----------------------------------------------------------------------
    def take_ticket(
        self,
        category_code: str,
        *,
        priority_reason: str | None = None,
        account_id: uuid.UUID | None = None,
        appointment_code: str | None = None,
        vip_card: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> TicketView:
        """A ticket, if the hall is issuing now; priority only with proof (appointment, VIP card)."""
        category = self._category(category_code)
        if priority_reason is not None and priority_reason not in PRIORITY:
            raise WrongState(f"unknown priority reason {priority_reason!r}")
        now = self._clock()
        day = self.service_day(now)
        with self._work(uow) as work:
            session = work.session
            appointment = None
            if priority_reason == "appointment":
                if not appointment_code:
                    raise InvalidAppointment("an appointment needs its code")
                # A booked visit is honoured after the cut-off and beyond the quota.
                appointment = use_appointment(session, self.layout, category, appointment_code, now)
            else:
                check_issuing(session, self.layout, category, now)
            if priority_reason == "vip" or (category.is_priority and appointment is None):
                if not vip_card:
                    raise InvalidVipCard("VIP service needs a VIP card")
                check_vip_card(session, vip_card, now, self.layout)
                priority_reason = "vip"
            priority = PRIORITY.get(priority_reason or "", 0)
            ticket = self._new_ticket(
                session,
                category,
                day,
                now,
                status=TicketStatus.WAITING,
                priority_reason=priority_reason,
                priority=priority,
                account_id=account_id,
            )
            if appointment is not None:
                appointment.ticket_id = ticket.id
            self._event(session, ticket, None, "issued", now, {"priority_reason": priority_reason})
            view = self.reads.view(session, ticket)
            if view.estimate_s is not None:
                ticket.estimate_s = round(view.estimate_s)
            work.record(
                ev.TicketTaken(now, ticket.id, ticket.number, category.code, priority_reason)
            )
            return view

    def ticket(self, ticket_id: uuid.UUID) -> TicketView:
        return self.reads.ticket(ticket_id)

    def rate(self, ticket_id: uuid.UUID, score: int, *, uow: UnitOfWork | None = None) -> None:
        """满意度: 1–5 once, after the visit."""
        if not 1 <= score <= 5:
            raise WrongState("a rating is 1 to 5")
        now = self._clock()
        with self._work(uow) as work:
            session = work.session
            ticket = session.get(QueueTicket, ticket_id)
            if ticket is None:
                raise UnknownTicket(f"no ticket {ticket_id}")
            if ticket.status is not TicketStatus.DONE or ticket.rating is not None:
                raise WrongState("only a finished visit is rated, once")
            ticket.rating = score
            self._event(session, ticket, ticket.counter_id, "rated", now, {"score": score})
            work.record(ev.TicketRated(now, ticket.id, ticket.number, score))

    # --- staff --------------------------------------------------------------------------
    def sign_in(
        self,
        counter_number: int,
        staff_no: str,
        pin: str,
        category_codes: Sequence[str] | None = None,
    ) -> None:
        """Staff sign in with their number and PIN, serving these categories (default: the counter's).

        Its own transaction: a wrong PIN is counted even though the sign-in is refused.
        """
        counter = self._counter(counter_number)
        codes = list(category_codes or self._default_codes(counter))
        if not codes:
            raise WrongState(f"counter {counter_number} serves no category")
        ids = [str(self._category(code).id) for code in codes]
        now = self._clock()
        with self._work(None) as work:
            session = work.session
            member = verify_staff(session, self.site_id, staff_no, pin, now)
            current = open_session(session, counter.id)
            if current is not None and current.staff != member.staff_no:
                self._release_called(work, counter, now)
            self._close_sessions(session, counter.id, now)
            session.add(
                CounterSession(
                    origin_site_id=self.site_id,
                    counter_id=counter.id,
                    staff=member.staff_no,
                    category_ids=json.dumps(ids),
                    opened_at=now,
                    created_at=now,
                )
            )
            self._event(
                session, None, counter.id, "signed_in", now, {"categories": codes}, member.staff_no
            )
            work.record(ev.CounterSignedIn(now, counter_number, member.staff_no, tuple(codes)))

    def sign_out(self, counter_number: int, *, uow: UnitOfWork | None = None) -> None:
        """Close the counter. A customer still being served must be finished first; one only
        called goes back to the front of the queue for another counter to call."""
        counter = self._counter(counter_number)
        now = self._clock()
        with self._work(uow) as work:
            session = work.session
            if self._at_counter(session, counter.id, TicketStatus.SERVING) is not None:
                raise StillServing(f"counter {counter_number} is serving someone")
            self._release_called(work, counter, now)
            staff = self._close_sessions(session, counter.id, now)
            self._event(session, None, counter.id, "signed_out", now, {})
            work.record(ev.CounterSignedOut(now, counter_number, staff))

    def pause(
        self, counter_number: int, reason: PauseReason, *, uow: UnitOfWork | None = None
    ) -> None:
        """暂停服务: the counter calls nobody until it resumes (and counts for no estimate)."""
        counter = self._counter(counter_number)
        now = self._clock()
        with self._work(uow) as work:
            session = work.session
            current = open_session(session, counter.id)
            if current is None:
                raise CounterClosed(f"counter {counter_number} is not signed in")
            if self._at_counter(session, counter.id, *ACTIVE) is not None:
                raise StillServing(f"counter {counter_number} has a ticket called or in service")
            if current.paused_at is None:
                current.paused_at = now
                current.pause_reason = reason.value
                self._event(session, None, counter.id, "paused", now, {"reason": reason.value})
                work.record(ev.CounterPaused(now, counter_number, reason.value))

    def resume(self, counter_number: int, *, uow: UnitOfWork | None = None) -> None:
        counter = self._counter(counter_number)
        now = self._clock()
        with self._work(uow) as work:
            session = work.session
            current = open_session(session, counter.id)
            if current is None:
                raise CounterClosed(f"counter {counter_number} is not signed in")
            if current.paused_at is not None:
                current.paused_at = None
                current.pause_reason = None
                self._event(session, None, counter.id, "resumed", now, {})
                work.record(ev.CounterResumed(now, counter_number))

    def counter_status(self, counter_number: int) -> tuple[CounterStatus, TicketView | None]:
        """What the counter terminal shows after a reload: its state and its current ticket."""
        counter = self._counter(counter_number)
        with self.reads.session() as session:
            status = counter_status(session, counter.id)
            ticket = self._at_counter(session, counter.id, *ACTIVE)
            return status, self.reads.view(session, ticket) if ticket else None

    def parked(self, counter_number: int) -> list[TicketView]:
        """Today's tickets parked at this counter, oldest first: the list "return" picks from."""
        counter = self._counter(counter_number)
        with self.reads.session() as session:
            rows = session.scalars(
                select(QueueTicket)
                .where(
                    QueueTicket.origin_site_id == self.site_id,
                    QueueTicket.service_day == self.service_day(),
                    QueueTicket.status == TicketStatus.PARKED,
                    QueueTicket.counter_id == counter.id,
                )
                .order_by(QueueTicket.called_at)
            ).all()
            return [self.reads.view(session, row) for row in rows]

    def call_number(
        self, counter_number: int, number: str, *, uow: UnitOfWork | None = None
    ) -> TicketView:
        """特呼: call a waiting ticket by its number, out of turn."""
        counter = self._counter(counter_number)
        now = self._clock()
        with self._work(uow) as work:
            session = work.session
            self._ready_to_call(work, counter, now, request_key=None)
            ticket = session.scalar(
                select(QueueTicket).where(
                    QueueTicket.origin_site_id == self.site_id,
                    QueueTicket.service_day == self.service_day(now),
                    QueueTicket.number == number.strip().upper(),
                    QueueTicket.status == TicketStatus.WAITING,
                )
            )
            if ticket is None:
                raise UnknownTicket(f"no waiting ticket {number} today")
            return self._call(work, ticket, counter, now, specific=True)

    def call_next(
        self,
        counter_number: int,
        *,
        request_key: str | None = None,
        uow: UnitOfWork | None = None,
    ) -> TicketView | None:
        """Finish the service under way, then call the next: priority first, then the longest wait.

        A ticket called but not yet served is never dropped silently: "next" is refused until
        staff start, recall or no-show it — except a repeat of the same press (``request_key``,
        a double click), which answers with the ticket that press already called.
        """
        counter = self._counter(counter_number)
        now = self._clock()
        with self._work(uow) as work:
            session = work.session
            repeat = self._ready_to_call(work, counter, now, request_key=request_key)
            if repeat is not None:
                return repeat
            served = served_categories(session, self.layout, counter.id)
            assert served is not None  # noqa: S101 - _ready_to_call refused a closed counter
            # The one call policy (domain.queueing.policy), in SQL.
            query = call_candidates(self.site_id, self.service_day(now), counter.id, served)
            query = query.limit(1)
            if self._postgres:
                query = query.with_for_update(skip_locked=True)
            ticket = session.scalar(query)
            if ticket is None:
                return None
            return self._call(work, ticket, counter, now, request_key=request_key)

    def recall(self, counter_number: int, *, uow: UnitOfWork | None = None) -> TicketView | None:
        """Call the same number again; after ``max_recalls`` it becomes a no-show (returns None)."""
        counter = self._counter(counter_number)
        now = self._clock()
        with self._work(uow) as work:
            session = work.session
            ticket = self._current(session, counter.id, TicketStatus.CALLED)
            if ticket.recalls >= self.max_recalls:
                self._mark_no_show(work, ticket, counter_number, now)
                return None
            ticket.recalls += 1
            self._event(session, ticket, counter.id, "recalled", now, {"recalls": ticket.recalls})
            work.record(
                ev.TicketRecalled(now, ticket.id, ticket.number, counter_number, ticket.recalls)
            )
            return self.reads.view(session, ticket)

    def no_show(self, counter_number: int, *, uow: UnitOfWork | None = None) -> None:
        counter = self._counter(counter_number)
        now = self._clock()
        with self._work(uow) as work:
            ticket = self._current(work.session, counter.id, TicketStatus.CALLED)
            self._mark_no_show(work, ticket, counter_number, now)

    def start(self, counter_number: int, *, uow: UnitOfWork | None = None) -> TicketView:
        counter = self._counter(counter_number)
        now = self._clock()
        with self._work(uow) as work:
            session = work.session
            ticket = self._current(session, counter.id, TicketStatus.CALLED)
            ticket.status = TicketStatus.SERVING
            ticket.started_at = now
            self._event(session, ticket, counter.id, "started", now, {})
            work.record(ev.ServiceStarted(now, ticket.id, ticket.number, counter_number))
            return self.reads.view(session, ticket)

    def finish(
        self, counter_number: int, outcome: str = "served", *, uow: UnitOfWork | None = None
    ) -> None:
        counter = self._counter(counter_number)
        now = self._clock()
        with self._work(uow) as work:
            if not self._finish_current(work, counter, now, outcome=outcome):
                raise NothingAtCounter(f"nothing is being served at counter {counter_number}")

    def transfer(
        self,
        counter_number: int,
        *,
        to_category: str | None = None,
        to_counter: int | None = None,
        front: bool = False,
        uow: UnitOfWork | None = None,
    ) -> TicketView:
        """Send the current ticket to another category or counter, to the front or the back."""
        if (to_category is None) == (to_counter is None):
            raise WrongState("transfer to a category or to a counter")
        counter = self._counter(counter_number)
        now = self._clock()
        with self._work(uow) as work:
            session = work.session
            ticket = self._current(session, counter.id, *ACTIVE)
            detail: dict[str, object] = {"front": front}
            if to_category is not None:
                ticket.category_id = self._category(to_category).id
                ticket.target_counter_id = None
                detail["category"] = to_category
            else:
                assert to_counter is not None  # noqa: S101 - checked above
                ticket.target_counter_id = self._counter(to_counter).id
                detail["counter"] = to_counter
            ticket.status = TicketStatus.WAITING
            ticket.counter_id = None
            ticket.at_front = front
            if not front:
                ticket.queued_since = now
            self._event(session, ticket, counter.id, "transferred", now, detail)
            work.record(
                ev.TicketTransferred(
                    now, ticket.id, ticket.number, counter_number, to_category, to_counter, front
                )
            )
            return self.reads.view(session, ticket)

    def park(self, counter_number: int, *, uow: UnitOfWork | None = None) -> TicketView:
        """Hold the current customer (fetching a document, say) and serve others meanwhile."""
        counter = self._counter(counter_number)
        now = self._clock()
        with self._work(uow) as work:
            session = work.session
            ticket = self._current(session, counter.id, *ACTIVE)
            ticket.status = TicketStatus.PARKED
            self._event(session, ticket, counter.id, "parked", now, {})
            work.record(ev.TicketParked(now, ticket.id, ticket.number, counter_number))
            return self.reads.view(session, ticket)

    def return_parked(
        self, counter_number: int, number: str, *, uow: UnitOfWork | None = None
    ) -> TicketView:
        """A parked customer is back: first in line for the counter that parked them."""
        counter = self._counter(counter_number)
        now = self._clock()
        with self._work(uow) as work:
            session = work.session
            ticket = session.scalar(
                select(QueueTicket).where(
                    QueueTicket.origin_site_id == self.site_id,
                    QueueTicket.service_day == self.service_day(now),
                    QueueTicket.number == number,
                    QueueTicket.status == TicketStatus.PARKED,
                )
            )
            if ticket is None:
                raise UnknownTicket(f"no parked ticket {number}")
            ticket.status = TicketStatus.WAITING
            ticket.target_counter_id = counter.id
            ticket.counter_id = None
            ticket.at_front = True
            self._event(session, ticket, counter.id, "returned", now, {})
            work.record(ev.TicketReturned(now, ticket.id, ticket.number, counter_number))
            return self.reads.view(session, ticket)

    def walk_in(
        self, counter_number: int, category_code: str, *, uow: UnitOfWork | None = None
    ) -> TicketView:
        """Serve someone at once without a ticket; they still get a number for the record."""
        counter = self._counter(counter_number)
        category = self._category(category_code)
        now = self._clock()
        with self._work(uow) as work:
            session = work.session
            self._finish_current(work, counter, now, outcome="served")
            ticket = self._new_ticket(
                session,
                category,
                self.service_day(now),
                now,
                status=TicketStatus.SERVING,
                walk_in=True,
                counter_id=counter.id,
                called_at=now,
                started_at=now,
            )
            self._event(session, ticket, counter.id, "walk_in", now, {})
            work.record(
                ev.WalkInServed(now, ticket.id, ticket.number, counter_number, category.code)
            )
            return self.reads.view(session, ticket)

    # --- the hall as a whole -------------------------------------------------------------

    # --- internals ----------------------------------------------------------------------

    def _new_ticket(
        self, session: Session, category: ServiceCategory, day: date, now: datetime, **state: Any
    ) -> QueueTicket:
        """A ticket with the category's next number today, added and flushed."""
        seq = self._next_seq(session, category, day)
        ticket = QueueTicket(
            origin_site_id=self.site_id,
            category_id=category.id,
            issued_category_id=category.id,
            service_day=day,
            seq=seq,
            number=f"{category.prefix}{seq:03d}",
            issued_at=now,
            queued_since=now,
            created_at=now,
            **state,
        )
        session.add(ticket)
        session.flush()
        return ticket

    def _next_seq(self, session: Session, category: ServiceCategory, day: date) -> int:
        """The next number of ``category`` today. Serialised: PostgreSQL locks the category row;
        SQLite's write transaction already holds the database lock (BEGIN IMMEDIATE)."""
        if self._postgres:
            session.execute(
                select(ServiceCategory.id)
                .where(ServiceCategory.id == category.id)
                .with_for_update()
            )
        last = session.scalar(
            select(func.max(QueueTicket.seq)).where(
                QueueTicket.origin_site_id == self.site_id,
                QueueTicket.issued_category_id == category.id,
                QueueTicket.service_day == day,
            )
        )
        return (last or 0) + 1

    def _event(
        self,
        session: Session,
        ticket: QueueTicket | None,
        counter_id: uuid.UUID | None,
        action: str,
        at: datetime,
        detail: dict[str, object],
        staff: str | None = None,
    ) -> None:
        session.add(
            QueueEvent(
                origin_site_id=self.site_id,
                ticket_id=ticket.id if ticket else None,
                counter_id=counter_id,
                action=action,
                at=at,
                staff=staff,
                detail=json.dumps(detail, ensure_ascii=False),
                created_at=at,
            )
        )

    def _close_sessions(self, session: Session, counter_id: uuid.UUID, now: datetime) -> str | None:
        """Close the counter's open sessions; the staff who was signed in, if anyone."""
        staff = None
        for row in session.scalars(
            select(CounterSession).where(
                CounterSession.counter_id == counter_id, CounterSession.closed_at.is_(None)
            )
        ):
            row.closed_at = now
            staff = row.staff
        return staff

    def _default_codes(self, counter: Counter) -> list[str]:
        ids = self.layout.default_served.get(counter.id, frozenset())
        return sorted(self.layout.category_by_id[i].code for i in ids)

    def _at_counter(
        self, session: Session, counter_id: uuid.UUID, *statuses: TicketStatus
    ) -> QueueTicket | None:
        return session.scalar(
            select(QueueTicket)
            .where(
                QueueTicket.origin_site_id == self.site_id,
                QueueTicket.counter_id == counter_id,
                QueueTicket.status.in_(statuses),
            )
            .order_by(QueueTicket.called_at.desc())
            .limit(1)
        )

    def _ready_to_call(
        self, work: UnitOfWork, counter: Counter, now: datetime, *, request_key: str | None
    ) -> TicketView | None:
        """Refuse a call the counter cannot make; finish a service under way. A repeated press
        (same ``request_key``) gets the ticket it already called."""
        session = work.session
        called = self._at_counter(session, counter.id, TicketStatus.CALLED)
        if called is not None:
            if request_key is not None and self._called_by(session, called, request_key):
                return self.reads.view(session, called)
            raise CalledNotResolved(f"{called.number} is called at counter {counter.number}")
        if served_categories(session, self.layout, counter.id) is None:
            raise CounterClosed(f"counter {counter.number} is not open")
        self._finish_current(work, counter, now, outcome="served")
        return None

    def _called_by(self, session: Session, ticket: QueueTicket, request_key: str) -> bool:
        detail = session.scalar(
            select(QueueEvent.detail)
            .where(QueueEvent.ticket_id == ticket.id, QueueEvent.action == "called")
            .order_by(QueueEvent.at.desc())
            .limit(1)
        )
        return detail is not None and json.loads(detail).get("request") == request_key

    def _call(
        self,
        work: UnitOfWork,
        ticket: QueueTicket,
        counter: Counter,
        now: datetime,
        *,
        specific: bool = False,
        request_key: str | None = None,
    ) -> TicketView:
        session = work.session
        ticket.status = TicketStatus.CALLED
        ticket.counter_id = counter.id
        ticket.called_at = now
        if ticket.estimate_s is not None and not ticket.walk_in:
            self.reads.observe_wait(
                ticket.issued_category_id,
                ticket.estimate_s,
                (now - ticket.issued_at).total_seconds(),
            )
        ticket.recalls = 0
        ticket.target_counter_id = None
        ticket.at_front = False
        detail: dict[str, object] = {"counter": counter.number}
        if specific:
            detail["specific"] = True
        if request_key is not None:
            detail["request"] = request_key
        self._event(session, ticket, counter.id, "called", now, detail)
        work.record(ev.TicketCalled(now, ticket.id, ticket.number, counter.number, specific))
        return self.reads.view(session, ticket)

    def _release_called(self, work: UnitOfWork, counter: Counter, now: datetime) -> None:
        """A ticket called here but not served goes back to the front of the queue."""
        ticket = self._at_counter(work.session, counter.id, TicketStatus.CALLED)
        if ticket is None:
            return
        ticket.status = TicketStatus.WAITING
        ticket.counter_id = None
        ticket.at_front = True
        self._event(work.session, ticket, counter.id, "released", now, {})
        work.record(
            ev.TicketTransferred(now, ticket.id, ticket.number, counter.number, None, None, True)
        )

    def _mark_no_show(
        self, work: UnitOfWork, ticket: QueueTicket, counter_number: int, now: datetime
    ) -> None:
        ticket.status = TicketStatus.NO_SHOW
        ticket.finished_at = now
        ticket.outcome = "no_show"
        self._event(
            work.session, ticket, ticket.counter_id, "no_show", now, {"recalls": ticket.recalls}
        )
        work.record(ev.TicketNoShow(now, ticket.id, ticket.number, counter_number))

    def _current(
        self, session: Session, counter_id: uuid.UUID, *statuses: TicketStatus
    ) -> QueueTicket:
        ticket = session.scalar(
            select(QueueTicket)
            .where(
                QueueTicket.origin_site_id == self.site_id,
                QueueTicket.counter_id == counter_id,
                QueueTicket.status.in_(statuses),
            )
            .order_by(QueueTicket.called_at.desc())
            .limit(1)
        )
        if ticket is None:
            raise NothingAtCounter(
                f"no {'/'.join(s.value for s in statuses)} ticket at this counter"
            )
        return ticket

    def _finish_current(
        self, work: UnitOfWork, counter: Counter, now: datetime, *, outcome: str
    ) -> bool:
        session = work.session
        tickets = session.scalars(
            select(QueueTicket).where(
                QueueTicket.origin_site_id == self.site_id,
                QueueTicket.counter_id == counter.id,
                QueueTicket.status.in_(ACTIVE),
            )
        ).all()
        for ticket in tickets:
            if ticket.status is TicketStatus.CALLED and outcome == "served":
                # "Next" before "start": the customer did not come forward.
                ticket.status, ticket.outcome = TicketStatus.NO_SHOW, "skipped"
            else:
                ticket.status, ticket.outcome = TicketStatus.DONE, outcome
            ticket.finished_at = now
            self._event(session, ticket, counter.id, "finished", now, {"outcome": ticket.outcome})
            work.record(
                ev.TicketFinished(
                    now, ticket.id, ticket.number, counter.number, ticket.outcome or ""
                )
            )
        return bool(tickets)
