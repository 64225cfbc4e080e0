"""What operators read: each hall's lag at central with an alarm past the threshold, and the
hall's own view of what is waiting and why."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from servicedb.models import SyncPeer
from servicedb.types import utcnow
from sync import operations
from sync.agent import SyncAgent
from tests.sync.harness import provision_hall, start_central
from tests.sync.workload import HallDay


def test_a_silent_hall_raises_an_alarm_at_central(migrated: Engine, tmp_path: Path) -> None:
    central = start_central(migrated)
    hall = provision_hall(central, "hall-xicheng", tmp_path)
    assert hall.agent.cycle().error is None
    overview = central.client.get("/api/v1/sync/halls").json()
    mine = {h["site"]: h for h in overview["halls"]}
    assert mine["hall-xicheng"]["alarm"] is False
    assert mine["hall-guanganmen"]["registered"] is False  # listed, not alarmed
    assert overview["alarms"] == 0

    with Session(central.engine) as session, session.begin():
        long_ago = utcnow() - timedelta(minutes=20)
        session.execute(
            update(SyncPeer)
            .where(SyncPeer.site_id == hall.site_id)
            .values(last_up_at=long_ago, last_down_at=long_ago)
        )
    overview = operations.halls_overview(central.engine, alarm_after_s=300)
    late = [h for h in overview["halls"] if h["alarm"]]
    assert [h["site"] for h in late] == ["hall-xicheng"]
    assert late[0]["alarm_reason"].startswith("silent")
    health = central.client.get("/health").json()
    health = central.client.get("/health").json()  # the section sets the state it reports
    assert health["status"] == "degraded"
    assert "hall-xicheng" in health["components"]["sync"]["detail"]


def test_the_hall_says_what_is_waiting_and_why(migrated: Engine, tmp_path: Path) -> None:
    central = start_central(migrated)
    hall = provision_hall(central, "hall-xicheng", tmp_path)
    HallDay(hall.engine, "hall-xicheng", random.Random(5)).ticket()
    dead = SyncAgent(
        hall.engine,
        hall.agent.settings,
        client=httpx.Client(base_url="http://127.0.0.1:9", timeout=0.5),
    )
    assert dead.cycle().error is not None
    status = operations.hall_status(hall.engine)
    assert status["up"].pending > 0
    assert status["up"].last_error and "ConnectError" in status["up"].last_error
    assert hall.agent.cycle().error is None
    status = operations.hall_status(hall.engine)
    assert status["up"].pending == 0
    assert status["up"].last_error is None  # a success after it clears what is shown
