"""Central's apply rate for halls' batches against PostgreSQL's own bulk load of the same rows.

    .venv/bin/python bench/sync_apply.py [--rows 20000] [--repeat 3]

Rows as a hall makes them — queue tickets, their events, card payments — are cloned (new
ids, numbers and idempotency keys) from real ones made through the domain on a hall's SQLite
copy of the demo city, and cut into up batches of the agent's size, ordered as the hall's
``build_batch`` orders them (by table in foreign-key order, then seq). Each round makes two
fresh PostgreSQL databases from one template (the city seeded, central's sync role set, so
change capture fires in both) and times:

- ``sync.central_side.apply_up`` of every batch (decode, exactly-once check, upsert, cursor,
  one transaction per batch) into the first;
- ``COPY … FROM STDIN`` (psycopg 3 ``cursor.copy``, one transaction) of the same rows into
  the second: the fastest PostgreSQL takes them, the baseline.

Printed: rows/s of each, and apply as a share of COPY; the median of ``--repeat`` rounds.
Goal: apply ≥ 50 % of COPY.
"""

from __future__ import annotations

import argparse
import enum
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from servicedb import migrate
from servicedb.engine import make_engine
from servicedb.models import Site
from servicehall.demo.seed import seed_city
from servicehall.synclab.workload import HallWork
from sync import central_side, roles
from sync.hall_side import DEFAULT_BATCH_ROWS
from sync.reading import ORDER
from sync.rows import decode_row, encode_row, key_text
from sync.tables import BY_NAME
from sync.wire import UpBatch, WireRow

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SITE = "hall-xicheng"
SEED = 7
TABLES = ("queue_tickets", "queue_events", "payments")


def samples(folder: Path) -> dict[str, dict[str, Any]]:
    """One real row of each table, made through the domain at a hall."""
    engine = make_engine(f"sqlite:///{folder / 'hall.db'}")
    migrate.upgrade(engine)
    seed_city(engine, premises=40, seed=SEED)
    work = HallWork(engine, SITE, random.Random(1))
    work.ticket()
    assert work.payment(), "the demo city has bills due"
    out = {}
    with Session(engine) as session:
        site_id = session.scalar(select(Site.id).where(Site.code == SITE))
        for name in TABLES:
            table = BY_NAME[name].table
            # The hall's own row (the seeded city's history is central's).
            mine = select(table).where(table.c.origin_site_id == site_id).limit(1)
            row = session.execute(mine).one()
            out[name] = encode_row(table, row)
    engine.dispose()
    return out


def clone(sample: dict[str, dict[str, Any]], count: int) -> list[WireRow]:
    """``count`` rows in hall order: each ticket, then its events, then a payment."""
    rows: list[WireRow] = []
    seq = 0

    def add(name: str, values: dict[str, Any]) -> None:
        nonlocal seq
        seq += 1
        table = BY_NAME[name].table
        rows.append(WireRow(seq, name, "I", key_text(table, values), values))

    n = 0
    while len(rows) < count:
        n += 1
        ticket = dict(sample["queue_tickets"], id=str(uuid.uuid4()), seq=100_000 + n)
        add("queue_tickets", ticket)
        for _ in range(3):
            add(
                "queue_events",
                dict(sample["queue_events"], id=str(uuid.uuid4()), ticket_id=ticket["id"]),
            )
        key = str(uuid.uuid4())
        add("payments", dict(sample["payments"], id=str(uuid.uuid4()), idempotency_key=key))
    return rows[:count]


def batches(rows: list[WireRow], schema: str, *, as_the_hall_sends: bool) -> list[UpBatch]:
    """Batches of the agent's size. The hall's ``build_batch`` orders each batch's rows by
    table (foreign-key order, ``sync.reading.ORDER``) then seq, so central writes a table's
    rows in one statement; ``as_the_hall_sends=False`` keeps commit order (tables
    interleaved), a worst case central never gets from our hall."""
    out = []
    for i in range(0, len(rows), DEFAULT_BATCH_ROWS):
        part = rows[i : i + DEFAULT_BATCH_ROWS]
        first, last = part[0].seq, part[-1].seq
        if as_the_hall_sends:
            part = sorted(part, key=lambda r: (ORDER[r.table], r.seq))
        out.append(UpBatch(SITE, schema, first, last, part))
    return out


