"""What the queue's reads and a new ticket cost as the queue grows.

    .venv/bin/python bench/queue_scaling.py [--url URL] [--sizes 50,100,200,500,1000,2000]

For each size the hall has that many people waiting (mixed services, a few with priority,
one transferred to a counter, half a day already served), four counters are busy and the
rest are free for nothing they serve. Measured: the median of ``overview()`` (what the
hall screen and the board poll, twice a second) and of one ``take_ticket`` (a kiosk press,
committed) — as in the hall, where the screen's feed recomputes the overview after every
change, and alone, with nobody polling — each against the same figure at the smallest
size measured in the same run: a ratio that grows like the size means a linear cost,
faster means worse than linear.

SQLite by default (a file in a temporary folder, as a hall runs it, ``synchronous=FULL``);
``--url`` runs it on an EMPTY PostgreSQL database (it is migrated and seeded here).
The queue is filled with rows written straight into ``queue_tickets`` (as ``take_ticket``
would write them) so the fill is quick; every measured call is the engine's own.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from domain.queueing.engine import HallQueue
from servicedb import migrate
from servicedb.engine import make_engine
from servicedb.models import QueueTicket, TicketStatus
from servicehall.demo.seed import seed_city
from servicehall.demo.seed.city import DEMO_STAFF_PIN

HALL = "hall-xicheng"
MIX = {"payment": 0.5, "enquiry": 0.2, "repair_complaint": 0.14, "new_connection": 0.1, "vip": 0.06}
REASONS = {"elderly": 1, "appointment": 3}


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class Filler:
    """Writes waiting (and already finished) tickets the way ``take_ticket`` would."""

    def __init__(self, engine: Engine, queue: HallQueue, clock: Clock, rng: random.Random) -> None:
        self.engine, self.queue, self.clock, self.rng = engine, queue, clock, rng

    def add(self, waiting: int, finished: int) -> None:
        rows = []
        day = self.queue.service_day()
        with Session(self.engine) as session:
            last = dict(
                session.execute(
                    select(QueueTicket.issued_category_id, func.max(QueueTicket.seq))
                    .where(QueueTicket.service_day == day)
                    .group_by(QueueTicket.issued_category_id)
                ).all()
            )
        self.seq = {code: last.get(c.id, 0) for code, c in self.queue.layout.categories.items()}
        counters = list(self.queue.layout.counter_by_id)
        for index in range(waiting + finished):
            code = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
            category = self.queue.layout.categories[code]
            self.seq[code] += 1
            self.clock.now += timedelta(seconds=2)
            now = self.clock.now
            reason = self.rng.choice(list(REASONS)) if self.rng.random() < 0.05 else None
            done = index >= waiting
            ticket = QueueTicket(
                origin_site_id=self.queue.site_id,
                category_id=category.id,
                issued_category_id=category.id,
                service_day=day,
                seq=self.seq[code],
                number=f"{category.prefix}{self.seq[code]:03d}"[-8:],
                status=TicketStatus.DONE if done else TicketStatus.WAITING,
                priority=max(REASONS.get(reason or "", 0), 2 if category.is_priority else 0),
                priority_reason=reason,
                issued_at=now - timedelta(minutes=30) if done else now,
                queued_since=now,
                created_at=now,
            )
            if done:
                ticket.counter_id = self.rng.choice(counters)
                ticket.called_at = now - timedelta(minutes=8)
                ticket.started_at = now - timedelta(minutes=7)
                ticket.finished_at = now - timedelta(minutes=2)
                ticket.outcome = "served"
            elif index % 400 == 7:
                ticket.target_counter_id = self.rng.choice(counters)  # sent to one counter
            rows.append(ticket)
        with Session(self.engine) as session, session.begin():
            session.add_all(rows)


def median_ms(
    action: Callable[[], object],
    repeat: int,
    clock: Clock,
    step_s: float,
    between: Callable[[], object] | None = None,
) -> tuple[float, float]:
    """Median and best wall time of ``action``; the hall's clock moves ``step_s`` before each call.

    ``between`` runs (untimed) before each call. On a shared machine the best is the
    steadier figure; the median is what a caller sees.
    """
    action()  # warm: the first call pays for compiled statements
    times = []
    for _ in range(repeat):
        clock.now += timedelta(seconds=step_s)
        if between is not None:
            between()
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", help="an empty database (default: SQLite in a temporary folder)")
    parser.add_argument("--sizes", default="50,100,200,500,1000,2000")
    parser.add_argument("--repeat", type=int, default=21, help="calls measured at each size")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(args.url or f"sqlite:///{Path(folder) / 'hall.db'}")
        migrate.upgrade(engine)
        seed_city(engine, premises=0)
        clock = Clock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
        queue = HallQueue(engine, HALL, clock=clock)
        for counter in range(1, 7):
            queue.sign_in(counter, f"S{counter:03d}", DEMO_STAFF_PIN)
        filler = Filler(engine, queue, clock, random.Random(5))
        # Four counters with someone at them; the queue then grows behind them.
        filler.add(4, 0)
        for counter in (1, 2, 4, 6):
            queue.call_next(counter)
        rows = []
        waiting = 0
        for size in sizes:
            filler.add(size - waiting, (size - waiting) // 2)
            waiting = size
            overview = median_ms(queue.overview, args.repeat, clock, 0.5)  # a screen's poll

            def take() -> None:
                queue.take_ticket(filler.rng.choice(["payment", "enquiry", "new_connection"]))

            # In the hall the screen's feed recomputes the overview after every change.
            ticket = median_ms(take, args.repeat, clock, 3.0, between=queue.overview)
            alone = median_ms(take, args.repeat, clock, 3.0)
            waiting += 2 * (args.repeat + 1)
            rows.append((size, overview[0], ticket[0], alone[0]))
            print(
                f"{size:6d} waiting: overview {overview[0]:6.1f} ms (best {overview[1]:5.1f}), "
                f"take_ticket {ticket[0]:6.1f} ms (best {ticket[1]:5.1f}), "
                f"with no screen polling {alone[0]:6.1f} ms (best {alone[1]:5.1f})",
                flush=True,
            )
        engine.dispose()
    base_size, base_overview, base_ticket, base_alone = rows[0]
    print(f"\nmedians against {base_size} waiting, measured in this run (size ratio / time ratio):")
    for size, overview_ms, ticket_ms, alone_ms in rows:
        print(
            f"{size:6d} waiting: size ×{size / base_size:5.1f}   "
            f"overview ×{overview_ms / base_overview:6.2f}   "
            f"take_ticket ×{ticket_ms / base_ticket:6.2f}   "
            f"with no screen ×{alone_ms / base_alone:6.2f}"
        )


if __name__ == "__main__":
    main()
