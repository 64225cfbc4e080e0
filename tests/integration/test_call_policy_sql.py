"""The SQL behind "next" follows the one call policy, on SQLite and PostgreSQL.

Random hall states (priorities, fronts, transfers to counters, many tickets taken in the
same instant) are written into a real database; each counter's SQL order must be the
policy's order over the values written, and draining the queue with ``call_next`` at
random counters must call, every time, the ticket the policy names.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Hashable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from domain.queueing import policy
from domain.queueing.counter_state import served_categories
from domain.queueing.engine import HallQueue
from domain.queueing.views import call_candidates
from servicedb.models import QueueTicket, TicketStatus
from tests.builders import CATEGORIES, PIN, build_hall

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


class Clock:
    def __init__(self) -> None:
        self.now = START + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now


def random_state(
    engine: Engine, queue: HallQueue, rng: random.Random, size: int
) -> dict[uuid.UUID, policy.Ticket]:
    """Write ``size`` waiting tickets; the policy's view of them, from the values written."""
    day = queue.service_day()
    counters = list(queue.layout.counter_by_id)
    seq = dict.fromkeys((c.code for c in CATEGORIES), 0)
    written: dict[uuid.UUID, policy.Ticket] = {}
    rows = []
    for _ in range(size):
        code = rng.choice(list(seq))
        category = queue.layout.categories[code]
        seq[code] += 1
        since = START + timedelta(seconds=rng.randrange(6))  # many taken in the same second
        target = rng.choice(counters) if rng.random() < 0.15 else None
        row = QueueTicket(
            id=uuid.uuid4(),  # random ids: the tie-break must not rely on their time order
            origin_site_id=queue.site_id,
            category_id=category.id,
            issued_category_id=category.id,
            service_day=day,
            seq=seq[code],
            number=f"{category.prefix}{seq[code]:03d}",
            status=TicketStatus.WAITING,
            priority=rng.choice((0, 0, 0, 1, 2, 3)),
            target_counter_id=target,
            at_front=rng.random() < 0.1,
            issued_at=since,
            queued_since=since,
            created_at=since,
        )
        rows.append(row)
        written[row.id] = policy.Ticket(
            row.id, category.id, row.priority, since, row.seq, row.at_front, target
        )
    with Session(engine) as session, session.begin():
        session.add_all(rows)
    return written


def open_counters(engine: Engine, queue: HallQueue) -> list[policy.Counter]:
    with Session(engine) as session:
        counters = []
        for counter in queue.layout.counters.values():
            served = served_categories(session, queue.layout, counter.id)
            if served:
                counters.append(policy.Counter(counter.id, served))
        return counters


def test_sql_order_is_the_policy_order(migrated: Engine) -> None:
    for seed in range(4):
        check_sql_order(migrated, seed)


def check_sql_order(migrated: Engine, seed: int) -> None:
    hall = build_hall(migrated, f"hall-order-{seed}")
    rng = random.Random(seed)
    queue = HallQueue(migrated, hall, clock=Clock())
    codes = [c.code for c in CATEGORIES]
    for number in (1, 3, 5):  # some counters choose what they serve today
        queue.sign_in(number, f"S{number:03d}", PIN, rng.sample(codes, rng.randint(1, 3)))
    written = random_state(migrated, queue, rng, 40)
    day = queue.service_day()
    with Session(migrated) as session:
        for counter in open_counters(migrated, queue):
            assert isinstance(counter.id, uuid.UUID)
            served = {c for c in counter.serves if isinstance(c, uuid.UUID)}
            rows = session.scalars(call_candidates(queue.site_id, day, counter.id, served)).all()
            expected = policy.call_order(written.values(), counter)
            assert [r.id for r in rows] == [t.id for t in expected], f"counter {counter.id}"


def test_call_next_calls_whom_the_policy_names(migrated: Engine) -> None:
    for seed in range(3):
        check_call_next(migrated, seed)


def check_call_next(migrated: Engine, seed: int) -> None:
    hall = build_hall(migrated, f"hall-next-{seed}")
    rng = random.Random(100 + seed)
    queue = HallQueue(migrated, hall, clock=Clock())
    written = random_state(migrated, queue, rng, 30)
    counters = open_counters(migrated, queue)
    number_of: dict[Hashable, int] = {c.id: n for n, c in queue.layout.counters.items()}
    remaining = dict(written)
    while True:
        callable_ = [c for c in counters if policy.next_for(remaining.values(), c) is not None]
        if not callable_:
            break
        counter = rng.choice(callable_)
        expected = policy.next_for(remaining.values(), counter)
        assert expected is not None
        called = queue.call_next(number_of[counter.id])
        assert called is not None and called.ticket_id == expected.id
        del remaining[expected.id]
    # What is left is what no open counter may call (sent to a counter, say, that is closed).
    assert all(not policy.serving(t, counters) for t in remaining.values())
