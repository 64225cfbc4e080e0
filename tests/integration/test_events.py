"""Commands record domain events; the bus hands them on only after the commit."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from domain import events as ev
from domain.bus import EventBus
from domain.queueing.engine import HallQueue
from domain.queueing.errors import UnknownCategory
from domain.uow import UnitsOfWork
from servicedb.models import QueueTicket
from servicehall.hall.live import LiveFeed
from tests.builders import PIN, build_hall

pytestmark = pytest.mark.integration
NINE_AM = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def queue(migrated: Engine, bus: EventBus) -> HallQueue:
    return HallQueue(
        migrated, build_hall(migrated), clock=lambda: NINE_AM, units=UnitsOfWork(migrated, bus)
    )


def tickets(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(QueueTicket)) or 0)


def test_events_arrive_after_commit_in_order(queue: HallQueue, bus: EventBus) -> None:
    heard: list[ev.Event] = []
    bus.subscribe(ev.Event, heard.append)
    queue.sign_in(1, "S001", PIN, ["payment"])
    taken = queue.take_ticket("payment")
    queue.call_next(1)
    queue.start(1)
    queue.finish(1)
    assert [type(e) for e in heard] == [
        ev.CounterSignedIn,
        ev.TicketTaken,
        ev.TicketCalled,
        ev.ServiceStarted,
        ev.TicketFinished,
    ]
    called = heard[2]
    assert isinstance(called, ev.TicketCalled)
    assert (called.number, called.counter, called.ticket_id) == ("A001", 1, taken.ticket_id)


def test_a_refused_command_announces_nothing(queue: HallQueue, bus: EventBus) -> None:
    heard: list[ev.Event] = []
    bus.subscribe(ev.Event, heard.append)
    with pytest.raises(UnknownCategory):
        queue.take_ticket("lottery")
    assert heard == []


def test_commands_sharing_a_unit_of_work_commit_together(
    queue: HallQueue, bus: EventBus, migrated: Engine
) -> None:
    heard: list[ev.Event] = []
    bus.subscribe(ev.Event, heard.append)
    with queue.units() as uow:
        queue.take_ticket("payment", uow=uow)
        queue.take_ticket("enquiry", uow=uow)
        assert heard == []  # nothing is announced before the commit
        uow.commit()
    assert [e.number for e in heard if isinstance(e, ev.TicketTaken)] == ["A001", "D001"]
    assert tickets(migrated) == 2

    # Not committed: neither ticket stays, nothing is announced.
    heard.clear()
    with queue.units() as uow:
        queue.take_ticket("payment", uow=uow)
        queue.take_ticket("enquiry", uow=uow)
    assert heard == [] and tickets(migrated) == 2


def test_an_in_transaction_listener_failing_undoes_the_command(
    queue: HallQueue, bus: EventBus, migrated: Engine
) -> None:
    def outbox_full(_session: Session, _event: ev.TicketTaken) -> None:
        raise OSError("disk full")

    heard: list[ev.Event] = []
    bus.subscribe(ev.Event, heard.append)
    bus.subscribe_in_transaction(ev.TicketTaken, outbox_full)
    with pytest.raises(OSError, match="disk full"):
        queue.take_ticket("payment")
    assert tickets(migrated) == 0 and heard == []


def test_an_after_commit_listener_failing_does_not_undo_the_command(
    queue: HallQueue, bus: EventBus, migrated: Engine
) -> None:
    def broken_screen(_event: ev.Event) -> None:
        raise RuntimeError("screen unplugged")

    bus.subscribe(ev.Event, broken_screen)
    assert queue.take_ticket("payment").number == "A001"
    assert tickets(migrated) == 1


def test_a_call_made_straight_on_the_engine_reaches_the_live_stream(
    queue: HallQueue, bus: EventBus
) -> None:
    """The demo's simulated day calls the engine, not the API: screens must still hear it."""
    live = LiveFeed(queue)
    live.listen(bus)
    queue.sign_in(2, "S002", PIN, ["payment"])
    queue.take_ticket("payment")

    async def watch() -> list[tuple[str, dict[str, object]]]:
        live.broadcaster.bind(asyncio.get_running_loop())
        stream = live.broadcaster.stream()
        seen: list[tuple[str, dict[str, object]]] = []
        first = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0)  # the stream is listening before the call is made
        await asyncio.to_thread(queue.call_next, 2)
        message = await asyncio.wait_for(first, 5)
        while True:
            kind, data = message.split("\n")[0], message.split("\n")[1]
            seen.append((kind.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
            if seen[-1][0] == "queue":
                break
            message = await asyncio.wait_for(stream.__anext__(), 5)
        await stream.aclose()
        return seen

    seen = asyncio.run(watch())
    assert seen[0][0] == "ticket-called"
    assert seen[0][1]["number"] == "A001" and seen[0][1]["counter"] == 2
    overview = seen[-1][1]
    assert overview["now_serving"] == [
        {"number": "A001", "counter": 2, "at": "2026-11-23T01:00:00Z", "recalls": 0}
    ]
