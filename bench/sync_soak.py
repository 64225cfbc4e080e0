"""Sync soak: hundreds of kill -9s and link cuts against central and two working halls.

    .venv/bin/python bench/sync_soak.py [--kills 200] [--cuts 200] [--central postgresql]

Central (PostgreSQL by default, or a SQLite file) and two halls run as their own processes;
each hall makes tickets, card payments and fault reports through the domain while its sync
agent pushes and pulls through a fault proxy. The schedule shuffles ``--kills`` SIGKILLs (a
hall or central, at a random instant, then restarted) with ``--cuts`` link faults (drop,
stall, reset after central answered, truncate, blackhole the answer; sometimes every open
connection reset too). Then the faults stop, every hall drains, and the report is made with
set checks (``servicehall.synclab.soak``): rows made at the halls, rows at central, lost, duplicated,
outbox gaps, reference tables that differ. Exit status 1 if anything was lost or doubled.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

from servicehall.synclab.soak import Testbed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--cuts", type=int, default=200)
    parser.add_argument("--central", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--premises", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.02, help="a hall's pause per op")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep the logs")
    args = parser.parse_args()
    # A SIGTERM (or SIGINT in a background job, where it is ignored) still cleans up: the
    # processes, the proxies and the PostgreSQL database go in the harness's finally.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    started = time.monotonic()

    def say(line: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {line}", flush=True)

    with tempfile.TemporaryDirectory(prefix="sync-soak-") as tmp:
        folder = args.keep or Path(tmp)
        with Testbed(
            folder,
            central=args.central,
            premises=args.premises,
            seed=args.seed,
            interval=args.interval,
            # One hall's clock is days behind central's, then hours ahead after a restart.
            clock_offsets_h=((0.0,), (-72.0, 5.0)),
            say=say,
        ) as bed:
            bed.start_all()
            faulted = time.monotonic()
            bed.run_faults(args.kills, args.cuts)
            fault_s = time.monotonic() - faulted
            say(bed.faults.line())
            drained = time.monotonic()
            bed.drain()
            drain_s = time.monotonic() - drained
            report = bed.report()
            failed = _failures(bed)
    print()
    print(f"central on {args.central}; {args.kills} kills, {args.cuts} cuts; seed {args.seed}")
    print(bed.faults.line())
    for line in report.lines():
        print(line)
    print(f"operations the halls' workload refused or failed (logged): {failed}")
    print(
        f"time taken: {time.monotonic() - started:.0f} s "
        f"(faults {fault_s:.0f} s, drain {drain_s:.1f} s)"
    )
    print("converged exactly once" if report.ok else "NOT CONVERGED")
    return 0 if report.ok else 1


def _failures(bed: Testbed) -> int:
    return sum(h.proc.log.read_text(errors="replace").count("\nfailed ") for h in bed.halls)


if __name__ == "__main__":
    sys.exit(main())
