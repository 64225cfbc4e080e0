"""The hall's LED board and voice: which board, and the loop that keeps it showing the hall."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from devices.ledboard.board import AlphaBoard, open_alpha_board
from devices.ledboard.simulator import AlphaSignSimulator
from domain.queueing.engine import HallQueue
from hall_display.content import BoardContent, board_content
from hall_display.driver import BoardDriver, DisplayLoop
from hall_display.state import hall_state
from servicehall.config import Settings
from servicehall.hall.voice import Announcer
from servicehall.platform.health import HealthBoard

# Stored on the sign once; calls are composed from them (36 bytes instead of a bitmap).
CALL_PHRASES = ("请", "号到", "号窗口")


def open_board(
    settings: Settings, site: str
) -> tuple[AlphaBoard | None, AlphaSignSimulator | None]:
    """The hall's LED board: none, a simulator on a pty (the default), or a real serial port."""
    where = settings.hall.led_board
    if not where:
        return None, None
    simulator = None
    line = settings.hall.led_line
    if where == "simulated":
        simulator = AlphaSignSimulator(settings.paths.data_dir.expanduser().resolve() / site)
        where, line = simulator.path, "8N1"  # a pty carries 8N1 only
    board = open_alpha_board(
        where,
        line=line,
        width=settings.hall.led_width,
        phrases=CALL_PHRASES,
        expect_ack=settings.hall.led_ack,
        enable_ack=settings.hall.led_enable_ack,
    )
    return board, simulator


def display_loop(
    settings: Settings,
    queue: HallQueue,
    engine: Engine,
    board: AlphaBoard,
    health: HealthBoard,
    clock: Callable[[], datetime],
    voice_dir: Path | None,
) -> DisplayLoop:
    radius = settings.hall.notice_radius_m
    driver = BoardDriver(board)

    def compute(now: datetime) -> BoardContent:
        content = board_content(hall_state(queue, engine, now, notice_radius_m=radius), now)
        state = board.health
        health.set("led_board", state.state.value, state.reason)
        return content

    # Written to files (the demo) only for the first calls: a day has hundreds.
    announcer = Announcer(
        enabled=settings.hall.voice, out_dir=voice_dir, max_files=10 if voice_dir else None
    )
    return DisplayLoop(compute, [driver], clock, on_voice=announcer.announce)
