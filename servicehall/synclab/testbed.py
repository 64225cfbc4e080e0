"""Processes for the sync fault-injection harness (``servicehall.synclab.soak``): central serving its app with
sync on uvicorn, and a hall making tickets, payments and fault reports beside its sync agent.

Test and benchmark tooling, not production code: each runs as its own process so that the
harness can ``kill -9`` it at any instant, between any two statements.

    python -m servicehall.synclab.testbed central --db URL --port P
    python -m servicehall.synclab.testbed hall --db URL --central URL --site S --token T --seed K [--ops N]

A hall with ``--ops 0`` makes nothing and syncs until its outbox is empty and central has
nothing more for it ("drained"), then exits 0. Each process writes progress lines to stdout.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
import uuid
from datetime import timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from servicedb import migrate
from servicedb.engine import make_engine
from servicedb.models import Site
from servicehall.synclab.workload import HallWork
from sync import hall_side
from sync.agent import AgentSettings, SyncAgent

# Short back-off and timeouts: a cut link is noticed and retried within a second or two.
AGENT_TIMEOUT_S = 2.0
BACKOFF_MIN_S = 0.05
BACKOFF_MAX_S = 0.5
IDLE_S = 0.2


def agent_settings(
    central_url: str, site: str, site_id: uuid.UUID, token: str, schema: str
) -> AgentSettings:
    return AgentSettings(
        central_url=central_url,
        site=site,
        site_id=site_id,
        token=token,
        schema=schema,
        idle_s=IDLE_S,
        timeout_s=AGENT_TIMEOUT_S,
        backoff_min_s=BACKOFF_MIN_S,
        backoff_max_s=BACKOFF_MAX_S,
        drift_every_s=3600.0,
    )


def say(line: str) -> None:
    print(line, flush=True)


def run_central(db: str, port: int) -> None:
    from servicehall.central.app import create_central_app
    from servicehall.platform.health import HealthBoard
    from servicehall.platform.runner import Endpoint, serve
    from servicehall.sync_wiring import start_central_sync

    engine = make_engine(db)
    health = HealthBoard("central", "central")
    app = create_central_app(engine, health, None)
    start_central_sync(app, engine, health, 300.0)
    serve([Endpoint("central", app, "127.0.0.1", port)], announce=say)


def run_hall(args: argparse.Namespace) -> int:
    engine = make_engine(args.db)
    with Session(engine) as session:
        site_id = session.scalar(select(Site.id).where(Site.code == args.site))
    if site_id is None:
        say(f"no site {args.site} in {args.db}")
        return 2
    settings = agent_settings(
        args.central, args.site, site_id, args.token, migrate.current_revision(engine) or ""
    )
    if args.ops == 0:
        return drain(SyncAgent(engine, settings), args.deadline)
    agent = SyncAgent(engine, settings).start()
    rng = random.Random(args.seed)  # noqa: S311 - a repeatable workload, not a secret
    work = HallWork(engine, args.site, rng, timedelta(hours=args.clock_offset_h))
    say(f"ready {args.site}")
    made = 0
    failed = 0
    last_said = time.monotonic()
    try:
        while args.ops < 0 or made < args.ops:
            try:
                work.step()
                made += 1
            except Exception as err:
                failed += 1
                say(f"failed {type(err).__name__}: {str(err)[:200]}")
            if time.monotonic() - last_said >= 1.0:
                last_said = time.monotonic()
                say(_progress(work, failed, engine))
            if args.interval > 0:
                time.sleep(args.interval)
        say(_progress(work, failed, engine))
    finally:
        agent.stop()
    return 0


def _progress(work: HallWork, failed: int, engine: Engine) -> str:
    pending = hall_side.pending(engine).changes
    kinds = " ".join(f"{k}={v}" for k, v in work.done.items())
    return f"made {kinds} failed={failed} pending={pending}"


def drain(agent: SyncAgent, deadline_s: float) -> int:
    """Sync until nothing is pending either way; 0 when drained, 1 past the deadline."""
    until = time.monotonic() + deadline_s
    delay = BACKOFF_MIN_S
    try:
        while time.monotonic() < until:
            result = agent.cycle()
            if result.error is None and hall_side.pending(agent.engine).changes == 0:
                say("drained")
                return 0
            if result.error is not None:
                say(f"retry {result.error[:200]}")
                time.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX_S)
        say("not drained")
        return 1
    finally:
        agent.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m servicehall.synclab.testbed")
    sub = parser.add_subparsers(dest="what", required=True)
    central = sub.add_parser("central", help="serve central's app with sync")
    central.add_argument("--db", required=True)
    central.add_argument("--port", type=int, required=True)
    hall = sub.add_parser("hall", help="a hall's workload beside its sync agent")
    hall.add_argument("--db", required=True)
    hall.add_argument("--central", required=True, help="central's (or the proxy's) URL")
    hall.add_argument("--site", required=True)
    hall.add_argument("--token", required=True)
    hall.add_argument("--seed", type=int, default=1)
    hall.add_argument("--ops", type=int, default=-1, help="-1: until killed; 0: drain and exit")
    hall.add_argument("--interval", type=float, default=0.02, help="pause between operations")
    hall.add_argument("--clock-offset-h", type=float, default=0.0, help="the hall's clock skew")
    hall.add_argument("--deadline", type=float, default=120.0, help="drain: give up after")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.what == "central":
        run_central(args.db, args.port)
        return 0
    return run_hall(args)


if __name__ == "__main__":
    sys.exit(main())
