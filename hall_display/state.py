"""Gather the hall's state for the display from the queue and the notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from domain.notices import active_announcements, active_outages
from domain.queueing.engine import HallQueue
from hall_display.content import Call, HallState, Notice, Waiting


def hall_state(
    queue: HallQueue, engine: Engine, now: datetime, *, notice_radius_m: float = 3000.0
) -> HallState:
    overview = queue.overview()
    calls = [Call(c.number, c.counter, c.at, c.recalls) for c in queue.recent_calls(limit=5)]
    waiting = [Waiting(c.name_zh, c.name_en, c.waiting, c.estimate_s) for c in overview.categories]
    notices = [
        Notice(n.kind, n.title_zh, n.title_en, n.starts_at, n.restore_at)
        for n in active_outages(engine, queue.site_code, now, radius_m=notice_radius_m)
    ]
    return HallState(
        queue.timezone.key,
        calls,
        waiting,
        active_announcements(engine, queue.site_code, now),
        notices,
    )
