"""Counter actions, for counter terminals: sign in and out, call, serve, transfer, park."""

from __future__ import annotations

from fastapi import APIRouter, Path

from domain.queueing.engine import TicketView
from servicehall.hall.api.auth import CounterTerminal, Parts
from servicehall.hall.api.convert import ticket_out
from servicehall.hall.api.errors import error_responses
from servicehall.hall.api.schemas import (
    CounterActionOut,
    FinishIn,
    ReturnParkedIn,
    SignInIn,
    TransferIn,
    WalkInIn,
)

router = APIRouter(
    prefix="/counters/{number}",
    tags=["counters"],
    responses=error_responses(401, 403, 404, 409, 422),
)

CounterNumber = Path(ge=1, le=999, description="The counter (窗口) number")


def _out(number: int, view: TicketView | None) -> CounterActionOut:
    return CounterActionOut(counter=number, ticket=ticket_out(view) if view else None)


@router.post("/sign-in", status_code=204)
def sign_in(
    body: SignInIn, parts: Parts, _device: CounterTerminal, number: int = CounterNumber
) -> None:
    parts.queue.sign_in(number, body.staff, body.categories)


@router.post("/sign-out", status_code=204)
def sign_out(parts: Parts, _device: CounterTerminal, number: int = CounterNumber) -> None:
    parts.queue.sign_out(number)


@router.post("/next")
def call_next(
    parts: Parts, _device: CounterTerminal, number: int = CounterNumber
) -> CounterActionOut:
    return _out(number, parts.queue.call_next(number))


@router.post("/recall")
def recall(parts: Parts, _device: CounterTerminal, number: int = CounterNumber) -> CounterActionOut:
    return _out(number, parts.queue.recall(number))


@router.post("/start")
def start(parts: Parts, _device: CounterTerminal, number: int = CounterNumber) -> CounterActionOut:
    return _out(number, parts.queue.start(number))


@router.post("/park")
def park(parts: Parts, _device: CounterTerminal, number: int = CounterNumber) -> CounterActionOut:
    return _out(number, parts.queue.park(number))


@router.post("/no-show")
def no_show(
    parts: Parts, _device: CounterTerminal, number: int = CounterNumber
) -> CounterActionOut:
    parts.queue.no_show(number)
    return _out(number, None)


@router.post("/finish")
def finish(
    parts: Parts,
    _device: CounterTerminal,
    body: FinishIn | None = None,
    number: int = CounterNumber,
) -> CounterActionOut:
    parts.queue.finish(number, outcome=(body or FinishIn()).outcome.value)
    return _out(number, None)


@router.post("/transfer")
def transfer(
    body: TransferIn, parts: Parts, _device: CounterTerminal, number: int = CounterNumber
) -> CounterActionOut:
    view = parts.queue.transfer(
        number, to_category=body.category, to_counter=body.counter, front=body.front
    )
    return _out(number, view)


@router.post("/return")
def return_parked(
    body: ReturnParkedIn, parts: Parts, _device: CounterTerminal, number: int = CounterNumber
) -> CounterActionOut:
    return _out(number, parts.queue.return_parked(number, body.number))


@router.post("/walk-in")
def walk_in(
    body: WalkInIn, parts: Parts, _device: CounterTerminal, number: int = CounterNumber
) -> CounterActionOut:
    return _out(number, parts.queue.walk_in(number, body.category))
