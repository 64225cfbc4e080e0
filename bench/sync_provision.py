"""Provisioning a hall from central over real HTTP, two processes: rows per second, with the
next page fetched while one is written against one page at a time, in the same run.

    .venv/bin/python bench/sync_provision.py [--premises 2000] [--repeat 3]

Central is a separate process (``python -m servicehall.synclab.testbed central``) on a
SQLite copy of the demo city; the hall is provisioned into fresh SQLite files by
``sync.provision.provision`` — the code of ``servicehall hall provision``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from servicedb import migrate
from servicedb.engine import make_engine
from servicehall.demo.seed import seed_city
from servicehall.platform.embedded_broker import free_port
from sync import central_side, provision, roles

SITE = "hall-xicheng"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premises", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'central.db'}"
        central = make_engine(url)
        migrate.upgrade(central)
        seed_city(central, premises=args.premises, seed=7)
        roles.ensure_role(central, roles.CENTRAL)
        token = central_side.issue_token(central, SITE)
        schema = migrate.current_revision(central) or ""
        central.dispose()
        port = free_port("127.0.0.1")
        server = subprocess.Popen(  # noqa: S603 - our own module
            [
                sys.executable,
                "-m",
                "servicehall.synclab.testbed",
                "central",
                "--db",
                url,
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{base}/health", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            rates: dict[bool, list[float]] = {True: [], False: []}
            rows = 0
            for round_no in range(1, args.repeat + 1):
                for prefetch in (False, True):
                    hall = make_engine(f"sqlite:///{folder / f'hall-{round_no}-{prefetch}.db'}")
                    migrate.upgrade(hall)
                    with provision.client_for(base, SITE, token) as client:
                        started = time.perf_counter()
                        done = provision.provision(hall, client, schema, prefetch=prefetch)
                        took = time.perf_counter() - started
                    hall.dispose()
                    rows = done.rows
                    rates[prefetch].append(done.rows / took)
                    print(
                        f"round {round_no}: {'prefetch' if prefetch else 'one page at a time'}: "
                        f"{done.rows:,} rows in {took:.1f} s, {done.rows / took:,.0f} rows/s"
                    )
            serial, overlapped = (statistics.median(rates[p]) for p in (False, True))
            print(
                f"median: {rows:,} rows; one page at a time {serial:,.0f} rows/s; "
                f"prefetch {overlapped:,.0f} rows/s ({overlapped / serial:.2f}x)"
            )
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
