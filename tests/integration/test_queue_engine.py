"""The queue engine on real SQLite and PostgreSQL: every counter action, priorities, concurrency."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from domain.queueing.engine import HallQueue
from domain.queueing.errors import (
    CalledNotResolved,
    CounterClosed,
    NothingAtCounter,
    UnknownCategory,
    WrongState,
)
from servicedb.models import QueueEvent, QueueTicket
from tests.builders import PIN, VIP_CARD, book_appointment, build_hall, open_counters

pytestmark = pytest.mark.integration
HALL = "hall-test"  # counters: 1,2 payment+enquiry; 3 payment+new_connection; 4 repairs; 5 repairs+enquiry; 6 vip+payment


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 1, 0, tzinfo=UTC))  # 09:00 in Beijing


@pytest.fixture
def hall(migrated: Engine, clock: Clock) -> Iterator[HallQueue]:
    build_hall(migrated, HALL)
    queue = HallQueue(migrated, HALL, clock=clock, max_recalls=2)
    open_counters(queue)
    yield queue


def hall_call(hall: HallQueue, counter: int) -> uuid.UUID:
    """Serve whoever was called here (start; "next" then finishes it), then call the next."""
    _status, current = hall.counter_status(counter)
    if current is not None and current.status == "called":
        hall.start(counter)
    ticket = hall.call_next(counter)
    assert ticket is not None, f"counter {counter} found nobody waiting"
    return ticket.ticket_id


def called(hall: HallQueue, counter: int) -> str:
    return hall.ticket(hall_call(hall, counter)).number


def events(engine: Engine, number: str) -> list[str]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(QueueEvent.action)
                .join(QueueTicket, QueueEvent.ticket_id == QueueTicket.id)
                .where(QueueTicket.number == number)
                .order_by(QueueEvent.at, QueueEvent.id)
            )
        )


def test_numbers_per_category_per_day_reset_at_local_midnight(
    hall: HallQueue, clock: Clock
) -> None:
    assert [hall.take_ticket("payment").number for _ in range(3)] == ["A001", "A002", "A003"]
    assert hall.take_ticket("enquiry").number == "D001"
    clock.now = datetime(2026, 11, 23, 15, 59, tzinfo=UTC)  # 23:59 local: same day
    assert hall.take_ticket("payment").number == "A004"
    clock.now = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # 00:00 local: a new day
    assert hall.take_ticket("payment").number == "A001"


def test_ticket_says_people_ahead_and_an_estimate(hall: HallQueue) -> None:
    tickets = [hall.take_ticket("payment") for _ in range(8)]
    assert [t.people_ahead for t in tickets] == list(range(8))
    # Four counters serve payment (sharing with other categories): the first few are called
    # at once; after that each ticket waits longer than the one before it.
    estimates = [t.estimate_s or 0.0 for t in tickets]
    assert all(t.estimate_s is not None for t in tickets)
    assert estimates[0] == 0
    assert estimates == sorted(estimates) and estimates[-1] > 0
    assert tickets[-1].linear_estimate_s is not None


def test_call_next_priority_first_then_longest_wait(hall: HallQueue, clock: Clock) -> None:
    a1 = hall.take_ticket("payment")
    clock.advance(minutes=1)
    d1 = hall.take_ticket("enquiry")
    clock.advance(minutes=1)
    elder = hall.take_ticket("payment", priority_reason="elderly")
    assert called(hall, 1) == elder.number  # priority first
    assert called(hall, 1) == a1.number  # then the longest wait across served categories
    assert called(hall, 1) == d1.number
    hall.start(1)
    assert hall.call_next(1) is None


def test_priority_order_appointment_vip_elderly(
    hall: HallQueue, migrated: Engine, clock: Clock
) -> None:
    book_appointment(migrated, HALL, "payment", "AP7K2Q", clock.now)
    plain = hall.take_ticket("payment")
    elderly = hall.take_ticket("payment", priority_reason="elderly")
    vip = hall.take_ticket("payment", priority_reason="vip", vip_card=VIP_CARD)
    appointment = hall.take_ticket(
        "payment", priority_reason="appointment", appointment_code="AP7K2Q"
    )
    order = [called(hall, 3) for _ in range(4)]
    assert order == [appointment.number, vip.number, elderly.number, plain.number]


def test_counter_serves_only_its_categories(hall: HallQueue) -> None:
    hall.take_ticket("repair_complaint")
    assert hall.call_next(1) is None  # counter 1: payment and enquiries
    assert hall.call_next(4) is not None


def test_sign_in_chooses_categories_and_sign_out_stops_calls(hall: HallQueue) -> None:
    hall.take_ticket("new_connection")
    hall.sign_in(1, "S007", PIN, ["new_connection"])
    assert hall.ticket(hall_call(hall, 1)).category == "new_connection"
    hall.sign_out(1)
    with pytest.raises(CounterClosed):
        hall.call_next(1)


def test_recall_then_no_show_after_n_recalls(hall: HallQueue, migrated: Engine) -> None:
    ticket = hall.take_ticket("payment")
    hall.call_next(1)
    again = hall.recall(1)
    assert again is not None and again.number == ticket.number
    assert hall.recall(1) is not None
    assert hall.recall(1) is None  # max_recalls = 2: the third recall makes it a no-show
    assert hall.ticket(ticket.ticket_id).status == "no_show"
    assert events(migrated, ticket.number) == [
        "issued",
        "called",
        "recalled",
        "recalled",
        "no_show",
    ]


def test_start_finish_with_outcome_and_rating(
    hall: HallQueue, clock: Clock, migrated: Engine
) -> None:
    ticket = hall.take_ticket("payment")
    hall.call_next(2)
    hall.start(2)
    clock.advance(minutes=4)
    hall.finish(2, outcome="paid")
    hall.rate(ticket.ticket_id, 5)
    with pytest.raises(WrongState):
        hall.rate(ticket.ticket_id, 4)  # once
    with Session(migrated) as session:
        row = session.get(QueueTicket, ticket.ticket_id)
        assert row is not None and (row.status.value, row.outcome, row.rating) == (
            "done",
            "paid",
            5,
        )
        assert row.finished_at is not None and row.started_at is not None
        assert row.finished_at - row.started_at == timedelta(minutes=4)
    assert events(migrated, ticket.number) == ["issued", "called", "started", "finished", "rated"]
    with pytest.raises(NothingAtCounter):
        hall.finish(2)


def test_a_transfer_never_frees_a_number(hall: HallQueue) -> None:
    first = hall.take_ticket("payment")
    hall.call_next(1)
    hall.transfer(1, to_category="enquiry")
    assert hall.ticket(first.ticket_id).category == "enquiry"
    assert hall.take_ticket("payment").number == "A002"
    assert hall.take_ticket("enquiry").number == "D001"


def test_transfer_to_category_back_or_front(hall: HallQueue, clock: Clock) -> None:
    waiting = hall.take_ticket("repair_complaint")
    clock.advance(minutes=1)
    moved = hall.take_ticket("payment")
    hall.call_next(1)
    hall.transfer(1, to_category="repair_complaint", front=False)
    assert called(hall, 4) == waiting.number  # to the back: behind who was there
    assert called(hall, 4) == moved.number
    hall.transfer(4, to_category="enquiry", front=True)
    hall.take_ticket("enquiry")
    assert called(hall, 5) == moved.number  # to the front


def test_transfer_to_a_counter_only_that_counter_calls_it(hall: HallQueue) -> None:
    ticket = hall.take_ticket("payment")
    hall.call_next(1)
    hall.transfer(1, to_counter=6)
    assert hall.call_next(2) is None
    assert called(hall, 6) == ticket.number


def test_park_and_return(hall: HallQueue) -> None:
    parked = hall.take_ticket("payment")
    other = hall.take_ticket("payment")
    hall.call_next(1)
    hall.park(1)
    assert hall.ticket(parked.ticket_id).status == "parked"
    assert called(hall, 1) == other.number
    hall.return_parked(1, parked.number)
    hall.take_ticket("payment")
    assert called(hall, 1) == parked.number  # back at the front for this counter


def test_next_while_a_ticket_is_called_is_refused_not_a_silent_no_show(hall: HallQueue) -> None:
    first = hall.take_ticket("payment")
    hall.take_ticket("payment")
    hall.call_next(1, request_key="press-1")
    with pytest.raises(CalledNotResolved):
        hall.call_next(1, request_key="press-2")
    assert hall.ticket(first.ticket_id).status == "called"
    # The same press arriving twice (a double click) answers with the same ticket.
    again = hall.call_next(1, request_key="press-1")
    assert again is not None and again.ticket_id == first.ticket_id
    hall.no_show(1)
    assert hall.ticket(first.ticket_id).status == "no_show"
    assert called(hall, 1) == "A002"


def test_walk_in_is_served_at_once_and_numbered(hall: HallQueue) -> None:
    hall.take_ticket("payment")
    walk_in = hall.walk_in(3, "new_connection")
    assert walk_in.status == "serving" and walk_in.number == "B001" and walk_in.counter == 3


def test_unknown_category_and_bad_rating(hall: HallQueue) -> None:
    with pytest.raises(UnknownCategory):
        hall.take_ticket("nonsense")
    with pytest.raises(WrongState):
        hall.take_ticket("payment", priority_reason="bribe")


def test_overview_counts_and_now_serving(hall: HallQueue) -> None:
    for _ in range(3):
        hall.take_ticket("payment")
    hall.call_next(1)
    overview = hall.overview()
    payment = next(c for c in overview.categories if c.code == "payment")
    assert payment.waiting == 2 and payment.counters_open > 0
    assert [(call.number, call.counter) for call in overview.now_serving] == [("A001", 1)]
    assert [call.number for call in hall.recent_calls()] == ["A001"]


def test_event_log_is_append_only(hall: HallQueue, migrated: Engine) -> None:
    hall.take_ticket("payment")
    with migrated.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text("UPDATE queue_events SET action = 'x'"))
    with Session(migrated) as session:
        detail = session.scalars(
            select(QueueEvent.detail).where(QueueEvent.action == "issued")
        ).first()
        assert detail is not None and json.loads(detail) == {"priority_reason": None}


def test_two_counters_pressing_next_together_never_share_a_ticket(
    hall: HallQueue, migrated: Engine, clock: Clock
) -> None:
    issued = {hall.take_ticket("payment").number for _ in range(40)}
    counters = [1, 2, 3, 6]  # all serve payment
    barrier = threading.Barrier(len(counters))
    taken: dict[int, list[str]] = {n: [] for n in counters}
    errors: list[BaseException] = []

    def work(number: int) -> None:
        queue = HallQueue(migrated, HALL, clock=clock)
        try:
            # Ten rounds; in each, all four counters press "next" at the same moment.
            for _ in range(10):
                barrier.wait(timeout=30)
                ticket = queue.call_next(number)
                if ticket is not None:
                    taken[number].append(ticket.number)
                    queue.start(number)  # served; the next "next" finishes it
        except BaseException as err:  # reported below, not lost in the thread
            errors.append(err)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(n,)) for n in counters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    everything = [number for numbers in taken.values() for number in numbers]
    assert len(everything) == len(set(everything)) == 40
    assert set(everything) == issued
    # Every press found a ticket: each counter got exactly one per round.
    assert all(len(numbers) == 10 for numbers in taken.values())


def test_concurrent_kiosks_never_duplicate_a_number(
    hall: HallQueue, migrated: Engine, clock: Clock
) -> None:
    barrier = threading.Barrier(3)
    numbers: list[str] = []
    lock = threading.Lock()

    def kiosk() -> None:
        queue = HallQueue(migrated, HALL, clock=clock)
        barrier.wait()
        for _ in range(15):
            number = queue.take_ticket("payment").number
            with lock:
                numbers.append(number)

    threads = [threading.Thread(target=kiosk) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(numbers) == [f"A{i:03d}" for i in range(1, 46)]
