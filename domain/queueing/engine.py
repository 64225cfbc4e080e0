"""The queue engine of one hall: take a ticket, call, recall, transfer, park, serve, rate.

Every action writes the ticket's new state and an append-only ``QueueEvent`` in one
transaction. Two counters pressing "next" at once never get the same ticket: on PostgreSQL
the candidate row is locked with ``FOR UPDATE SKIP LOCKED``; on SQLite each write
transaction takes the database lock at ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import collections
import contextlib
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, case, func, or_, select
from sqlalchemy.orm import Session

from domain import events as ev
from domain.queueing.errors import (
    NothingAtCounter,
    UnknownCategory,
    UnknownCounter,
    UnknownTicket,
    WrongState,
)
from domain.queueing.estimate import (
    Calibration,
    Desk,
    ServiceTimeLearner,
    Waiter,
    linear_rule,
    replay_wait,
)
from domain.uow import UnitOfWork, UnitsOfWork
from servicedb.engine import make_session_factory
from servicedb.models import (
    Counter,
    CounterCategory,
    CounterSession,
    QueueEvent,
    QueueTicket,
    ServiceCategory,
    Site,
    TicketStatus,
)
from servicedb.types import utcnow

Clock = Callable[[], datetime]

# Who is called first among those waiting: appointment check-ins, then VIPs, then the
# elderly and people with disabilities, then everyone else.
PRIORITY = {"appointment": 3, "vip": 2, "elderly": 1, "disabled": 1}
ACTIVE = (TicketStatus.CALLED, TicketStatus.SERVING)


@dataclass(frozen=True)
class TicketView:
    ticket_id: uuid.UUID
    number: str
    category: str
    status: str
    counter: int | None
    people_ahead: int
    estimate_s: float | None
    linear_estimate_s: float | None
    issued_at: datetime
    called_at: datetime | None


@dataclass(frozen=True)
class CategoryOverview:
    code: str
    prefix: str
    name_zh: str
    name_en: str
    waiting: int
    counters_open: float
    estimate_s: float | None  # for a ticket taken now


@dataclass(frozen=True)
class CallView:
    number: str
    counter: int
    at: datetime
    recalls: int


@dataclass(frozen=True)
class HallOverview:
    site: str
    service_day: date
    categories: tuple[CategoryOverview, ...]
    now_serving: tuple[CallView, ...]  # the ticket at each counter that has one, newest call first


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
        self._reads = make_session_factory(engine)
        self._clock = clock
        self.max_recalls = max_recalls
        with self._reads() as session:
            site = session.scalar(select(Site).where(Site.code == site_code))
            if site is None:
                raise UnknownCounter(f"no site {site_code!r}")
            self.site_id = site.id
            self.site_code = site_code
            self.site_names = (site.name_zh, site.name_en)
            self.timezone = ZoneInfo(site.timezone)
            categories = session.scalars(
                select(ServiceCategory).where(ServiceCategory.site_id == site.id)
            ).all()
            self._categories = {c.code: c for c in categories}
            self._category_by_id = {c.id: c for c in categories}
            counters = session.scalars(select(Counter).where(Counter.site_id == site.id)).all()
            self._counters = {c.number: c for c in counters}
            self._counter_by_id = {c.id: c for c in counters}
            self._default_served: dict[uuid.UUID, set[uuid.UUID]] = {}
            for link in session.scalars(
                select(CounterCategory).where(
                    CounterCategory.counter_id.in_([c.id for c in counters])
                )
            ):
                self._default_served.setdefault(link.counter_id, set()).add(link.category_id)
        self._learners = {
            c.id: ServiceTimeLearner(float(c.mean_service_seconds)) for c in categories
        }
        self._calibrations = {c.id: Calibration() for c in categories}
        self._postgres = engine.dialect.name == "postgresql"
        self._learn_from_today()

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
        return (moment or self._clock()).astimezone(self.timezone).date()

    @property
    def categories(self) -> Sequence[ServiceCategory]:
        return list(self._categories.values())

    def _category(self, code: str) -> ServiceCategory:
        category = self._categories.get(code)
        if category is None or not category.active:
            raise UnknownCategory(f"no active category {code!r} at {self.site_code}")
        return category

    def _counter(self, number: int) -> Counter:
        counter = self._counters.get(number)
        if counter is None:
            raise UnknownCounter(f"no counter {number} at {self.site_code}")
        return counter

    # --- customers ----------------------------------------------------------------------
    def take_ticket(
        self,
        category_code: str,
        *,
        priority_reason: str | None = None,
        account_id: uuid.UUID | None = None,
        uow: UnitOfWork | None = None,
    ) -> TicketView:
        category = self._category(category_code)
        if priority_reason is not None and priority_reason not in PRIORITY:
            raise WrongState(f"unknown priority reason {priority_reason!r}")
        now = self._clock()
        day = self.service_day(now)
        with self._work(uow) as work:
            session = work.session
            priority = max(
                PRIORITY.get(priority_reason or "", 0),
                PRIORITY["vip"] if category.is_priority else 0,
            )
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
            self._event(session, ticket, None, "issued", now, {"priority_reason": priority_reason})
            view = self._view(session, ticket)
            if view.estimate_s is not None:
                ticket.estimate_s = round(view.estimate_s)
            work.record(
                ev.TicketTaken(now, ticket.id, ticket.number, category.code, priority_reason)
            )
            return view

    def ticket(self, ticket_id: uuid.UUID) -> TicketView:
        with self._reads() as session:
            ticket = session.get(QueueTicket, ticket_id)
            if ticket is None or ticket.origin_site_id != self.site_id:
                raise UnknownTicket(f"no ticket {ticket_id}")
            return self._view(session, ticket)

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
        staff: str,
        category_codes: Sequence[str],
        *,
        uow: UnitOfWork | None = None,
    ) -> None:
        counter = self._counter(counter_number)
        ids = [str(self._category(code).id) for code in category_codes]
        now = self._clock()
        with self._work(uow) as work:
            session = work.session
            self._close_sessions(session, counter.id, now)
            session.add(
                CounterSession(
                    origin_site_id=self.site_id,
                    counter_id=counter.id,
                    staff=staff,
                    category_ids=json.dumps(ids),
                    opened_at=now,
                    created_at=now,
                )
            )
            self._event(
                session,
                None,
                counter.id,
                "signed_in",
                now,
                {"categories": list(category_codes)},
                staff,
            )
            work.record(ev.CounterSignedIn(now, counter_number, staff, tuple(category_codes)))

    def sign_out(self, counter_number: int, *, uow: UnitOfWork | None = None) -> None:
        counter = self._counter(counter_number)
        now = self._clock()
        with self._work(uow) as work:
            session = work.session
            staff = self._close_sessions(session, counter.id, now)
            self._event(session, None, counter.id, "signed_out", now, {})
            work.record(ev.CounterSignedOut(now, counter_number, staff))

    def call_next(self, counter_number: int, *, uow: UnitOfWork | None = None) -> TicketView | None:
        """Finish what is at the counter, then call the next: priority first, then the longest wait."""
        counter = self._counter(counter_number)
        now = self._clock()
        with self._work(uow) as work:
            session = work.session
            served = self._served(session, counter.id)
            if served is None:
                raise WrongState(f"counter {counter_number} is signed out")
            self._finish_current(work, counter, now, outcome="served")
            query = (
                select(QueueTicket)
                .where(
                    QueueTicket.origin_site_id == self.site_id,
                    QueueTicket.service_day == self.service_day(now),
                    QueueTicket.status == TicketStatus.WAITING,
                    or_(
                        QueueTicket.target_counter_id == counter.id,
                        and_(
                            QueueTicket.target_counter_id.is_(None),
                            QueueTicket.category_id.in_(served),
                        ),
                    ),
                )
                .order_by(
                    case((QueueTicket.target_counter_id == counter.id, 0), else_=1),
                    QueueTicket.priority.desc(),
                    QueueTicket.at_front.desc(),
                    QueueTicket.queued_since,
                    QueueTicket.seq,
                )
                .limit(1)
            )
            if self._postgres:
                query = query.with_for_update(skip_locked=True)
            ticket = session.scalar(query)
            if ticket is None:
                return None
            ticket.status = TicketStatus.CALLED
            ticket.counter_id = counter.id
            ticket.called_at = now
            if ticket.estimate_s is not None and not ticket.walk_in:
                self._calibrations[ticket.issued_category_id].observe(
                    ticket.estimate_s, (now - ticket.issued_at).total_seconds()
                )
            ticket.recalls = 0
            ticket.target_counter_id = None
            ticket.at_front = False
            self._event(session, ticket, counter.id, "called", now, {"counter": counter.number})
            work.record(ev.TicketCalled(now, ticket.id, ticket.number, counter_number))
            return self._view(session, ticket)

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
            return self._view(session, ticket)

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
            return self._view(session, ticket)

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
            return self._view(session, ticket)

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
            return self._view(session, ticket)

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
            return self._view(session, ticket)

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
            return self._view(session, ticket)

    # --- the hall as a whole -------------------------------------------------------------
    def overview(self) -> HallOverview:
        now = self._clock()
        day = self.service_day(now)
        with self._reads() as session:
            everyone = self._waiting(session, day)
            desks = self._desks(session, day, now)
            no_show_rate = self._no_show_rate(session, day)
            waiting = collections.Counter(t.category_id for t in everyone)
            categories = []
            for category in self._categories.values():
                if not category.active:
                    continue
                count = int(waiting.get(category.id, 0))
                # A ticket taken now queues behind everyone of its priority or higher.
                own_priority = PRIORITY["vip"] if category.is_priority else 0
                before = [t for t in everyone if t.priority >= own_priority]
                estimate, _linear = self._estimates(category.id, before, desks, no_show_rate)
                categories.append(
                    CategoryOverview(
                        category.code,
                        category.prefix,
                        category.name_zh,
                        category.name_en,
                        count,
                        float(sum(1 for desk in desks if category.id in desk.serves)),
                        estimate,
                    )
                )
            active = session.scalars(
                select(QueueTicket)
                .where(
                    QueueTicket.origin_site_id == self.site_id,
                    QueueTicket.service_day == day,
                    QueueTicket.status.in_(ACTIVE),
                )
                .order_by(QueueTicket.called_at.desc())
            ).all()
            serving = tuple(
                CallView(
                    t.number,
                    self._counter_by_id[t.counter_id].number,
                    t.called_at or now,
                    t.recalls,
                )
                for t in active
                if t.counter_id is not None
            )
        return HallOverview(self.site_code, day, tuple(categories), serving)

    def recent_calls(self, limit: int = 5) -> list[CallView]:
        """The last calls (and recalls) made, newest first — what the board lists."""
        with self._reads() as session:
            rows = session.execute(
                select(QueueEvent, QueueTicket.number)
                .join(QueueTicket, QueueEvent.ticket_id == QueueTicket.id)
                .where(
                    QueueEvent.origin_site_id == self.site_id,
                    QueueEvent.action.in_(("called", "recalled")),
                )
                .order_by(QueueEvent.at.desc())
                .limit(limit)
            ).all()
            return [
                CallView(
                    number,
                    self._counter_by_id[event.counter_id].number,
                    event.at,
                    int(json.loads(event.detail).get("recalls", 0)),
                )
                for event, number in rows
                if event.counter_id in self._counter_by_id
            ]

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

    def _learn_from_today(self) -> None:
        """After a restart, today's finished services teach the estimate again."""
        with self._reads() as session:
            rows = session.execute(
                select(QueueTicket.category_id, QueueTicket.started_at, QueueTicket.finished_at)
                .where(
                    QueueTicket.origin_site_id == self.site_id,
                    QueueTicket.service_day == self.service_day(),
                    QueueTicket.status == TicketStatus.DONE,
                    QueueTicket.started_at.is_not(None),
                )
                .order_by(QueueTicket.finished_at)
            ).all()
        for category_id, started, finished in rows:
            if category_id in self._learners and started and finished:
                self._learners[category_id].observe((finished - started).total_seconds())

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
        for open_session in session.scalars(
            select(CounterSession).where(
                CounterSession.counter_id == counter_id, CounterSession.closed_at.is_(None)
            )
        ):
            open_session.closed_at = now
            staff = open_session.staff
        return staff

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

    def _served(self, session: Session, counter_id: uuid.UUID) -> set[uuid.UUID] | None:
        """Categories the counter serves now; None when staff signed out."""
        latest = session.scalar(
            select(CounterSession)
            .where(CounterSession.counter_id == counter_id)
            .order_by(CounterSession.opened_at.desc())
            .limit(1)
        )
        if latest is None:
            return self._default_served.get(counter_id, set())
        if latest.closed_at is not None:
            return None
        return {uuid.UUID(value) for value in json.loads(latest.category_ids)}

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
                if ticket.started_at is not None:
                    self._learners[ticket.category_id].observe(
                        (now - ticket.started_at).total_seconds()
                    )
                ticket.status, ticket.outcome = TicketStatus.DONE, outcome
            ticket.finished_at = now
            self._event(session, ticket, counter.id, "finished", now, {"outcome": ticket.outcome})
            work.record(
                ev.TicketFinished(
                    now, ticket.id, ticket.number, counter.number, ticket.outcome or ""
                )
            )
        return bool(tickets)

    def _desks(self, session: Session, day: date, now: datetime) -> list[Desk]:
        """The open counters, what they serve, and the service under way at each."""
        under_way = {
            t.counter_id: t
            for t in session.scalars(
                select(QueueTicket).where(
                    QueueTicket.origin_site_id == self.site_id,
                    QueueTicket.service_day == day,
                    QueueTicket.status.in_(ACTIVE),
                )
            )
        }
        desks = []
        for counter in self._counters.values():
            served = self._served(session, counter.id)
            if not served:
                continue
            busy = under_way.get(counter.id)
            since = (busy.started_at or busy.called_at) if busy else None
            desks.append(
                Desk(
                    counter.id,
                    frozenset(served),
                    busy.category_id if busy else None,
                    (now - since).total_seconds() if since else 0.0,
                )
            )
        return desks

    def _waiting(self, session: Session, day: date) -> list[QueueTicket]:
        """Everyone waiting, in the order counters call them."""
        return list(
            session.scalars(
                select(QueueTicket)
                .where(
                    QueueTicket.origin_site_id == self.site_id,
                    QueueTicket.service_day == day,
                    QueueTicket.status == TicketStatus.WAITING,
                )
                .order_by(
                    QueueTicket.priority.desc(),
                    QueueTicket.at_front.desc(),
                    QueueTicket.queued_since,
                    QueueTicket.seq,
                )
            )
        )

    def _no_show_rate(self, session: Session, day: date) -> float:
        """Today's share of called tickets that did not come, pulled towards 8 % early in the day."""
        counts = dict(
            session.execute(
                select(QueueTicket.status, func.count())
                .where(
                    QueueTicket.origin_site_id == self.site_id,
                    QueueTicket.service_day == day,
                    QueueTicket.status.in_((TicketStatus.DONE, TicketStatus.NO_SHOW)),
                )
                .group_by(QueueTicket.status)
            ).all()
        )
        no_shows = counts.get(TicketStatus.NO_SHOW, 0)
        total = no_shows + counts.get(TicketStatus.DONE, 0)
        return (no_shows + 0.08 * 20) / (total + 20)

    def _estimates(
        self,
        category_id: uuid.UUID,
        ahead: list[QueueTicket],
        desks: list[Desk],
        no_show_rate: float,
    ) -> tuple[float | None, float | None]:
        """(ours, the linear rule) for a ticket of ``category_id`` with ``ahead`` before it."""
        means: dict[object, float] = {
            cid: learner.mean_s for cid, learner in self._learners.items()
        }
        line = [Waiter(t.category_id, t.target_counter_id) for t in ahead] + [Waiter(category_id)]
        ours = self._calibrations[category_id].apply(
            replay_wait(line, len(ahead), desks, means, no_show_rate=no_show_rate)
        )
        same = sum(1 for t in ahead if t.category_id == category_id)
        counters = sum(1 for desk in desks if category_id in desk.serves)
        return ours, linear_rule(same, counters, means[category_id])

    def _view(self, session: Session, ticket: QueueTicket) -> TicketView:
        ahead = 0
        estimate = linear = None
        if ticket.status is TicketStatus.WAITING:
            everyone = self._waiting(session, ticket.service_day)
            position = next((i for i, t in enumerate(everyone) if t.id == ticket.id), len(everyone))
            before = everyone[:position]
            # What the ticket prints: people of the same service called before this one.
            ahead = sum(1 for t in before if t.category_id == ticket.category_id)
            estimate, linear = self._estimates(
                ticket.category_id,
                before,
                self._desks(session, ticket.service_day, self._clock()),
                self._no_show_rate(session, ticket.service_day),
            )
        counter = self._counter_by_id.get(ticket.counter_id) if ticket.counter_id else None
        return TicketView(
            ticket.id,
            ticket.number,
            self._category_by_id[ticket.category_id].code,
            ticket.status.value,
            counter.number if counter else None,
            ahead,
            estimate,
            linear,
            ticket.issued_at,
            ticket.called_at,
        )
