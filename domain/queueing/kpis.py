"""The day's figures, per category and per counter: what the hall manager and the centre look at."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from servicedb.models import Counter, QueueTicket, ServiceCategory, Site, TicketStatus


@dataclass(frozen=True)
class Figures:
    name: str
    issued: int
    served: int
    no_shows: int
    mean_wait_min: float | None
    p90_wait_min: float | None
    mean_service_min: float | None
    p90_service_min: float | None
    over_target_share: (
        float | None
    )  # of called tickets, the share that waited longer than the target
    mean_rating: float | None


@dataclass(frozen=True)
class DayReport:
    site: str
    day: date
    total: Figures
    by_category: tuple[Figures, ...]
    by_counter: tuple[Figures, ...]
    arrivals_by_hour: tuple[int, ...]  # local hours 0–23
    mean_wait_by_hour: tuple[float | None, ...]


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


def _figures(name: str, tickets: Iterable[QueueTicket], targets: dict[object, int]) -> Figures:
    rows = list(tickets)
    called = [(t, w) for t in rows if (w := _wait_min(t)) is not None]
    waits = [w for _, w in called]
    services = [
        (t.finished_at - t.started_at).total_seconds() / 60
        for t in rows
        if t.started_at and t.finished_at and t.status is TicketStatus.DONE
    ]
    over = [t for t, w in called if w > targets.get(t.issued_category_id, 15)]
    ratings = [t.rating for t in rows if t.rating is not None]
    return Figures(
        name,
        issued=len(rows),
        served=sum(1 for t in rows if t.status is TicketStatus.DONE),
        no_shows=sum(1 for t in rows if t.status is TicketStatus.NO_SHOW),
        mean_wait_min=_mean(waits),
        p90_wait_min=_p90(waits),
        mean_service_min=_mean(services),
        p90_service_min=_p90(services),
        over_target_share=len(over) / len(called) if called else None,
        mean_rating=_mean([float(r) for r in ratings]),
    )


def day_report(engine: Engine, site_code: str, day: date) -> DayReport:
    with Session(engine) as session:
        site = session.scalar(select(Site).where(Site.code == site_code))
        if site is None:
            raise ValueError(f"no site {site_code!r}")
        tz = ZoneInfo(site.timezone)
        tickets = list(
            session.scalars(
                select(QueueTicket).where(
                    QueueTicket.origin_site_id == site.id, QueueTicket.service_day == day
                )
            )
        )
        categories = list(
            session.scalars(select(ServiceCategory).where(ServiceCategory.site_id == site.id))
        )
        counters = list(
            session.scalars(
                select(Counter).where(Counter.site_id == site.id).order_by(Counter.number)
            )
        )
    targets: dict[object, int] = {c.id: c.target_wait_minutes for c in categories}
    by_category = tuple(
        _figures(
            f"{c.prefix} {c.name_zh} {c.name_en}",
            (t for t in tickets if t.issued_category_id == c.id),
            targets,
        )
        for c in categories
    )
    by_counter = tuple(
        _figures(
            f"{c.number} 号窗口 / counter {c.number}",
            (t for t in tickets if t.counter_id == c.id),
            targets,
        )
        for c in counters
    )
    arrivals = [0] * 24
    waits: list[list[float]] = [[] for _ in range(24)]
    for ticket in tickets:
        hour = ticket.issued_at.astimezone(tz).hour
        arrivals[hour] += 1
        if ticket.called_at and not ticket.walk_in:
            waits[hour].append((ticket.called_at - ticket.issued_at).total_seconds() / 60)
    return DayReport(
        site_code,
        day,
        _figures("全部 All", tickets, targets),
        by_category,
        by_counter,
        tuple(arrivals),
        tuple(_mean(w) for w in waits),
    )
