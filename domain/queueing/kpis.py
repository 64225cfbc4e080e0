"""The hall's day in figures: per service, per counter, per member of staff, and where every
ticket ended up — what the hall manager and the centre look at.

Every ticket issued that day is in exactly one box of the reconciliation (``Accounting``):
served, finished otherwise, no-show, still waiting, waiting again after a transfer, at a
counter, or parked. A status the report does not know lands in ``unaccounted``, which must
be zero; the tests make sure it is.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from servicedb.models import (
    Counter,
    CounterSession,
    QueueEvent,
    QueueTicket,
    ServiceCategory,
    Site,
    SiteKind,
    Staff,
    TicketStatus,
)

NOT_SIGNED_IN = "未签到 Not signed in"


class NoSuchHall(LookupError):
    """The site code names no hall in this database."""

    def __init__(self, site_code: str, halls: Sequence[str]) -> None:
        known = ", ".join(halls) if halls else "none"
        super().__init__(f"no hall '{site_code}' in this database (halls here: {known})")
        self.site_code = site_code
        self.halls = tuple(halls)


# Where a ticket can be at the end of the day. Each status maps to one box; walk the enum in
# a test so a new status cannot slip past the reconciliation.
BOXES = (
    "served",
    "finished_other",
    "no_shows",
    "waiting",
    "transferred_open",
    "at_counter",
    "parked",
)


def box_of(status: TicketStatus, outcome: str | None, transferred: bool) -> str | None:
    """The reconciliation box of a ticket; None for a status the report does not know."""
    if status is TicketStatus.DONE:
        return "served" if outcome in (None, "served") else "finished_other"
    if status is TicketStatus.NO_SHOW:
        return "no_shows"
    if status is TicketStatus.WAITING:
        return "transferred_open" if transferred else "waiting"
    if status in (TicketStatus.CALLED, TicketStatus.SERVING):
        return "at_counter"
    if status is TicketStatus.PARKED:
        return "parked"
    return None


@dataclass(frozen=True)
class Accounting:
    """issued = served + finished_other + no_shows + waiting + transferred_open + at_counter + parked."""

    issued: int = 0
    served: int = 0  # 已办结
    finished_other: int = 0  # referred elsewhere, unresolved, or left during service
    no_shows: int = 0  # 过号: called and did not come (or skipped by "next")
    waiting: int = 0  # never called
    transferred_open: int = 0  # sent to another service or counter, not yet called there
    at_counter: int = 0  # called or being served when the report was made
    parked: int = 0  # held at a counter (fetching a document) and not back

    @property
    def accounted(self) -> int:
        return sum(getattr(self, name) for name in BOXES)

    @property
    def unaccounted(self) -> int:
        return self.issued - self.accounted


@dataclass(frozen=True)
class Figures:
    name: str
    accounting: Accounting
    walk_ins: int
    mean_wait_min: float | None
    p90_wait_min: float | None
    mean_service_min: float | None
    p90_service_min: float | None
    target_wait_min: int | None  # the service's target; None on rows mixing services
    called: int  # called after waiting (walk-ins never waited)
    over_target: int  # of those, waited longer than their service's target
    mean_rating: float | None
    ratings: int

    @property
    def issued(self) -> int:
        return self.accounting.issued

    @property
    def served(self) -> int:
        return self.accounting.served

    @property
    def no_shows(self) -> int:
        return self.accounting.no_shows

    @property
    def over_target_share(self) -> float | None:
        """Of the tickets called after waiting, the share that waited longer than the target."""
        return self.over_target / self.called if self.called else None


@dataclass(frozen=True)
class StaffFigures:
    staff: str
    counters: tuple[int, ...]
    signed_in_h: float | None  # None for tickets served with nobody signed in
    called: int
    served: int
    finished_other: int
    no_shows: int
    mean_service_min: float | None
    p90_service_min: float | None
    mean_rating: float | None
    ratings: int

    @property
    def served_per_hour(self) -> float | None:
        return self.served / self.signed_in_h if self.signed_in_h else None


@dataclass(frozen=True)
class DayReport:
    site: str
    name_zh: str
    name_en: str
    day: date
    timezone: str
    total: Figures
    by_category: tuple[Figures, ...]
    by_counter: tuple[Figures, ...]
    by_staff: tuple[StaffFigures, ...]
    arrivals_by_hour: tuple[int, ...]  # local hours 0–23
    mean_wait_by_hour: tuple[float | None, ...]
    made_at: datetime = field(compare=False)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]


def _wait_min(ticket: QueueTicket) -> float | None:
    if ticket.called_at is None or ticket.walk_in:
        return None
    return (ticket.called_at - ticket.issued_at).total_seconds() / 60


def _service_min(ticket: QueueTicket) -> float | None:
    if ticket.started_at and ticket.finished_at and ticket.status is TicketStatus.DONE:
        return (ticket.finished_at - ticket.started_at).total_seconds() / 60
    return None


def _accounting(tickets: Sequence[QueueTicket], transferred: set[uuid.UUID]) -> Accounting:
    counts = dict.fromkeys(BOXES, 0)
    for ticket in tickets:
        box = box_of(ticket.status, ticket.outcome, ticket.id in transferred)
        if box is not None:
            counts[box] += 1
    return Accounting(issued=len(tickets), **counts)


def _figures(
    name: str,
    tickets: Iterable[QueueTicket],
    targets: dict[uuid.UUID, int],
    transferred: set[uuid.UUID],
    target: int | None = None,
) -> Figures:
    rows = list(tickets)
    called = [(t, w) for t in rows if (w := _wait_min(t)) is not None]
    services = [s for t in rows if (s := _service_min(t)) is not None]
    ratings = [float(t.rating) for t in rows if t.rating is not None]
    return Figures(
        name,
        accounting=_accounting(rows, transferred),
        walk_ins=sum(1 for t in rows if t.walk_in),
        mean_wait_min=_mean([w for _, w in called]),
        p90_wait_min=_p90([w for _, w in called]),
        mean_service_min=_mean(services),
        p90_service_min=_p90(services),
        target_wait_min=target,
        called=len(called),
        over_target=sum(1 for t, w in called if w > targets[t.issued_category_id]),
        mean_rating=_mean(ratings),
        ratings=len(ratings),
    )


def _session_for(
    sessions: Sequence[CounterSession], counter_id: uuid.UUID, at: datetime
) -> CounterSession | None:
    for session in sessions:
        if (
            session.counter_id == counter_id
            and session.opened_at <= at
            and (session.closed_at is None or at < session.closed_at)
        ):
            return session
    return None


def _by_staff(
    tickets: Sequence[QueueTicket],
    sessions: Sequence[CounterSession],
    counter_numbers: dict[uuid.UUID, int],
    day_start: datetime,
    day_end: datetime,
    last_activity: datetime,
    names: dict[str, str],
) -> tuple[StaffFigures, ...]:
    """Tickets are credited to whoever was signed in at their counter when they were called.

    Staff are named "S001 王芳": the staff number signed in with, and the name it belongs to.
    """
    worked: dict[str, list[QueueTicket]] = {}
    counters: dict[str, set[int]] = {}
    hours: dict[str, float] = {}
    for session in sessions:
        # A session still open (or left open) counts until the hall's last activity that day.
        start = max(session.opened_at, day_start)
        end = min(session.closed_at or max(last_activity, start), day_end)
        hours[session.staff] = hours.get(session.staff, 0.0) + max(
            (end - start).total_seconds() / 3600, 0.0
        )
        counters.setdefault(session.staff, set()).add(counter_numbers[session.counter_id])
        worked.setdefault(session.staff, [])
    for ticket in tickets:
        if ticket.counter_id is None or ticket.called_at is None:
            continue
        at_work = _session_for(sessions, ticket.counter_id, ticket.called_at)
        staff = at_work.staff if at_work else NOT_SIGNED_IN
        worked.setdefault(staff, []).append(ticket)
        counters.setdefault(staff, set()).add(counter_numbers[ticket.counter_id])
    rows = []
    for staff, done in sorted(worked.items(), key=lambda item: (item[0] == NOT_SIGNED_IN, item[0])):
        if not done and not hours.get(staff):
            continue  # a session left open from an earlier day, with nothing done today
        accounting = _accounting(done, set())
        services = [s for t in done if (s := _service_min(t)) is not None]
        ratings = [float(t.rating) for t in done if t.rating is not None]
        rows.append(
            StaffFigures(
                f"{staff} {names[staff]}" if staff in names else staff,
                tuple(sorted(counters.get(staff, set()))),
                hours.get(staff) if staff != NOT_SIGNED_IN else None,
                called=len(done),
                served=accounting.served,
                finished_other=accounting.finished_other,
                no_shows=accounting.no_shows,
                mean_service_min=_mean(services),
                p90_service_min=_p90(services),
                mean_rating=_mean(ratings),
                ratings=len(ratings),
            )
        )
    return tuple(rows)


def day_report(
    engine: Engine, site_code: str, day: date, *, now: datetime | None = None
) -> DayReport:
    """The figures of ``day`` (the hall's local calendar day) at hall ``site_code``."""
    with Session(engine) as session:
        site = session.scalar(select(Site).where(Site.code == site_code))
        if site is None or site.kind is not SiteKind.HALL:
            halls = session.scalars(
                select(Site.code).where(Site.kind == SiteKind.HALL).order_by(Site.code)
            ).all()
            raise NoSuchHall(site_code, halls)
        tz = ZoneInfo(site.timezone)
        day_start = datetime.combine(day, time.min, tz)
        day_end = day_start + timedelta(days=1)
        tickets = list(
            session.scalars(
                select(QueueTicket)
                .where(QueueTicket.origin_site_id == site.id, QueueTicket.service_day == day)
                .order_by(QueueTicket.issued_at)
            )
        )
        transferred = set(
            session.scalars(
                select(QueueEvent.ticket_id)
                .join(QueueTicket, QueueEvent.ticket_id == QueueTicket.id)
                .where(
                    QueueTicket.origin_site_id == site.id,
                    QueueTicket.service_day == day,
                    QueueEvent.action == "transferred",
                )
            ).all()
        )
        categories = list(
            session.scalars(select(ServiceCategory).where(ServiceCategory.site_id == site.id))
        )
        counters = list(
            session.scalars(
                select(Counter).where(Counter.site_id == site.id).order_by(Counter.number)
            )
        )
        sessions = list(
            session.scalars(
                select(CounterSession)
                .where(
                    CounterSession.counter_id.in_([c.id for c in counters]),
                    CounterSession.opened_at < day_end,
                )
                .order_by(CounterSession.opened_at)
            )
        )
        names = dict(
            session.execute(
                select(Staff.staff_no, Staff.name).where(Staff.site_id == site.id)
            ).all()
        )
    sessions = [s for s in sessions if s.closed_at is None or s.closed_at > day_start]
    targets = {c.id: c.target_wait_minutes for c in categories}
    transferred_ids = {t for t in transferred if t is not None}
    by_category = tuple(
        _figures(
            f"{c.prefix} {c.name_zh} {c.name_en}",
            (t for t in tickets if t.issued_category_id == c.id),
            targets,
            transferred_ids,
            c.target_wait_minutes,
        )
        for c in categories
    )
    by_counter = tuple(
        _figures(
            f"{c.number} 号窗口 / counter {c.number}",
            (t for t in tickets if t.counter_id == c.id),
            targets,
            transferred_ids,
        )
        for c in counters
    )
    moments = [
        moment
        for t in tickets
        for moment in (t.issued_at, t.called_at, t.started_at, t.finished_at)
        if moment is not None
    ]
    moments += [s.closed_at for s in sessions if s.closed_at is not None and s.closed_at < day_end]
    last_activity = max(moments, default=day_start)
    by_staff = _by_staff(
        tickets,
        sessions,
        {c.id: c.number for c in counters},
        day_start,
        day_end,
        last_activity,
        names,
    )
    arrivals = [0] * 24
    waits: list[list[float]] = [[] for _ in range(24)]
    for ticket in tickets:
        hour = ticket.issued_at.astimezone(tz).hour
        arrivals[hour] += 1
        wait = _wait_min(ticket)
        if wait is not None:
            waits[hour].append(wait)
    return DayReport(
        site_code,
        site.name_zh,
        site.name_en,
        day,
        site.timezone,
        _figures("全部 All", tickets, targets, transferred_ids),
        by_category,
        by_counter,
        by_staff,
        tuple(arrivals),
        tuple(_mean(w) for w in waits),
        made_at=now or datetime.now(tz),
    )
