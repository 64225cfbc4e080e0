"""Wait-time estimates in a simulated hall day: ours against the common linear rule.

    .venv/bin/python bench/queue_estimates.py [--days N] [--scale X]

Runs the real queue engine on SQLite through simulated days (Poisson arrivals varying by
hour, lognormal service times, counters opening, closing and taking lunch, 8 % no-shows)
and prints, for the same tickets, the mean absolute error of the estimate printed on the
ticket: ours (state-dependent M/M/n, learned service times, no-show discount) and the
linear rule (people ahead × mean service time ÷ counters), and their ratio.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from domain.queueing.engine import HallQueue
from servicedb import migrate
from servicedb.engine import make_engine
from servicehall.demo.hallday import SimClock, simulate_day
from servicehall.demo.seed import seed_city


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the arrival rates")
    args = parser.parse_args()
    totals = [0.0, 0.0, 0]
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'hall.db'}")
        migrate.upgrade(engine)
        seed_city(engine, premises=0)
        for offset in range(args.days):
            day = date(2026, 11, 23 + offset)
            clock = SimClock(datetime(2026, 11, 23, tzinfo=ZoneInfo("Asia/Shanghai")))
            queue = HallQueue(engine, "hall-xicheng", clock=clock)
            result = simulate_day(queue, clock, day, seed=offset + 1, scale=args.scale)
            ours, linear, n = result.mean_absolute_errors()
            print(
                f"{day}: issued {result.issued}, served {result.served}, no-shows {result.no_shows}; "
                f"MAE ours {ours / 60:5.1f} min, linear {linear / 60:5.1f} min over {n} tickets"
            )
            totals[0] += ours * n
            totals[1] += linear * n
            totals[2] += n
        engine.dispose()
    n = int(totals[2])
    ours, linear = totals[0] / n, totals[1] / n
    print(
        f"all days: MAE ours {ours / 60:.2f} min, linear rule {linear / 60:.2f} min "
        f"(ratio linear/ours {linear / ours:.2f}) over {n} tickets"
    )


if __name__ == "__main__":
    main()