def database(admin: Any, template: str | None = None) -> str:
    name = f"servicehall_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        suffix = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    return name


def url_of(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def timed_apply(name: str, up: list[UpBatch], hall: central_side.Hall) -> float:
    engine = make_engine(url_of(name))
    try:
        started = time.perf_counter()
        for batch in up:
            central_side.apply_up(engine, hall, batch)
        return time.perf_counter() - started
    finally:
        engine.dispose()


def timed_copy(name: str, rows: list[WireRow]) -> float:
    by_table: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
    started = time.perf_counter()
    # Decoding the wire text is part of what central must do with a batch; COPY gets the same.
    for row in rows:
        by_table[row.table].append(decode_row(BY_NAME[row.table].table, row.values))
    with psycopg.connect(f"dbname={name} user=postgres host=127.0.0.1") as connection:
        with connection.cursor() as cursor:
            for table_name in TABLES:
                columns = [c.name for c in BY_NAME[table_name].table.columns]
                statement = f"COPY {table_name} ({', '.join(columns)}) FROM STDIN"
                with cursor.copy(statement) as copy:
                    for values in by_table[table_name]:
                        copy.write_row([_plain(values[c]) for c in columns])
        connection.commit()
    return time.perf_counter() - started


def _plain(value: Any) -> Any:
    # Enum members go in as their text, as the ORM's columns store them.
    return value.value if isinstance(value, enum.Enum) else value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    made: list[str] = []
    try:
        template = database(admin)
        made.append(template)
        engine = make_engine(url_of(template))
        migrate.upgrade(engine)
        seed_city(engine, premises=40, seed=SEED)
        roles.ensure_role(engine, roles.CENTRAL)
        central_side.issue_token(engine, SITE)
        schema = migrate.current_revision(engine) or ""
        with Session(engine) as session:
            site_id = session.scalar(select(Site.id).where(Site.code == SITE))
        engine.dispose()
        assert site_id is not None
        hall = central_side.Hall(site_id, SITE)
        with tempfile.TemporaryDirectory() as tmp:
            sample = samples(Path(tmp))
        rows = clone(sample, args.rows)
        up = batches(rows, schema, as_the_hall_sends=True)
        counts = {t: sum(r.table == t for r in rows) for t in TABLES}
        print(
            f"{len(rows)} rows ({', '.join(f'{t} {n}' for t, n in counts.items())}) "
            f"in {len(up)} batches of {DEFAULT_BATCH_ROWS}"
        )
        # The same rows in commit order (tables interleaved): one statement per run of rows.
        grouped = batches(rows, schema, as_the_hall_sends=False)
        apply_rates, copy_rates, ratios, grouped_ratios = [], [], [], []
        for round_no in range(1, args.repeat + 1):
            first, second, third = (database(admin, template) for _ in range(3))
            made += [first, second, third]
            apply_s = timed_apply(first, up, hall)
            copy_s = timed_copy(second, rows)
            grouped_s = timed_apply(third, grouped, hall)
            grouped_ratios.append(copy_s / grouped_s)
            apply_rates.append(len(rows) / apply_s)
            copy_rates.append(len(rows) / copy_s)
            ratios.append(copy_s / apply_s)
            print(
                f"round {round_no}: apply_up {len(rows) / apply_s:8.0f} rows/s ({apply_s:.2f} s); "
                f"COPY {len(rows) / copy_s:8.0f} rows/s ({copy_s:.2f} s); "
                f"apply / COPY {copy_s / apply_s:.0%}; tables interleaved "
                f"{len(rows) / grouped_s:8.0f} rows/s, {copy_s / grouped_s:.0%} of COPY"
            )
        print(
            f"median: apply_up {statistics.median(apply_rates):.0f} rows/s; "
            f"COPY {statistics.median(copy_rates):.0f} rows/s; "
            f"apply / COPY {statistics.median(ratios):.0%} (goal ≥ 50 %); "
            f"tables interleaved (worst case): {statistics.median(grouped_ratios):.0%} of COPY"
        )
    finally:
        with admin.connect() as connection:
            for name in made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
