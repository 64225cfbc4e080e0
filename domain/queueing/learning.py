"""What the wait estimates learn from the hall's own records, and how it is kept current.

Everything is read from stored rows, so every process on the same database learns the
same and a restart loses nothing; and incrementally, so it stays cheap as the day fills:

* **Counter time per call**, per category: call → finish of today's served tickets (the
  walk up to the counter is part of what a call costs), and call → given up for no-shows;
  start → finish as well, for the linear rule we compare against.
* **No-show rate**: today's share of called tickets that did not come, pulled towards 8 %
  while the day is young.
* **Arrivals ahead**: tickets with a priority (elderly, VIP, appointments) taken in the
  last hour, per category and priority, as hourly rates.
* **The roster**: each counter's shifts on the last day it worked in the week before
  today — when it went to lunch, when it came back, when it closed. Halls keep a roster,
  so yesterday's is the best guess at today's.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.queueing.estimate import Arrivals, ServiceTimeLearner, Shift
from domain.queueing.layout import HallLayout
from servicedb.models import CounterSession, QueueTicket, TicketStatus

FINISHED = (TicketStatus.DONE, TicketStatus.NO_SHOW)
# A ticket finished this long before the newest one seen may still be committed after it.
MARGIN = timedelta(minutes=10)


class HallLearning:
    def __init__(self, layout: HallLayout) -> None:
        self.layout = layout
        categories = layout.categories.values()
        # Start → finish: the mean service time the linear rule uses.
        self.service = {c.id: ServiceTimeLearner(float(c.mean_service_seconds)) for c in categories}
        # Call → finish: how long a counter is taken by one customer (walk-up included).
        self.occupancy = {
            c.id: ServiceTimeLearner(float(c.mean_service_seconds) + 30.0) for c in categories
        }
        # Call → given up: how long a counter spends recalling someone who never comes.
        self.no_show_time = ServiceTimeLearner(120.0)
        self.arrivals: list[Arrivals] = []
        self._day: date | None = None
        self._learned: set[uuid.UUID] = set()
        self._until: datetime | None = None
        self._finished = (0, 0)  # (done, no-shows) today, as last seen
        self._roster: tuple[date, dict[uuid.UUID, list[Shift]]] | None = None

    # --- what the replay is given -------------------------------------------------------
    def no_show_rate(self) -> float:
        done, no_shows = self._finished
        return (no_shows + 0.08 * 20) / (done + no_shows + 20)

    def per_call_s(self) -> dict[uuid.UUID, float]:
        """Expected counter time of one call per category, the no-shows included."""
        missing = min(self.no_show_rate(), 0.9)
        no_show = self.no_show_time.mean_s
        return {
            cid: (1 - missing) * learner.mean_s + missing * no_show
            for cid, learner in self.occupancy.items()
        }

    def busy_for_s(self, category_id: uuid.UUID, called_s_ago: float) -> float:
        """How much longer a counter is taken by the customer it called ``called_s_ago``."""
        learner = self.occupancy.get(category_id)
        return 0.0 if learner is None else learner.remaining_s(called_s_ago)

    # --- reading ------------------------------------------------------------------------
    def refresh(self, session: Session, day: date, now: datetime) -> None:
        """Learn from the tickets finished since the last look, and recount the arrivals."""
        if day != self._day:
            self._day, self._learned, self._until, self._finished = day, set(), None, (0, 0)
        self._learn_finished(session, day)
        self.arrivals = self._arrivals(session, day, now)

    def roster(self, session: Session, day: date) -> dict[uuid.UUID, list[Shift]]:
        """Each counter's shifts on the last day it worked in the week before ``day``."""
        if self._roster is not None and self._roster[0] == day:
            return self._roster[1]
        tz = self.layout.timezone
        midnight = datetime.combine(day, datetime.min.time(), tz)
        days: dict[uuid.UUID, dict[date, list[Shift]]] = {}
        for counter_id, opened, closed, category_ids in session.execute(
            select(
                CounterSession.counter_id,
                CounterSession.opened_at,
                CounterSession.closed_at,
                CounterSession.category_ids,
            ).where(
                CounterSession.counter_id.in_(list(self.layout.counter_by_id)),
                CounterSession.opened_at >= midnight - timedelta(days=7),
                CounterSession.opened_at < midnight,
            )
        ):
            local = opened.astimezone(tz)
            start = datetime.combine(local.date(), datetime.min.time(), tz)
            closes = (closed - start).total_seconds() if closed else 24 * 3600.0
            serves = frozenset(uuid.UUID(value) for value in json.loads(category_ids))
            shift = Shift((opened - start).total_seconds(), closes, serves)
            days.setdefault(counter_id, {}).setdefault(local.date(), []).append(shift)
        roster = {
            counter_id: sorted(by_day[max(by_day)], key=lambda s: s.opens_s)
            for counter_id, by_day in days.items()
        }
        self._roster = (day, roster)
        return roster

    def _learn_finished(self, session: Session, day: date) -> None:
        site = self.layout.site_id
        counts = dict(
            session.execute(
                select(QueueTicket.status, func.count())
                .where(
                    QueueTicket.origin_site_id == site,
                    QueueTicket.service_day == day,
                    QueueTicket.status.in_(FINISHED),
                )
                .group_by(QueueTicket.status)
            ).all()
        )
        finished = (counts.get(TicketStatus.DONE, 0), counts.get(TicketStatus.NO_SHOW, 0))
        if finished == self._finished:
            return
        self._finished = finished
        query = select(
            QueueTicket.id,
            QueueTicket.category_id,
            QueueTicket.status,
            QueueTicket.called_at,
            QueueTicket.started_at,
            QueueTicket.finished_at,
        ).where(
            QueueTicket.origin_site_id == site,
            QueueTicket.service_day == day,
            QueueTicket.status.in_(FINISHED),
        )
        if self._until is not None:
            query = query.where(QueueTicket.finished_at >= self._until - MARGIN)
        for ticket_id, category_id, status, called, started, finished_at in session.execute(
            query.order_by(QueueTicket.finished_at, QueueTicket.id)
        ):
            if ticket_id in self._learned or finished_at is None:
                continue
            self._learned.add(ticket_id)
            self._until = max(self._until or finished_at, finished_at)
            if category_id not in self.occupancy or called is None:
                continue
            if status is TicketStatus.NO_SHOW:
                self.no_show_time.observe((finished_at - called).total_seconds())
                continue
            self.occupancy[category_id].observe((finished_at - called).total_seconds())
            if started is not None:
                self.service[category_id].observe((finished_at - started).total_seconds())

    def _arrivals(self, session: Session, day: date, now: datetime) -> list[Arrivals]:
        rows = session.execute(
            select(QueueTicket.issued_category_id, QueueTicket.priority, func.count())
            .where(
                QueueTicket.origin_site_id == self.layout.site_id,
                QueueTicket.service_day == day,
                QueueTicket.priority > 0,
                QueueTicket.walk_in.is_(False),
                QueueTicket.issued_at > now - timedelta(hours=1),
            )
            .group_by(QueueTicket.issued_category_id, QueueTicket.priority)
            .order_by(QueueTicket.issued_category_id, QueueTicket.priority)
        ).all()
        return [Arrivals(category, priority, float(count)) for category, priority, count in rows]
