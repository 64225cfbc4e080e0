"""Sync under faults, with real processes: central and halls killed with SIGKILL at random
points (one test at the worst point: central applied a batch, the hall never heard), links
cut through a proxy, a hall's disk full, hall clocks days off. Afterwards central holds
exactly the halls' rows — nothing lost, nothing twice — and each hall central's reference
data. ``bench/sync_soak.py`` runs the same harness with hundreds of faults."""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from servicedb.engine import make_engine
from servicedb.models import QueueTicket, SyncChange, SyncPeer
from servicehall.synclab.soak import Testbed
from servicehall.synclab.testbed import agent_settings
from servicehall.synclab.workload import HallWork
from sync import hall_side
from sync.agent import SyncAgent
from sync.faultproxy import Fault


def _converged(bed: Testbed) -> None:
    bed.drain()
    report = bed.report()
    assert report.ok, "\n".join(report.lines())


def test_kills_and_cuts_at_random_converge_exactly_once(tmp_path: Path) -> None:
    # The second hall's clock is three days behind central's, then (after a restart) five
    # hours ahead: ordering must never depend on a clock.
    with Testbed(tmp_path, seed=11, clock_offsets_h=((0.0,), (-72.0, 5.0))) as bed:
        bed.start_all()
        bed.run_faults(kills=4, cuts=6)
        assert bed.faults.kills_central + bed.faults.kills_hall == 4
        _converged(bed)


def _until(condition: object, what: str, timeout_s: float = 30.0) -> None:
    assert callable(condition)
    until = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > until:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.05)


def test_killed_after_central_applied_before_the_hall_heard(tmp_path: Path) -> None:
    with Testbed(tmp_path, halls=("hall-xicheng",), seed=3) as bed:
        hall = bed.halls[0]
        central = make_engine(bed.central_db)
        hall_db = make_engine(hall.db_url)
        try:
            # Central gets every request and answers it; the answers never reach the hall.
            hall.proxy.set_mode(Fault.BLACKHOLE_RESPONSE)
            bed.start_hall(0)

            def applied_not_acknowledged() -> bool:
                with Session(central) as session:
                    peer = session.get(SyncPeer, hall.site_id)
                    acked = peer.up_seq if peer is not None else 0
                with Session(hall_db) as session:
                    oldest = session.scalar(select(func.min(SyncChange.seq)))
                return acked > 0 and oldest is not None and oldest <= acked

            _until(applied_not_acknowledged, "central applies a batch the hall still holds")
            # kill -9 both in that window: neither side finishes anything.
            bed.kill_hall(0)
            bed.kill_central()
            with Session(hall_db) as session:
                assert session.scalar(select(func.count()).select_from(SyncChange))
        finally:
            central.dispose()
            hall_db.dispose()
        bed.start_central()
        _converged(bed)  # the hall resends; central acknowledges what it has, applies nothing twice


def test_hall_disk_full_keeps_what_was_committed(tmp_path: Path) -> None:
    with Testbed(tmp_path, halls=("hall-xicheng",), seed=5) as bed:
        hall = bed.halls[0]
        limit = {"pages": 1 << 30}
        engine = make_engine(hall.db_url)

        @event.listens_for(engine, "connect")
        def _cap(dbapi_connection: object, _record: object) -> None:
            cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
            cursor.execute(f"PRAGMA max_page_count = {limit['pages']}")
            cursor.close()

        settings = agent_settings(bed.central_url, hall.site, hall.site_id, hall.token, bed.schema)
        agent = SyncAgent(engine, settings)
        try:
            work = HallWork(engine, hall.site, random.Random(5))
            for _ in range(10):
                work.step()
            assert agent.cycle().error is None

            with engine.connect() as connection:
                limit["pages"] = int(connection.execute(text("PRAGMA page_count")).scalar_one())
            engine.dispose()  # every new connection takes the lower cap: the disk is full
            full = None
            for _ in range(2000):
                before = _outbox_and_tickets(engine)
                try:
                    work.queue.take_ticket("enquiry")
                except OperationalError as err:
                    full = err
                    break
            assert full is not None and "full" in str(full)
            # The refused ticket left nothing behind: no row, no half of an outbox.
            assert _outbox_and_tickets(engine) == before
            # What was committed still goes up while the disk stays full.
            # A page from central may not fit; the push before it is what counts here.
            with contextlib.suppress(OperationalError):
                agent.cycle()
            assert hall_side.pending(engine).changes == 0

            limit["pages"] = 1 << 30
            engine.dispose()
            for _ in range(10):
                work.step()
            assert agent.cycle().error is None
        finally:
            agent.stop()
            engine.dispose()
        _converged(bed)


def _outbox_and_tickets(engine: Engine) -> tuple[set[tuple[int, str, str]], set[uuid.UUID]]:
    with Session(engine) as session:
        outbox = {
            (c.seq, c.table_name, c.row_key)
            for c in session.execute(
                select(SyncChange.seq, SyncChange.table_name, SyncChange.row_key)
            )
        }
        tickets = set(session.scalars(select(QueueTicket.id)))
    return outbox, tickets
