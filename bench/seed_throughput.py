"""How fast the demo city is written: the bulk path against the ORM, in the same run.

    .venv/bin/python bench/seed_throughput.py [--premises N] [--url URL]

Prints premises per second for the ORM (``session.add_all``, the baseline) and for the
bulk path the seeder uses, on the same rows, and their ratio. Machines here are noisy, so
the ratio is the figure to compare between runs.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from servicedb import migrate
from servicedb.engine import make_engine
from servicedb.ids import DeterministicIds
from servicedb.models import Premises, Site, SiteKind
from servicehall.demo.seed.bulk import BulkWriter

COLUMNS = (
    "id",
    "origin_site_id",
    "created_at",
    "address_zh",
    "address_en",
    "lon",
    "lat",
    "zone_id",
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--premises", type=int, default=50_000)
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        with Session(engine) as session:
            site = Site(
                code=f"bench-{time.time_ns()}",
                kind=SiteKind.CENTRAL,
                name_zh="基准",
                name_en="Bench",
            )
            session.add(site)
            session.commit()
            site_id = site.id
        ids = DeterministicIds(1, 1_700_000_000_000)
        rng = random.Random(1)
        now = datetime.now(UTC)

        def rows() -> list[tuple[object, ...]]:
            return [
                (
                    ids.next(),
                    site_id,
                    now,
                    f"北京市西城区金融大街{i}号",
                    f"No. {i} Jinrong Street",
                    116.3 + rng.random() / 10,
                    39.9 + rng.random() / 10,
                    None,
                )
                for i in range(args.premises)
            ]

        orm_rows = rows()
        started = time.perf_counter()
        with Session(engine) as session:
            session.add_all(Premises(**dict(zip(COLUMNS, row, strict=True))) for row in orm_rows)
            session.commit()
        orm_s = time.perf_counter() - started

        bulk_rows = rows()
        started = time.perf_counter()
        with engine.begin() as connection:
            BulkWriter(connection).insert(Premises.__table__, COLUMNS, bulk_rows)  # type: ignore[arg-type]
        bulk_s = time.perf_counter() - started
        engine.dispose()

    n = args.premises
    print(f"database: {engine.dialect.name}, {n:,} premises rows each way")
    print(f"ORM add_all (baseline): {n / orm_s:12,.0f} rows/s")
    print(f"bulk writer:            {n / bulk_s:12,.0f} rows/s")
    print(f"ratio bulk / ORM:       {orm_s / bulk_s:12.1f} x")


if __name__ == "__main__":
    main()
