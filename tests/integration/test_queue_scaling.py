"""The read side stays right while it stays cheap: the kept waiting list, estimate states.

Speed itself is measured by ``bench/queue_scaling.py``; here a tiny run of it checks only
that it works.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from domain.queueing import estimate, views
from domain.queueing.engine import HallQueue
from domain.queueing.errors import CounterClosed
from servicedb import migrate
from servicedb.engine import make_engine
from servicedb.models import QueueTicket, ServiceCategory, TicketStatus
from tests.builders import PIN, VIP_CARD, build_hall, open_counters

pytestmark = pytest.mark.integration
HALL = "hall-test"  # counters: 1,2 payment+enquiry; 3 payment+new_connection; 4 repairs; 5 repairs+enquiry; 6 vip+payment
ROOT = Path(__file__).resolve().parents[2]


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
    """On SQLite and on PostgreSQL: for what their transactions could make differ."""
    build_hall(migrated, HALL)
    queue = HallQueue(migrated, HALL, clock=clock)
    open_counters(queue)
    yield queue


@pytest.fixture
def sqlite_hall(sqlite_url: str, clock: Clock) -> Iterator[HallQueue]:
    """On SQLite only: estimate logic, the same on both (the SQL is tested on both elsewhere)."""
    engine = make_engine(sqlite_url)
    migrate.upgrade(engine)
    build_hall(engine, HALL)
    queue = HallQueue(engine, HALL, clock=clock)
    open_counters(queue)
    yield queue
    engine.dispose()


def waiting_in_database(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.execute(
            select(ServiceCategory.code, func.count())
            .join(QueueTicket, QueueTicket.category_id == ServiceCategory.id)
            .where(QueueTicket.status == TicketStatus.WAITING)
            .group_by(ServiceCategory.code)
        ).all()
    return {code: int(count) for code, count in rows}


def waiting_in_overview(queue: HallQueue) -> dict[str, int]:
    return {c.code: c.waiting for c in queue.overview().categories if c.waiting}


def test_another_process_sees_every_change_without_reading_everything_again(
    hall: HallQueue, migrated: Engine, clock: Clock
) -> None:
    screen = HallQueue(migrated, HALL, clock=clock)  # the board's process, say
    screen.reads.waiting_list.full_every_s = 3600  # only the changes, for this test
    assert waiting_in_overview(screen) == {}
    parked: list[str] = []
    steps: list[Callable[[], object]] = [
        lambda: [
            hall.take_ticket(c) for c in ("payment", "payment", "enquiry", "repair_complaint")
        ],
        lambda: hall.call_next(1),
        lambda: hall.transfer(1, to_counter=4),
        lambda: hall.call_next(2),
        lambda: parked.append(hall.park(2).number),
        lambda: hall.return_parked(2, parked[0]),
        lambda: hall.call_next(5),
        lambda: hall.transfer(5, to_category="payment", front=True),
        lambda: hall.take_ticket("vip", vip_card=VIP_CARD),
    ]
    for step in steps:
        clock.advance(seconds=20)
        step()
        assert waiting_in_overview(screen) == waiting_in_database(migrated)
    assert screen.reads.waiting_list.full_reads == 1


def test_a_command_rolled_back_leaves_nothing_behind(hall: HallQueue) -> None:
    hall.take_ticket("payment")
    with hall.units() as work:
        first = hall.take_ticket("payment", uow=work)
        second = hall.take_ticket("payment", uow=work)
        # Inside the transaction a ticket sees the others taken in it …
        assert (first.people_ahead, second.people_ahead) == (1, 2)
        # … never committed (no work.commit()): gone, from the database and the overview.
    assert waiting_in_overview(hall) == {"payment": 1}
    assert hall.take_ticket("payment").people_ahead == 1


def test_a_change_made_without_an_event_is_still_noticed(
    sqlite_hall: HallQueue, clock: Clock
) -> None:
    hall = sqlite_hall
    hall.take_ticket("payment")
    assert waiting_in_overview(hall) == {"payment": 1}
    # A row written behind the engine's back (a repair by hand, say): no event, but the
    # count of waiting tickets no longer matches, so the whole list is read again.
    category = hall.layout.categories["enquiry"]
    with Session(hall.units.engine) as session, session.begin():
        session.add(
            QueueTicket(
                id=uuid.uuid4(),
                origin_site_id=hall.site_id,
                category_id=category.id,
                issued_category_id=category.id,
                service_day=hall.service_day(),
                seq=900,
                number="D900",
                status=TicketStatus.WAITING,
                issued_at=clock.now,
                queued_since=clock.now,
                created_at=clock.now,
            )
        )
    assert waiting_in_overview(hall) == {"payment": 1, "enquiry": 1}


def test_estimate_states_no_wait_estimated_and_no_counter(
    sqlite_hall: HallQueue, clock: Clock
) -> None:
    hall = sqlite_hall
    states = {c.code: (c.estimate_state, c.estimate_s) for c in hall.overview().categories}
    assert states["payment"] == ("no_wait", 0)  # counters are free: 无需等候

    tickets = [hall.take_ticket("new_connection") for _ in range(3)]
    # Counter 3 is the only one for new connections: the first is called now, the rest wait.
    assert [t.estimate_state for t in tickets] == ["no_wait", "estimated", "estimated"]
    later = [t.estimate_s or 0 for t in tickets[1:]]
    assert 0 < later[0] < later[1]

    for counter in (4, 5):  # nobody serves repairs and complaints now
        hall.sign_in(counter, f"S{counter:03d}", PIN, ["repair_complaint"])
        hall.sign_out(counter)
    repairs = next(c for c in hall.overview().categories if c.code == "repair_complaint")
    assert (repairs.estimate_state, repairs.estimate_s, repairs.counters_open) == (
        "no_counter",
        None,
        0,
    )
    ticket = hall.take_ticket("repair_complaint")
    assert (ticket.estimate_state, ticket.estimate_s) == ("no_counter", None)
    assert ticket.linear_estimate_s is None
    clock.advance(minutes=1)
    hall.sign_in(5, "S005", PIN, ["repair_complaint"])
    assert hall.ticket(ticket.ticket_id).estimate_state == "no_wait"
    with pytest.raises(CounterClosed):
        hall.call_next(4)
    assert hall.call_next(5) is not None


def test_a_ticket_sent_to_counter_4_is_told_the_truth(sqlite_hall: HallQueue, clock: Clock) -> None:
    """The issue's case: '4 ahead, 15.5 min', then it was the next one counter 4 called."""
    hall = sqlite_hall
    queue = [hall.take_ticket("repair_complaint") for _ in range(5)]
    hall.call_next(4)
    hall.call_next(5)
    payment = hall.take_ticket("payment")
    hall.call_next(1)
    clock.advance(minutes=2)
    sent = hall.transfer(1, to_counter=4)
    assert sent.people_ahead == 0
    assert sent.estimate_state == "estimated"  # counter 4 is busy; then it is this one's turn
    # Someone waiting for repairs now has the transfer ahead of them at counter 4.
    assert hall.ticket(queue[2].ticket_id).people_ahead == 1
    hall.start(4)  # counter 4's customer came forward; "next" finishes that service
    called = hall.call_next(4)
    assert called is not None and called.ticket_id == payment.ticket_id


