"""From the database to the Alpha board over a pty: calls, and outage notices that come and go."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from devices.ledboard.board import AlphaBoard
from devices.ledboard.connection import SerialBoardConnection
from devices.ledboard.simulator import AlphaSignSimulator
from domain.queueing.engine import HallQueue
from hall_display.content import Message, board_content
from hall_display.driver import BoardDriver, DisplayLoop
from hall_display.state import hall_state
from servicedb.models import Outage, OutageStatus
from servicehall.demo.seed import seed_city
from servicehall.demo.seed.city import DEMO_STAFF_PIN

pytestmark = pytest.mark.integration
AS_OF = datetime(2026, 11, 22).date()
DURING_OUTAGE = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 11:00 local on the outage day


@pytest.fixture
def rig(
    migrated: Engine, tmp_path: Path
) -> Iterator[tuple[HallQueue, AlphaSignSimulator, BoardDriver]]:
    seed_city(migrated, premises=0, as_of=AS_OF)
    queue = HallQueue(migrated, "hall-xicheng", clock=lambda: DURING_OUTAGE)
    simulator = AlphaSignSimulator(tmp_path)
    # A pty carries 8N1; no reopen backoff, so a replugged board is usable at the next call.
    connection = SerialBoardConnection(simulator.path, bytesize=8, parity="N", min_backoff_s=0)
    board = AlphaBoard(connection, width=240)
    yield queue, simulator, BoardDriver(board)
    board.close()
    simulator.close()


def test_outage_notice_is_shown_as_priority_and_dropped_when_closed(
    rig: tuple[HallQueue, AlphaSignSimulator, BoardDriver], migrated: Engine
) -> None:
    queue, simulator, driver = rig
    with Session(migrated) as session:
        title_zh = session.scalars(select(Outage.title_zh)).one()
    content = board_content(hall_state(queue, migrated, DURING_OUTAGE), DURING_OUTAGE)
    # 11:00 local falls in a Chinese turn of the notice rotation (epoch seconds // 6 is even).
    assert content.priority == Message(f"停水通知：{title_zh} 09:00-17:00", colour="amber")
    assert driver.apply(content)
    shown = simulator.state.priority
    assert shown is not None and shown.message.startswith(b"\x1c3\x14p")  # amber, drawn
    assert {dot for row in simulator.frame() for dot in row} == {"0", "3"}
    with Session(migrated) as session:
        session.execute(
            update(Outage).values(status=OutageStatus.RESTORED, restored_at=DURING_OUTAGE)
        )
        session.commit()
    content = board_content(hall_state(queue, migrated, DURING_OUTAGE), DURING_OUTAGE)
    assert content.priority is None
    assert driver.apply(content)
    assert simulator.state.priority is None


def test_far_away_outage_is_not_shown(
    rig: tuple[HallQueue, AlphaSignSimulator, BoardDriver], migrated: Engine
) -> None:
    queue, _, _ = rig
    assert hall_state(queue, migrated, DURING_OUTAGE, notice_radius_m=3000).notices
    with Session(migrated) as session:
        outage = session.scalars(select(Outage)).one()
        outage.area_geojson = '{"type":"Polygon","coordinates":[[[116.9,40.3],[116.95,40.3],[116.95,40.35],[116.9,40.3]]]}'
        session.commit()
    assert hall_state(queue, migrated, DURING_OUTAGE).notices == []


def test_a_call_reaches_the_board_and_is_announced(
    rig: tuple[HallQueue, AlphaSignSimulator, BoardDriver], migrated: Engine
) -> None:
    queue, simulator, driver = rig
    queue.take_ticket("payment")
    queue.sign_in(1, "S001", DEMO_STAFF_PIN)
    queue.call_next(1)
    spoken: list[str] = []
    loop = DisplayLoop(
        lambda now: board_content(hall_state(queue, migrated, now), now),
        [driver],
        lambda: DURING_OUTAGE + timedelta(seconds=1),
        on_voice=spoken.append,
    )
    loop.tick()
    loop.tick()
    assert spoken == ["请 A001 号到 1 号窗口"]  # once, not on every tick
    assert simulator.state.priority is not None and simulator.state.priority.mode == "c"  # flashing


def test_board_faults_are_survived_and_recovered(
    rig: tuple[HallQueue, AlphaSignSimulator, BoardDriver], migrated: Engine
) -> None:
    queue, simulator, driver = rig
    content = board_content(hall_state(queue, migrated, DURING_OUTAGE), DURING_OUTAGE)
    simulator.unplug()
    assert driver.apply(content) is False and driver.last_error
    simulator.replug()
    assert driver.apply(content) is True and driver.last_error is None
    assert simulator.state.priority is not None  # everything was sent again after the replug
    assert len(simulator.state.sequence) == min(6, len(content.rotation))  # driver shows 6
