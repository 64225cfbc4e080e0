"""Central's dispatch reads and sweeps on a seeded city, each against a baseline from the same run.

    .venv/bin/python bench/dispatch_central.py [--premises N] [--orders M] [--repeat R] [--db URL]

- **Caller lookup (来电弹屏)**: ``CallerLookup.lookup`` for random customers' numbers — the
  customer, accounts, last bills with the ledger's sums, arrears, payments, orders, outages
  — against the bare indexed query that only finds the account ids for the number.
- **SLA sweep**: ``work_order_sla.sweep`` over M open orders that all need a decision (each
  gets a warning row), and a second sweep that finds nothing to do, against reading the
  same M rows.
- **Console state**: the board with M orders as the console's ``/console/state`` builds it
  (orders with their SLA clocks, crews, outages, alerts), against reading the M rows.

The city is the demo seeder's (a SQLite file in a temporary folder unless ``--db`` names an
empty PostgreSQL database). Figures are medians (lookups) or single timed runs (sweeps),
printed with their ratio to the baseline.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.bus import EventBus
from domain.callers import CallerLookup
from domain.crew_positions import DbCrewPositions
from domain.dispatch_planning import DispatchPlanner
from domain.uow import UnitsOfWork
from domain.work_order_sla import sweep
from domain.work_orders import Intake, Who, WorkOrders
from field_dispatch.vocabulary import Actor, Category
from servicedb.models import AccountPhone, WorkOrder
from servicedb.types import utcnow
from servicehall.demo.seed import seed_city
from servicehall.platform.database import close_database, open_database


def median_s(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def once_s(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--premises", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument(
        "--db", default="", help="an empty database URL (default: SQLite in a temp dir)"
    )
    args = parser.parse_args()

    folder = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite:///{Path(folder.name) / 'central.db'}"
    engine = open_database(url, auto_upgrade=True)
    started = time.perf_counter()
    seed_city(engine, premises=args.premises)
    print(
        f"seeded {args.premises:,} premises in {time.perf_counter() - started:.1f} s ({engine.dialect.name})"
    )

    clock_now = [utcnow()]
    orders = WorkOrders(UnitsOfWork(engine, EventBus()), "central", clock=lambda: clock_now[0])
    callers = CallerLookup(orders)
    with Session(engine) as session:
        phones = list(session.scalars(select(AccountPhone.phone).limit(5_000)))
    rng = random.Random(7)

    # --- caller lookup ---------------------------------------------------------------------
    def bare() -> object:
        phone = rng.choice(phones)
        with Session(engine) as session:
            return session.scalars(
                select(AccountPhone.account_id).where(AccountPhone.phone == phone)
            ).all()

    def card() -> object:
        return callers.lookup(rng.choice(phones))

    base = median_s(bare, args.repeat)
    full = median_s(card, args.repeat)
    print(
        f"caller lookup: {full * 1000:.2f} ms median; the bare phone → account query {base * 1000:.2f} ms; ratio {full / base:.1f}×"
    )

    # --- orders on the board -----------------------------------------------------------------
    agent = Who(Actor.DISPATCHER, "bench")
    categories = [Category.LEAK, Category.NO_WATER, Category.LOW_PRESSURE, Category.METER_FAULT]
    started = time.perf_counter()
    for n in range(args.orders):
        orders.open(
            Intake(rng.choice(categories), f"bench {n}", "phone", lon=116.33 + rng.random() * 0.06, lat=39.87 + rng.random() * 0.07),
            agent,
        )  # fmt: skip
    opened = time.perf_counter() - started
    print(
        f"intake: {args.orders:,} orders in {opened:.1f} s ({opened / args.orders * 1000:.2f} ms each)"
    )

    def read_rows() -> object:
        with Session(engine) as session:
            return session.scalars(select(WorkOrder)).all()

    rows_s = median_s(read_rows, 5)
    clock_now[0] = utcnow() + timedelta(hours=23)  # every clock has passed its warn share
    first = once_s(lambda: sweep(orders))
    second = once_s(lambda: sweep(orders))
    print(
        f"SLA sweep of {args.orders:,} open orders: {first:.2f} s deciding (each warned once), "
        f"{second:.2f} s finding nothing new; reading the rows {rows_s:.3f} s; "
        f"ratios {first / rows_s:.0f}× and {second / rows_s:.0f}×"
    )

    planner = DispatchPlanner(orders, DbCrewPositions(engine, clock=lambda: clock_now[0]))

    def board() -> object:
        return orders.active(), planner.crews(), orders.alerts()

    state_s = median_s(board, 5)
    print(
        f"console state with {args.orders:,} orders: {state_s * 1000:.0f} ms; reading the rows {rows_s * 1000:.0f} ms; ratio {state_s / rows_s:.1f}×"
    )
    close_database(engine)
    folder.cleanup()


if __name__ == "__main__":
    main()
