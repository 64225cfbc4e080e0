"""From the queue engine's views to the API's response models."""

from __future__ import annotations

from domain.queueing.admission import NotIssuing
from domain.queueing.counter_state import CounterStatus
from domain.queueing.engine import CallView, CategoryOverview, HallQueue, TicketView
from servicehall.hall.api.schemas import (
    CallOut,
    CategoryInfo,
    CategoryOut,
    CounterInfo,
    CounterState,
    CounterStatusOut,
    LayoutOut,
    PauseReason,
    QueueOut,
    TicketOut,
)

_NOT_ISSUING_WORDS = {
    NotIssuing.CLOSED_TODAY: ("今日不营业", "Closed today"),
    NotIssuing.NOT_YET_OPEN: ("{} 开始取号", "Tickets from {}"),
    NotIssuing.CUT_OFF: ("今日已停止取号", "No more tickets today"),
    NotIssuing.QUOTA_REACHED: ("今日号已取完", "All of today's tickets are taken"),
}


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
        estimate_state=view.estimate_state,
        linear_estimate_s=view.linear_estimate_s,
        issued_at=view.issued_at,
        called_at=view.called_at,
    )


def _category_out(c: CategoryOverview, why: tuple[NotIssuing, str] | None) -> CategoryOut:
    out = CategoryOut(
        code=c.code,
        prefix=c.prefix,
        name_zh=c.name_zh,
        name_en=c.name_en,
        waiting=c.waiting,
        counters_open=c.counters_open,
        estimate_s=c.estimate_s,
        estimate_minutes=minutes(c.estimate_s),
        estimate_state=c.estimate_state,
    )
    if why is not None:
        reason, when = why
        zh, en = _NOT_ISSUING_WORDS[reason]
        out.issuing = False
        out.not_issuing = reason.value
        out.not_issuing_zh = zh.format(when)
        out.not_issuing_en = en.format(when)
    return out


def _call_out(c: CallView) -> CallOut:
    return CallOut(number=c.number, counter=c.counter, at=c.at, recalls=c.recalls)


def queue_out(queue: HallQueue) -> QueueOut:
    overview = queue.overview()
    closed = queue.not_issuing()
    return QueueOut(
        site=overview.site,
        name_zh=queue.site_names[0],
        name_en=queue.site_names[1],
        service_day=overview.service_day,
        categories=[_category_out(c, closed.get(c.code)) for c in overview.categories],
        now_serving=[_call_out(c) for c in overview.now_serving],
        recent_calls=[_call_out(c) for c in queue.recent_calls(limit=5)],
    )


def counter_status_out(
    queue: HallQueue, number: int, status: CounterStatus, ticket: TicketView | None
) -> CounterStatusOut:
    counter = queue.layout.counter(number)
    return CounterStatusOut(
        counter=number,
        name_zh=counter.name_zh,
        name_en=counter.name_en,
        state=CounterState(status.state.value),
        staff_no=status.staff,
        categories=sorted(queue.layout.category_by_id[c].code for c in status.categories),
        pause_reason=PauseReason(status.pause_reason) if status.pause_reason else None,
        since=status.since,
        ticket=ticket_out(ticket) if ticket else None,
    )


def layout_out(queue: HallQueue) -> LayoutOut:
    layout = queue.layout
    return LayoutOut(
        site=layout.site_code,
        name_zh=layout.names[0],
        name_en=layout.names[1],
        categories=[
            CategoryInfo(code=c.code, prefix=c.prefix, name_zh=c.name_zh, name_en=c.name_en)
            for c in sorted(layout.categories.values(), key=lambda c: c.prefix)
            if c.active
        ],
        counters=[
            CounterInfo(
                number=c.number,
                name_zh=c.name_zh,
                name_en=c.name_en,
                default_categories=sorted(
                    layout.category_by_id[i].code for i in layout.default_served.get(c.id, ())
                ),
            )
            for c in sorted(layout.counters.values(), key=lambda c: c.number)
        ],
    )
