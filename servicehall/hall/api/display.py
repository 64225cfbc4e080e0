"""``/api/v1/display``: the hall's active outage notices and announcements, for the hall screen.

The texts are the LED board's own (``hall_display.content.notice_text``), from the same
domain queries (``domain.notices``), so the screen and the board never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from sqlalchemy import Engine

from domain.notices import active_announcements, active_outages
from hall_display.content import Notice, notice_text
from servicedb.types import utcnow
from servicehall.hall.api.auth import Parts
from servicehall.hall.api.display_schemas import AnnouncementOut, DisplayOut, NoticeOut

router = APIRouter(tags=["display"])

REFRESH_S = 30
DEFAULT_RADIUS_M = 3000.0  # servicehall.config: hall.notice_radius_m


@dataclass(frozen=True)
class NoticeSource:
    """Where notices come from: the hall's database, how far around the hall, and its clock.

    The hall sets ``app.state.notices`` to one of these (with ``hall.notice_radius_m`` and the
    hall's clock, simulated in the demo); without it, ``app.state.engine``, the default
    radius and the wall clock are used.
    """

    engine: Engine
    radius_m: float = DEFAULT_RADIUS_M
    clock: Callable[[], datetime] = utcnow


def notice_source(request: Request) -> NoticeSource:
    source = getattr(request.app.state, "notices", None)
    if isinstance(source, NoticeSource):
        return source
    engine = request.app.state.engine
    assert isinstance(engine, Engine)  # noqa: S101 - set by create_hall_app
    return NoticeSource(engine)


@router.get("/display")
def display(parts: Parts, request: Request) -> DisplayOut:
    """Active outage notices touching the hall and the hall's announcements, texts in zh and en."""
    source = notice_source(request)
    queue = parts.queue
    now = source.clock()
    notices = []
    for outage in active_outages(source.engine, queue.site_code, now, radius_m=source.radius_m):
        notice = Notice(
            outage.kind, outage.title_zh, outage.title_en, outage.starts_at, outage.restore_at
        )
        notices.append(
            NoticeOut(
                kind=outage.kind,
                text_zh=notice_text(notice, queue.timezone, english=False),
                text_en=notice_text(notice, queue.timezone, english=True),
                starts_at=outage.starts_at,
                restore_at=outage.restore_at,
            )
        )
    announcements = [
        AnnouncementOut(text_zh=zh, text_en=en)
        for zh, en in active_announcements(source.engine, queue.site_code, now)
    ]
    return DisplayOut(
        site=queue.site_code,
        name_zh=queue.site_names[0],
        name_en=queue.site_names[1],
        timezone=queue.timezone.key,
        at=now,
        notices=notices,
        announcements=announcements,
        refresh_s=REFRESH_S,
    )
