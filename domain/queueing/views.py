"""The read side of the queue: what a ticket, the hall and the board are told.

Everything here reads; nothing writes. A ``HallSnapshot`` holds the waiting tickets as
``policy.Ticket`` values (kept in memory and brought up to date by ``WaitingList``), the
counters — open now, or expected back by the roster — and who is at them. The call policy
(``domain.queueing.policy``) orders it, and one replay (``estimate.forecast``) gives every
waiting ticket and a ticket of every category taken now its wait; an overview is one
replay, reused while the hall and the clock have not moved. What the replay is given is
learned from the hall's own records (``domain.queueing.learning``).
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import Engine, Select, and_, case, or_, select
from sqlalchemy.orm import Session

from domain.queueing import policy
from domain.queueing.counter_state import served_categories
from domain.queueing.errors import UnknownTicket
from domain.queueing.estimate import (
    Calibration,
    Desk,
    Forecast,
    expected_desk,
    forecast,
    linear_rule,
)
from domain.queueing.layout import HallLayout
from domain.queueing.learning import HallLearning
from domain.queueing.waiting import WaitingList
from servicedb.engine import make_session_factory
from servicedb.models import QueueEvent, QueueTicket, TicketStatus

Clock = Callable[[], datetime]

# Who is called first among those waiting: appointment check-ins, then VIPs, then the
# elderly and people with disabilities, then everyone else.
PRIORITY = {"appointment": 3, "vip": 2, "elderly": 1, "disabled": 1}
ACTIVE = (TicketStatus.CALLED, TicketStatus.SERVING)

# What an estimate means for the person reading it:
#   "no_counter": no staffed, unpaused counter serves this ticket now (no number of minutes);
#   "no_wait": a counter is free for it now (无需等候);
#   "estimated": ``estimate_s`` seconds, roughly.
EstimateState = Literal["no_counter", "no_wait", "estimated"]
# Under this the call comes about as fast as the customer can walk up: nothing to wait for.
NO_WAIT_BELOW_S = 30.0
# An overview's replay is reused (its waits read later) for this long while nothing changes.
REUSE_S = 5.0


def estimate_state(estimate_s: float | None) -> EstimateState:
    if estimate_s is None:
        return "no_counter"
    return "no_wait" if estimate_s < NO_WAIT_BELOW_S else "estimated"


@dataclass(frozen=True)
class TicketView:
    ticket_id: uuid.UUID
    number: str
    category: str
    status: str
    counter: int | None
    # Calls at the counters that may call this ticket that can come before it (see
    # ``policy.people_ahead``); 0 unless waiting.
    people_ahead: int
    estimate_s: float | None
    linear_estimate_s: float | None
    issued_at: datetime
    called_at: datetime | None
    estimate_state: EstimateState | None = None  # None unless waiting


@dataclass(frozen=True)
class CategoryOverview:
    code: str
    prefix: str
    name_zh: str
    name_en: str
    waiting: int
    counters_open: float
    estimate_s: float | None  # for a ticket taken now
    estimate_state: EstimateState = "no_counter"


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


def call_candidates(
    site_id: uuid.UUID, day: date, counter_id: uuid.UUID, served: Iterable[uuid.UUID]
) -> Select[QueueTicket]:
    """The waiting tickets counter ``counter_id`` may call, in the order it calls them.

    ``policy.may_call`` and ``policy.rank`` in SQL: sent to this counter, or sent nowhere
    and of a category it serves; those sent to it first, then ``policy.call_key``.
    """
    return (
        select(QueueTicket)
        .where(
            QueueTicket.origin_site_id == site_id,
            QueueTicket.service_day == day,
            QueueTicket.status == TicketStatus.WAITING,
            or_(
                QueueTicket.target_counter_id == counter_id,
                and_(
                    QueueTicket.target_counter_id.is_(None),
                    QueueTicket.category_id.in_(list(served)),
                ),
            ),
        )
        .order_by(
            case((QueueTicket.target_counter_id == counter_id, 0), else_=1),
            QueueTicket.priority.desc(),
            QueueTicket.at_front.desc(),
            QueueTicket.queued_since,
            QueueTicket.seq,
            QueueTicket.id,
        )
    )


@dataclass(frozen=True)
class HallSnapshot:
    """The hall at one moment, in plain values: enough to order the queue and replay it."""

    day: date
    now: datetime
    waiting: tuple[policy.Ticket, ...]
    desks: tuple[Desk, ...]
    serving: tuple[CallView, ...]
    version: int | None  # the waiting list's version; None when read inside a transaction
    # Read inside a transaction: the committed version it started from, and the tickets
    # that differ from it (None: unknown).
    base_version: int = 0
    changed: frozenset[uuid.UUID] | None = frozenset()

    def counters(self) -> list[policy.Counter]:
        """The counters open now (staffed, not paused)."""
        return [policy.Counter(d.counter, d.serves) for d in self.desks if d.open_now]


class QueueReads:
    """Answers about the queue, from one snapshot and one replay of the call policy.

    One instance serves the whole hall process (the API's threads, the board's loop); the
    kept waiting list and what is learned are shared, behind a lock.
    """

    def __init__(self, engine: Engine, layout: HallLayout, clock: Clock) -> None:
        self.layout = layout
        self._reads = make_session_factory(engine)
        self._clock = clock
        self.learning = HallLearning(layout)
        self.waiting_list = WaitingList(layout.site_id)
        # Actual ÷ printed wait per category. Watched, not applied: with the roster and
        # the learned counter times, scaling by it made estimates worse on the bench
        # (bench/queue_estimates.py, normal days: MAE 3.52 min with it, 2.96 without).
        self.calibrations = {c.id: Calibration() for c in layout.categories.values()}
        self._lock = threading.Lock()
        self._refreshed: tuple[int, date, datetime] | None = None
        self._forecast: tuple[object, datetime, Forecast] | None = None
        self.learn_from_today()

    def session(self) -> Session:
        """A read-only session (the caller closes it: ``with reads.session() as s``)."""
        return self._reads()

    # --- learning -----------------------------------------------------------------------
    def observe_wait(self, category_id: uuid.UUID, printed_s: float, actual_s: float) -> None:
        self.calibrations[category_id].observe(printed_s, actual_s)

    def learn_from_today(self) -> None:
        """Learn from today's finished tickets (after a restart: all of them)."""
        now = self._clock()
        with self._reads() as session:
            session.connection()
            with self._lock:
                self.learning.refresh(session, self.layout.service_day(now), now)

    def _refresh(self, session: Session, day: date, now: datetime) -> None:
        """Learn when the hall has changed, or at least once a minute (the arrival rates)."""
        seen = self._refreshed
        version = self.waiting_list.version
        if seen is not None and seen[:2] == (version, day) and now - seen[2] < timedelta(minutes=1):
            return
        self.learning.refresh(session, day, now)
        self._refreshed = (version, day, now)

    # --- reading ------------------------------------------------------------------------
    def ticket(self, ticket_id: uuid.UUID) -> TicketView:
        with self._reads() as session:
            ticket = session.get(QueueTicket, ticket_id)
            if ticket is None or ticket.origin_site_id != self.layout.site_id:
                raise UnknownTicket(f"no ticket {ticket_id}")
            return self.view(session, ticket, committed=True)

    def overview(self) -> HallOverview:
        now = self._clock()
        day = self.layout.service_day(now)
        with self._reads() as session:
            snapshot = self.snapshot(session, day, now, committed=True)
            plan = self.forecast(snapshot)
        waiting: dict[object, int] = {}
        for ticket in snapshot.waiting:
            waiting[ticket.category] = waiting.get(ticket.category, 0) + 1
        open_counters = snapshot.counters()
        categories = []
        for category in self.layout.categories.values():
            if not category.active:
                continue
            open_for = sum(1 for c in open_counters if category.id in c.serves)
            # Only a counter open now makes a wait: none open, no estimate ("no_counter").
            estimate = plan.newcomer(category.id) if open_for else None
            categories.append(
                CategoryOverview(
                    category.code,
                    category.prefix,
                    category.name_zh,
                    category.name_en,
                    waiting.get(category.id, 0),
                    float(open_for),
                    estimate,
                    estimate_state(estimate),
                )
            )
        return HallOverview(self.layout.site_code, day, tuple(categories), snapshot.serving)

    def recent_calls(self, limit: int = 5) -> list[CallView]:
        """The last calls (and recalls) made, newest first — what the board lists."""
        with self._reads() as session:
            rows = session.execute(
                select(QueueEvent.counter_id, QueueEvent.at, QueueEvent.detail, QueueTicket.number)
                .join(QueueTicket, QueueEvent.ticket_id == QueueTicket.id)
                .where(
                    QueueEvent.origin_site_id == self.layout.site_id,
                    QueueEvent.action.in_(("called", "recalled")),
                )
                .order_by(QueueEvent.at.desc())
                .limit(limit)
            ).all()
            return [
                CallView(
                    number,
                    self.layout.counter_by_id[counter_id].number,
                    at,
                    int(json.loads(detail).get("recalls", 0)),
                )
                for counter_id, at, detail, number in rows
                if counter_id in self.layout.counter_by_id
            ]

    def snapshot(
        self, session: Session, day: date, now: datetime, *, committed: bool = False
    ) -> HallSnapshot:
        """The waiting tickets, the counters and who is at them, as ``session`` sees them.

        ``committed``: ``session`` is a read session. Otherwise it is a command's, and its
        own uncommitted changes are part of the answer (but are not remembered).
        """
        changed: frozenset[uuid.UUID] | None = frozenset()
        with contextlib.ExitStack() as stack:
            # Connections are checked out before the lock is taken, never while holding it.
            read = session if committed else stack.enter_context(self._reads())
            read.connection()
            session.connection()
            with self._lock:
                waiting = self.waiting_list.current(read, day)
                self._refresh(read, day, now)
                if not committed:
                    waiting, changed = self.waiting_list.within(session, day)
                base_version = self.waiting_list.version
                roster = self.learning.roster(read, day)
        active = session.execute(
            select(
                QueueTicket.number,
                QueueTicket.counter_id,
                QueueTicket.category_id,
                QueueTicket.called_at,
                QueueTicket.recalls,
            )
            .where(
                QueueTicket.origin_site_id == self.layout.site_id,
                QueueTicket.service_day == day,
                QueueTicket.status.in_(ACTIVE),
            )
            .order_by(QueueTicket.called_at.desc())
        ).all()
        at_counter = {row.counter_id: row for row in active if row.counter_id is not None}
        midnight = datetime.combine(day, datetime.min.time(), self.layout.timezone)
        now_s = (now - midnight).total_seconds()
        desks = []
        for counter in self.layout.counters.values():
            # None (or nothing): signed out or paused, it calls nobody now.
            served = served_categories(session, self.layout, counter.id) or None
            busy = at_counter.get(counter.id)
            free_in = 0.0
            if served and busy is not None:
                called_ago = (now - (busy.called_at or now)).total_seconds()
                free_in = self.learning.busy_for_s(busy.category_id, called_ago)
            desk = expected_desk(counter.id, roster.get(counter.id, ()), now_s, served, free_in)
            if desk is not None:
                desks.append(desk)
        serving = tuple(
            CallView(
                row.number,
                self.layout.counter_by_id[row.counter_id].number,
                row.called_at or now,
                row.recalls,
            )
            for row in active
            if row.counter_id in self.layout.counter_by_id
        )
        version = base_version if committed else None
        return HallSnapshot(
            day, now, waiting, tuple(desks), serving, version, base_version, changed
        )

    def forecast(self, snapshot: HallSnapshot) -> Forecast:
        """One replay for the whole hall, reused while the hall has not changed.

        The screen polls twice a second; between changes only the clock moves. Within
        ``REUSE_S`` of a replay of the same state its waits are read that much later
        instead of replaying again (the counters' progress is then at most that stale).
        """
        learning = self.learning
        key = self._state_key(snapshot, snapshot.version)
        if snapshot.version is not None:
            reused = self._reuse(key, snapshot.now)
            if reused is not None:
                return reused
        newcomers = {
            c.id: PRIORITY["vip"] if c.is_priority else 0
            for c in self.layout.categories.values()
            if c.active
        }
        plan = forecast(
            snapshot.waiting,
            snapshot.desks,
            learning.per_call_s(),
            now=snapshot.now,
            newcomers=newcomers,
            arrivals=learning.arrivals,
        )
        if snapshot.version is not None:
            self._forecast = (key, snapshot.now, plan)
        return plan

    def _state_key(self, snapshot: HallSnapshot, version: int | None) -> object:
        """What a replay depends on, except the clock."""
        return (
            version,
            snapshot.day,
            tuple((d.counter, d.serves, d.open_now) for d in snapshot.desks),
            snapshot.serving,
            tuple(self.learning.arrivals),
        )

    def _reuse(self, key: object, now: datetime) -> Forecast | None:
        """The kept replay of this state, read at ``now``, if it is recent enough."""
        cached = self._forecast
        if cached is None or cached[0] != key:
            return None
        elapsed = (now - cached[1]).total_seconds()
        return cached[2].later(elapsed) if 0 <= elapsed <= REUSE_S else None

    def _kept_for_newcomer(self, snapshot: HallSnapshot, me: policy.Ticket) -> Forecast | None:
        """For a ticket just taken, seen inside its own transaction: the kept replay.

        If the only difference from the committed hall is this ticket, and it queues as a
        ticket of its category taken now does (no priority of its own, sent nowhere), its
        wait is the kept replay's "ticket taken now" (``estimate.forecast`` makes the two
        equal; a property test holds it), and no second replay is needed.
        """
        category = self.layout.category_by_id.get(me.category)  # type: ignore[call-overload]
        if (
            category is None
            or snapshot.changed != frozenset({me.id})
            or self.waiting_list.kept(me.id)
            or me.target_counter is not None
            or me.at_front
            or me.priority != (PRIORITY["vip"] if category.is_priority else 0)
        ):
            return None
        return self._reuse(self._state_key(snapshot, snapshot.base_version), snapshot.now)

    def view(self, session: Session, ticket: QueueTicket, *, committed: bool = False) -> TicketView:
        """What ``ticket`` is told. ``committed``: ``session`` is a read session (see ``snapshot``)."""
        ahead = 0
        estimate = linear = None
        state: EstimateState | None = None
        if ticket.status is TicketStatus.WAITING:
            snapshot = self.snapshot(
                session, ticket.service_day, self._clock(), committed=committed
            )
            me = next((t for t in snapshot.waiting if t.id == ticket.id), None)
            if me is not None:
                counters = snapshot.counters()
                called_here = bool(policy.serving(me, counters))
                if not called_here:
                    # Nobody may call it now: count at the counters that serve it by default.
                    counters = [
                        policy.Counter(cid, serves)
                        for cid, serves in self.layout.default_served.items()
                    ]
                ahead = policy.people_ahead(snapshot.waiting, me, counters)
                # Only a counter open now makes a wait: none open, no estimate ("no_counter").
                estimate = None
                if called_here:
                    kept = None if committed else self._kept_for_newcomer(snapshot, me)
                    if kept is not None:
                        estimate = kept.newcomer(me.category)
                    else:
                        estimate = self.forecast(snapshot).ticket(me.id)
                state = estimate_state(estimate)
                linear = self._linear(snapshot, ticket.category_id, me)
        counter = self.layout.counter_by_id.get(ticket.counter_id) if ticket.counter_id else None
        return TicketView(
            ticket.id,
            ticket.number,
            self.layout.category_by_id[ticket.category_id].code,
            ticket.status.value,
            counter.number if counter else None,
            ahead,
            estimate,
            linear,
            ticket.issued_at,
            ticket.called_at,
            state,
        )

    def _linear(
        self, snapshot: HallSnapshot, category_id: uuid.UUID, me: policy.Ticket
    ) -> float | None:
        """The linear rule, for comparison: same-service tickets ahead × mean ÷ open counters."""
        key = policy.call_key(me)
        same = sum(
            1 for t in snapshot.waiting if t.category == category_id and policy.call_key(t) < key
        )
        counters = sum(1 for c in snapshot.counters() if category_id in c.serves)
        return linear_rule(same, counters, self.learning.service[category_id].mean_s)
