"""Counter actions, for counter terminals: sign in and out, pause, call, serve, transfer, park.

A counter terminal's token works only at the counters it was registered for.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path

from domain.queueing.counter_state import PauseReason as DomainPauseReason
from domain.queueing.engine import TicketView
from servicehall.hall.api.auth import CounterTerminal, Parts
from servicehall.hall.api.convert import counter_status_out, ticket_out
from servicehall.hall.api.errors import ApiError, error_responses
from servicehall.hall.api.schemas import (
    CallNumberIn,
    CounterActionOut,
    CounterStatusOut,
    FinishIn,
    PauseIn,
    ReturnParkedIn,
    SignInIn,
    TicketListOut,
    TransferIn,
    WalkInIn,
)


def _this_counter(
    device: CounterTerminal,
    number: Annotated[int, Path(ge=1, le=999, description="The counter (窗口) number")],
) -> int:
    if number not in device.counters:
        raise ApiError(
            403,
            "NotThisCounter",
            "此终端不能操作该窗口",
            "This terminal may not act at that counter",
            f"terminal {device.name} serves counter(s) {sorted(device.counters)}",
        )
    return number


Counter = Annotated[int, Depends(_this_counter)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=64,
        description="One per button press: a repeated press gets the same answer.",
    ),
]

router = APIRouter(
    prefix="/counters/{number}",
    tags=["counters"],
    responses=error_responses(401, 403, 404, 409, 413, 422),
)


def _out(number: int, view: TicketView | None) -> CounterActionOut:
    return CounterActionOut(counter=number, ticket=ticket_out(view) if view else None)


@router.get("")
def status(parts: Parts, number: Counter) -> CounterStatusOut:
    """The counter's state and its current ticket: what the terminal shows after a reload."""
    state, ticket = parts.queue.counter_status(number)
    return counter_status_out(parts.queue, number, state, ticket)


@router.get("/parked")
def parked(parts: Parts, number: Counter) -> TicketListOut:
    """Tickets parked at this counter today, for the terminal to pick one to return."""
    return TicketListOut(tickets=[ticket_out(v) for v in parts.queue.parked(number)])


@router.post("/sign-in", status_code=204)
def sign_in(body: SignInIn, parts: Parts, number: Counter) -> None:
    parts.queue.sign_in(number, body.staff_no, body.pin, body.categories)


@router.post("/sign-out", status_code=204)
def sign_out(parts: Parts, number: Counter) -> None:
    parts.queue.sign_out(number)


@router.post("/pause", status_code=204)
def pause(body: PauseIn, parts: Parts, number: Counter) -> None:
    parts.queue.pause(number, DomainPauseReason(body.reason.value))


@router.post("/resume", status_code=204)
def resume(parts: Parts, number: Counter) -> None:
    parts.queue.resume(number)


@router.post("/next")
def call_next(parts: Parts, number: Counter, key: IdempotencyKey = None) -> CounterActionOut:
    """Finish the service under way and call the next ticket (null: nobody is waiting)."""
    return _out(number, parts.queue.call_next(number, request_key=key))


@router.post("/call")
def call_number(body: CallNumberIn, parts: Parts, number: Counter) -> CounterActionOut:
    """特呼: call a waiting ticket by its number, out of turn."""
    return _out(number, parts.queue.call_number(number, body.number))


@router.post("/recall")
def recall(parts: Parts, number: Counter) -> CounterActionOut:
    return _out(number, parts.queue.recall(number))


@router.post("/start")
def start(parts: Parts, number: Counter) -> CounterActionOut:
    return _out(number, parts.queue.start(number))


@router.post("/park")
def park(parts: Parts, number: Counter) -> CounterActionOut:
    return _out(number, parts.queue.park(number))


@router.post("/no-show")
def no_show(parts: Parts, number: Counter) -> CounterActionOut:
    parts.queue.no_show(number)
    return _out(number, None)


@router.post("/finish")
def finish(parts: Parts, number: Counter, body: FinishIn | None = None) -> CounterActionOut:
    parts.queue.finish(number, outcome=(body or FinishIn()).outcome.value)
    return _out(number, None)


@router.post("/transfer")
def transfer(body: TransferIn, parts: Parts, number: Counter) -> CounterActionOut:
    view = parts.queue.transfer(
        number, to_category=body.category, to_counter=body.counter, front=body.front
    )
    return _out(number, view)


@router.post("/return")
def return_parked(body: ReturnParkedIn, parts: Parts, number: Counter) -> CounterActionOut:
    return _out(number, parts.queue.return_parked(number, body.number))


@router.post("/walk-in")
def walk_in(body: WalkInIn, parts: Parts, number: Counter) -> CounterActionOut:
    return _out(number, parts.queue.walk_in(number, body.category))
