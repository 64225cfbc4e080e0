"""The read side of the queue: what a ticket, the hall and the board are told.

Everything here reads; nothing writes. The wait estimates replay the hall's call policy
(``domain.queueing.estimate``) with service times learned from today's services.
"""

from __future__ import annotations

import collections
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from domain.queueing.counter_state import served_categories
from domain.queueing.errors import UnknownTicket
from domain.queueing.estimate import (
    Calibration,
    Desk,
    ServiceTimeLearner,
    Waiter,
    linear_rule,
    replay_wait,
)
from domain.queueing.layout import HallLayout
from servicedb.engine import make_session_factory
from servicedb.models import QueueEvent, QueueTicket, TicketStatus

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


class QueueReads:
    """Answers about the queue, and the learning (service times, calibration) they rest on."""

    def __init__(self, engine: Engine, layout: HallLayout, clock: Clock) -> None:
        self.layout = layout
        self._reads = make_session_factory(engine)
        self._clock = clock
        categories = layout.categories.values()
        self.learners = {
            c.id: ServiceTimeLearner(float(c.mean_service_seconds)) for c in categories
        }
        self.calibrations = {c.id: Calibration() for c in categories}
        self.learn_from_today()

    def session(self) -> Session:
        """A read-only session (the caller closes it: ``with reads.session() as s``)."""
        return self._reads()

    def observe_service(self, category_id: uuid.UUID, seconds: float) -> None:
        self.learners[category_id].observe(seconds)

    def observe_wait(self, category_id: uuid.UUID, printed_s: float, actual_s: float) -> None:
        self.calibrations[category_id].observe(printed_s, actual_s)

    def ticket(self, ticket_id: uuid.UUID) -> TicketView:
        with self._reads() as session:
            ticket = session.get(QueueTicket, ticket_id)
            if ticket is None or ticket.origin_site_id != self.layout.site_id:
                raise UnknownTicket(f"no ticket {ticket_id}")
            return self.view(session, ticket)

    def overview(self) -> HallOverview:
        now = self._clock()
        day = self.layout.service_day(now)
        with self._reads() as session:
            everyone = self.waiting(session, day)
            desks = self.desks(session, day, now)
            no_show_rate = self.no_show_rate(session, day)
            waiting = collections.Counter(t.category_id for t in everyone)
            categories = []
            for category in self.layout.categories.values():
                if not category.active:
                    continue
                count = int(waiting.get(category.id, 0))
                # A ticket taken now queues behind everyone of its priority or higher.
                own_priority = PRIORITY["vip"] if category.is_priority else 0
                before = [t for t in everyone if t.priority >= own_priority]
                estimate, _linear = self.estimates(category.id, before, desks, no_show_rate)
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
                    QueueTicket.origin_site_id == self.layout.site_id,
                    QueueTicket.service_day == day,
                    QueueTicket.status.in_(ACTIVE),
                )
                .order_by(QueueTicket.called_at.desc())
            ).all()
            serving = tuple(
                CallView(
                    t.number,
                    self.layout.counter_by_id[t.counter_id].number,
                    t.called_at or now,
                    t.recalls,
                )
                for t in active
                if t.counter_id is not None
            )
        return HallOverview(self.layout.site_code, day, tuple(categories), serving)

    def recent_calls(self, limit: int = 5) -> list[CallView]:
        """The last calls (and recalls) made, newest first — what the board lists."""
        with self._reads() as session:
            rows = session.execute(
                select(QueueEvent, QueueTicket.number)
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
                    self.layout.counter_by_id[event.counter_id].number,
                    event.at,
                    int(json.loads(event.detail).get("recalls", 0)),
                )
                for event, number in rows
                if event.counter_id in self.layout.counter_by_id
            ]

    def learn_from_today(self) -> None:
        """After a restart, today's finished services teach the estimate again."""
        with self._reads() as session:
            rows = session.execute(
                select(QueueTicket.category_id, QueueTicket.started_at, QueueTicket.finished_at)
                .where(
                    QueueTicket.origin_site_id == self.layout.site_id,
                    QueueTicket.service_day == self.layout.service_day(self._clock()),
                    QueueTicket.status == TicketStatus.DONE,
                    QueueTicket.started_at.is_not(None),
                )
                .order_by(QueueTicket.finished_at)
            ).all()
        for category_id, started, finished in rows:
            if category_id in self.learners and started and finished:
                self.learners[category_id].observe((finished - started).total_seconds())

    def desks(self, session: Session, day: date, now: datetime) -> list[Desk]:
        """The open counters, what they serve, and the service under way at each."""
        under_way = {
            t.counter_id: t
            for t in session.scalars(
                select(QueueTicket).where(
                    QueueTicket.origin_site_id == self.layout.site_id,
                    QueueTicket.service_day == day,
                    QueueTicket.status.in_(ACTIVE),
                )
            )
        }
        desks = []
        for counter in self.layout.counters.values():
            served = served_categories(session, self.layout, counter.id)
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

    def waiting(self, session: Session, day: date) -> list[QueueTicket]:
        """Everyone waiting, in the order counters call them."""
        return list(
            session.scalars(
                select(QueueTicket)
                .where(
                    QueueTicket.origin_site_id == self.layout.site_id,
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

    def no_show_rate(self, session: Session, day: date) -> float:
        """Today's share of called tickets that did not come, pulled towards 8 % early in the day."""
        counts = dict(
            session.execute(
                select(QueueTicket.status, func.count())
                .where(
                    QueueTicket.origin_site_id == self.layout.site_id,
                    QueueTicket.service_day == day,
                    QueueTicket.status.in_((TicketStatus.DONE, TicketStatus.NO_SHOW)),
                )
                .group_by(QueueTicket.status)
            ).all()
        )
        no_shows = counts.get(TicketStatus.NO_SHOW, 0)
        total = no_shows + counts.get(TicketStatus.DONE, 0)
        return (no_shows + 0.08 * 20) / (total + 20)

    def estimates(
        self,
        category_id: uuid.UUID,
        ahead: list[QueueTicket],
        desks: list[Desk],
        no_show_rate: float,
    ) -> tuple[float | None, float | None]:
        """(ours, the linear rule) for a ticket of ``category_id`` with ``ahead`` before it."""
        means: dict[object, float] = {cid: learner.mean_s for cid, learner in self.learners.items()}
        line = [Waiter(t.category_id, t.target_counter_id) for t in ahead] + [Waiter(category_id)]
        ours = self.calibrations[category_id].apply(
            replay_wait(line, len(ahead), desks, means, no_show_rate=no_show_rate)
        )
        same = sum(1 for t in ahead if t.category_id == category_id)
        counters = sum(1 for desk in desks if category_id in desk.serves)
        return ours, linear_rule(same, counters, means[category_id])

    def view(self, session: Session, ticket: QueueTicket) -> TicketView:
        ahead = 0
        estimate = linear = None
        if ticket.status is TicketStatus.WAITING:
            everyone = self.waiting(session, ticket.service_day)
            position = next((i for i, t in enumerate(everyone) if t.id == ticket.id), len(everyone))
            before = everyone[:position]
            # What the ticket prints: people of the same service called before this one.
            ahead = sum(1 for t in before if t.category_id == ticket.category_id)
            estimate, linear = self.estimates(
                ticket.category_id,
                before,
                self.desks(session, ticket.service_day, self._clock()),
                self.no_show_rate(session, ticket.service_day),
            )
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
        )