def test_one_replay_per_overview_reused_while_nothing_moves(
    sqlite_hall: HallQueue, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    hall = sqlite_hall
    replays = []
    real = estimate.forecast

    def counted(*args: Any, **kwargs: Any) -> Any:
        replays.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "forecast", counted)  # a spy at the edge: count the replays
    for _ in range(8):
        hall.take_ticket("payment")
    replays.clear()
    hall.overview()
    hall.overview()
    assert len(replays) == 1  # one replay for every category; the same again at this moment
    before = {c.code: c.estimate_s for c in hall.overview().categories}
    clock.advance(seconds=2)  # the screen's next polls: the same replay, read 2 s later
    after = {c.code: c.estimate_s for c in hall.overview().categories}
    assert len(replays) == 1
    assert (before["payment"] or 0) > 2
    assert after["payment"] == pytest.approx((before["payment"] or 0) - 2)
    clock.advance(seconds=10)
    hall.overview()
    assert len(replays) == 2  # too long since: counters are nearer to done, replay again
    hall.take_ticket("enquiry")
    replays.clear()
    hall.overview()
    assert len(replays) == 1
    # A kiosk press right after the screen's poll: the new ticket is the poll's "ticket
    # taken now", so no replay is needed — and the answer is what a replay would say.
    taken = hall.take_ticket("payment")
    assert len(replays) == 1
    assert taken.estimate_s == pytest.approx(hall.ticket(taken.ticket_id).estimate_s)
    assert len(replays) == 2
    elderly = hall.take_ticket("payment", priority_reason="elderly")  # queues otherwise
    assert len(replays) == 3
    assert elderly.estimate_s == pytest.approx(hall.ticket(elderly.ticket_id).estimate_s)


def test_many_waiting_counts_stay_right(sqlite_hall: HallQueue, clock: Clock) -> None:
    hall = sqlite_hall
    codes = ["payment", "enquiry", "new_connection", "repair_complaint", "vip"]
    taken: Counter[str] = Counter()
    for i in range(50):
        code = codes[i % len(codes)]
        hall.take_ticket(
            code,
            priority_reason="elderly" if i % 17 == 0 else None,
            vip_card=VIP_CARD if code == "vip" else None,
        )
        taken[code] += 1
        clock.advance(seconds=5)
    overview = hall.overview()
    assert {c.code: c.waiting for c in overview.categories} == dict(taken)
    # A ticket taken now is behind all of them: its wait is the longest of its service.
    payment = next(c for c in overview.categories if c.code == "payment")
    assert payment.estimate_state == "estimated" and (payment.estimate_s or 0) > 0
    newest = hall.take_ticket("payment")
    assert newest.estimate_s == pytest.approx(payment.estimate_s)


def test_the_scaling_bench_runs() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "queue_scaling.py"),
            "--sizes",
            "5,10",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "waiting:" in line]
    assert len(lines) == 4 and "overview" in lines[0] and "take_ticket" in lines[0]


def test_threads_sharing_one_hall_keep_the_list_right(hall: HallQueue, migrated: Engine) -> None:
    """The hall API's threads and the board's loop share one read side."""
    errors: list[BaseException] = []
    stop = threading.Event()

    def poll() -> None:
        try:
            while not stop.is_set():
                hall.overview()
        except BaseException as err:  # reported below, not lost in the thread
            errors.append(err)

    def press(code: str) -> None:
        try:
            for _ in range(8):
                hall.take_ticket(code)
        except BaseException as err:
            errors.append(err)

    screens = [threading.Thread(target=poll) for _ in range(2)]
    kiosks = [threading.Thread(target=press, args=(c,)) for c in ("payment", "enquiry")]
    for thread in (*screens, *kiosks):
        thread.start()
    for thread in kiosks:
        thread.join(60)
    stop.set()
    for thread in screens:
        thread.join(60)
    assert not errors, errors
    expected = {"payment": 8, "enquiry": 8}
    assert waiting_in_overview(hall) == waiting_in_database(migrated) == expected
