"""Wait-time estimates in simulated hall days: ours against the common linear rule.

    .venv/bin/python bench/queue_estimates.py [--days N] [--overloaded-days M] [--overload X] [--scale X]

Runs the real queue engine on SQLite through simulated days (Poisson arrivals varying by
hour, lognormal service times, counters opening, closing and taking lunch in turn, 8 %
no-shows, 5 % elderly going ahead) and prints, for the same tickets, the mean absolute
error of the estimate printed on the ticket: ours (the call policy replayed, see
``domain.queueing.estimate``) and the linear rule (people ahead × mean service time ÷
counters), and their ratio (linear ÷ ours: above 1, ours is closer) per day, for the
normal days, for the overloaded days (arrivals × ``--overload``: the queue grows all
morning) and for all of them. The days follow each other in one hall database, as in a
real hall, so from the second day on the roster of the day before is known.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from domain.queueing.engine import HallQueue
from servicedb import migrate
from servicedb.engine import make_engine
from servicehall.demo.hallday import SimClock, simulate_day
from servicehall.demo.seed import seed_city


class Totals:
    def __init__(self) -> None:
        self.ours = self.linear = 0.0
        self.tickets = 0

    def add(self, ours: float, linear: float, tickets: int) -> None:
        self.ours += ours * tickets
        self.linear += linear * tickets
        self.tickets += tickets

    def line(self, label: str) -> str:
        if not self.tickets:
            return f"{label}: no tickets"
        ours, linear = self.ours / self.tickets, self.linear / self.tickets
        return (
            f"{label}: MAE ours {ours / 60:.2f} min, linear rule {linear / 60:.2f} min "
            f"(ratio linear/ours {linear / ours:.2f}) over {self.tickets} tickets"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=3, help="normal days")
    parser.add_argument("--overloaded-days", type=int, default=2)
    parser.add_argument("--overload", type=float, default=1.4, help="arrivals × this on those")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply all arrival rates")
    args = parser.parse_args()
    days = [(1.0, "normal")] * args.days + [(args.overload, "overloaded")] * args.overloaded_days
    groups = {"normal": Totals(), "overloaded": Totals()}
    everything = Totals()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'hall.db'}")
        migrate.upgrade(engine)
        seed_city(engine, premises=0)
        first = date(2026, 11, 23)
        for offset, (load, kind) in enumerate(days):
            day = first + timedelta(days=offset)
            clock = SimClock(datetime.combine(day, datetime.min.time(), ZoneInfo("Asia/Shanghai")))
            queue = HallQueue(engine, "hall-xicheng", clock=clock)
            result = simulate_day(queue, clock, day, seed=offset + 1, scale=args.scale * load)
            ours, linear, n = result.mean_absolute_errors()
            print(
                f"{day} ({kind}, arrivals ×{args.scale * load:.2f}): issued {result.issued}, "
                f"served {result.served}, no-shows {result.no_shows}; MAE ours {ours / 60:5.2f} min, "
                f"linear {linear / 60:5.2f} min, ratio {linear / ours:4.2f} over {n} tickets",
                flush=True,
            )
            groups[kind].add(ours, linear, n)
            everything.add(ours, linear, n)
        engine.dispose()
    for kind, totals in groups.items():
        if totals.tickets:
            print(totals.line(f"{kind} days"))
    print(everything.line("all days"))


if __name__ == "__main__":
    main()
