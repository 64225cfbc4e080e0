"""From the queue engine's views to the API's response models."""

from __future__ import annotations

from domain.queueing.engine import CallView, CategoryOverview, HallQueue, TicketView
from servicehall.hall.api.schemas import CallOut, CategoryOut, QueueOut, TicketOut


def minutes(estimate_s: float | None) -> int | None:
    return None if estimate_s is None else max(0, round(estimate_s / 60))


def ticket_out(view: TicketView) -> TicketOut:
    return TicketOut(
        ticket_id=view.ticket_id,
        number=view.number,
        category=view.category,
        status=view.status,
        counter=view.counter,
        people_ahead=view.people_ahead,
        estimate_s=view.estimate_s,
        estimate_minutes=minutes(view.estimate_s),
        linear_estimate_s=view.linear_estimate_s,
        issued_at=view.issued_at,
        called_at=view.called_at,
    )


def _category_out(c: CategoryOverview) -> CategoryOut:
    return CategoryOut(
        code=c.code,
        prefix=c.prefix,
        name_zh=c.name_zh,
        name_en=c.name_en,
        waiting=c.waiting,
        counters_open=c.counters_open,
        estimate_s=c.estimate_s,
        estimate_minutes=minutes(c.estimate_s),
    )


def _call_out(c: CallView) -> CallOut:
    return CallOut(number=c.number, counter=c.counter, at=c.at, recalls=c.recalls)


def queue_out(queue: HallQueue) -> QueueOut:
    overview = queue.overview()
    return QueueOut(
        site=overview.site,
        name_zh=queue.site_names[0],
        name_en=queue.site_names[1],
        service_day=overview.service_day,
        categories=[_category_out(c) for c in overview.categories],
        now_serving=[_call_out(c) for c in overview.now_serving],
        recent_calls=[_call_out(c) for c in queue.recent_calls(limit=5)],
    )
