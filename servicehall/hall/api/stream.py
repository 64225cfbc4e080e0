"""``/api/v1/stream``: Server-Sent Events for screens and counter terminals."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from servicehall.hall.api.auth import Parts
from servicehall.hall.api.convert import queue_out

router = APIRouter(tags=["stream"])

_DESCRIPTION = """Live changes as Server-Sent Events. The first event is `queue` (the whole
overview, as `GET /queue`); after it, one event per thing that happened (`ticket-taken`,
`ticket-called`, `ticket-recalled`, …, with the event's fields as JSON) and a fresh `queue`
whenever the overview changed. A comment line is sent every 15 s so proxies keep it open."""


@router.get(
    "/stream",
    response_class=StreamingResponse,
    description=_DESCRIPTION,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
async def stream(parts: Parts) -> StreamingResponse:
    overview = await asyncio.to_thread(queue_out, parts.queue)
    feed = parts.live.broadcaster
    first = feed.message("queue", overview.model_dump(mode="json"))
    return StreamingResponse(
        feed.stream(first),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
