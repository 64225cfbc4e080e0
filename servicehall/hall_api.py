"""The hall API on the LAN: kiosks take tickets, counters act, screens follow the queue live.

Writes need a per-device token (``Authorization: Bearer …``): kiosks take tickets and rate
visits, counter terminals act at counters. Reading the queue is open on the hall's LAN —
it is what the hall screen shows anyway.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from domain.queueing.engine import HallQueue, TicketView
from domain.queueing.errors import QueueError, UnknownCategory, UnknownCounter, UnknownTicket
from servicedb.models import DeviceKind
from servicehall.device_tokens import DeviceIdentity, TokenCheck
from servicehall.live import Broadcaster

_NOT_FOUND = (UnknownCategory, UnknownCounter, UnknownTicket)


class TakeTicket(BaseModel):
    category: str = Field(min_length=1, max_length=40)
    priority_reason: Literal["appointment", "vip", "elderly", "disabled"] | None = None


class Rating(BaseModel):
    score: int = Field(ge=1, le=5)


class SignIn(BaseModel):
    staff: str = Field(min_length=1, max_length=64)
    categories: list[str] = Field(min_length=1)


class Finish(BaseModel):
    outcome: str = Field(default="served", min_length=1, max_length=32)


class Transfer(BaseModel):
    category: str | None = None
    counter: int | None = None
    front: bool = False


class ReturnParked(BaseModel):
    number: str = Field(min_length=2, max_length=8)


class WalkIn(BaseModel):
    category: str


def ticket_json(view: TicketView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    data = asdict(view)
    data["ticket_id"] = str(view.ticket_id)
    data["estimate_minutes"] = (
        None if view.estimate_s is None else max(0, round(view.estimate_s / 60))
    )
    return data


def install_error_handler(app: FastAPI) -> None:
    @app.exception_handler(QueueError)
    async def queue_error(_request: Request, err: QueueError) -> JSONResponse:
        status = 404 if isinstance(err, _NOT_FOUND) else 409
        return JSONResponse(
            status_code=status,
            content={
                "error": type(err).__name__,
                "detail": err.detail,
                "message_zh": err.message_zh,
                "message_en": err.message_en,
            },
        )


def hall_router(
    queue: HallQueue,
    tokens: TokenCheck,
    live: Broadcaster,
    on_change: Callable[[], None] = lambda: None,
) -> APIRouter:
    router = APIRouter(prefix="/api/v1")

    def device(kinds: tuple[DeviceKind, ...]) -> Callable[[str | None], DeviceIdentity]:
        def check(authorization: Annotated[str | None, Header()] = None) -> DeviceIdentity:
            token = (authorization or "").removeprefix("Bearer ").strip()
            identity = tokens.identify(token) if token else None
            if identity is None:
                raise HTTPException(
                    401,
                    {
                        "error": "Unauthorized",
                        "message_zh": "设备未授权",
                        "message_en": "This device is not authorised",
                    },
                )
            if identity.kind not in kinds:
                raise HTTPException(
                    403,
                    {
                        "error": "Forbidden",
                        "message_zh": "此设备无权执行该操作",
                        "message_en": "This device may not do that",
                    },
                )
            return identity

        return check

    kiosk = Depends(device((DeviceKind.KIOSK, DeviceKind.COUNTER_TERMINAL)))
    counter_terminal = Depends(device((DeviceKind.COUNTER_TERMINAL,)))

    def changed(kind: str, data: dict[str, Any] | None) -> None:
        live.publish(kind, data or {})
        live.publish("queue", overview_json())
        on_change()

    def overview_json() -> dict[str, Any]:
        overview = queue.overview()
        return {
            "site": overview.site,
            "name_zh": queue.site_names[0],
            "name_en": queue.site_names[1],
            "service_day": overview.service_day.isoformat(),
            "categories": [
                asdict(c)
                | {
                    "estimate_minutes": None
                    if c.estimate_s is None
                    else max(0, round(c.estimate_s / 60))
                }
                for c in overview.categories
            ],
            "now_serving": [asdict(c) | {"at": c.at.isoformat()} for c in overview.now_serving],
            "recent_calls": [
                asdict(c) | {"at": c.at.isoformat()} for c in queue.recent_calls(limit=5)
            ],
        }

    @router.post("/tickets", status_code=201, dependencies=[kiosk])
    def take_ticket(body: TakeTicket) -> dict[str, Any] | None:
        view = ticket_json(queue.take_ticket(body.category, priority_reason=body.priority_reason))
        changed("ticket", view)
        return view

    @router.get("/tickets/{ticket_id}")
    def ticket_status(ticket_id: uuid.UUID) -> dict[str, Any] | None:
        return ticket_json(queue.ticket(ticket_id))

    @router.post("/tickets/{ticket_id}/rating", status_code=204, dependencies=[kiosk])
    def rate(ticket_id: uuid.UUID, body: Rating) -> None:
        queue.rate(ticket_id, body.score)

    @router.get("/queue")
    def overview() -> dict[str, Any]:
        return overview_json()

    @router.post("/counters/{number}/sign-in", status_code=204, dependencies=[counter_terminal])
    def sign_in(number: int, body: SignIn) -> None:
        queue.sign_in(number, body.staff, body.categories)
        changed("counter", {"counter": number, "signed_in": body.staff})

    @router.post("/counters/{number}/sign-out", status_code=204, dependencies=[counter_terminal])
    def sign_out(number: int) -> None:
        queue.sign_out(number)
        changed("counter", {"counter": number, "signed_out": True})

    def action(name: str, run: Callable[[int], TicketView | None]) -> None:
        def endpoint(number: int) -> dict[str, Any]:
            view = ticket_json(run(number))
            changed(name, {"counter": number, "ticket": view})
            return {"counter": number, "ticket": view}

        endpoint.__name__ = name.replace("-", "_")
        router.post(f"/counters/{{number}}/{name}", dependencies=[counter_terminal])(endpoint)

    action("next", queue.call_next)
    action("recall", queue.recall)
    action("start", queue.start)
    action("park", queue.park)

    @router.post("/counters/{number}/no-show", dependencies=[counter_terminal])
    def no_show(number: int) -> dict[str, Any]:
        queue.no_show(number)
        changed("no-show", {"counter": number})
        return {"counter": number, "ticket": None}

    @router.post("/counters/{number}/finish", dependencies=[counter_terminal])
    def finish(number: int, body: Finish | None = None) -> dict[str, Any]:
        queue.finish(number, outcome=(body or Finish()).outcome)
        changed("finish", {"counter": number})
        return {"counter": number, "ticket": None}

    @router.post("/counters/{number}/transfer", dependencies=[counter_terminal])
    def transfer(number: int, body: Transfer) -> dict[str, Any]:
        view = ticket_json(
            queue.transfer(
                number, to_category=body.category, to_counter=body.counter, front=body.front
            )
        )
        changed("transfer", {"counter": number, "ticket": view})
        return {"counter": number, "ticket": view}

    @router.post("/counters/{number}/return", dependencies=[counter_terminal])
    def return_parked(number: int, body: ReturnParked) -> dict[str, Any]:
        view = ticket_json(queue.return_parked(number, body.number))
        changed("return", {"counter": number, "ticket": view})
        return {"counter": number, "ticket": view}

    @router.post("/counters/{number}/walk-in", dependencies=[counter_terminal])
    def walk_in(number: int, body: WalkIn) -> dict[str, Any]:
        view = ticket_json(queue.walk_in(number, body.category))
        changed("walk-in", {"counter": number, "ticket": view})
        return {"counter": number, "ticket": view}

    @router.get("/stream")
    async def stream() -> StreamingResponse:
        # The app's lifespan bound the broadcaster to this event loop.
        first = live.message("queue", await asyncio.to_thread(overview_json))
        return StreamingResponse(
            live.stream(first),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router
