"""From "next" pressed at a counter to the call's Alpha packet on the board's serial line.

    .venv/bin/python bench/call_to_board_latency.py [--calls N]

Baseline, measured in the same run: one Alpha packet written to the same pty and
acknowledged (the floor any design pays). Reported: median and 90th percentile of both and
their ratio. The board is the simulator on a real pty; the queue runs on SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from devices.ledboard import alpha
from devices.ledboard.board import AlphaBoard
from devices.ledboard.simulator import AlphaSignSimulator
from domain.queueing.engine import HallQueue
from hall_display.content import board_content
from hall_display.driver import BoardDriver, DisplayLoop
from hall_display.state import hall_state
from servicedb import migrate
from servicedb.engine import make_engine
from servicehall.demo.seed import seed_city
from servicehall.demo.seed.city import DEMO_STAFF_PIN

CALL_PHRASES = ("请", "号到", "号窗口")


def _p90(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.9) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'hall.db'}")
        migrate.upgrade(engine)
        seed_city(engine, premises=0)
        # 10:00 in the hall, whatever the time here: the hall issues tickets only when open.
        started_at = datetime.now(UTC)
        opened = started_at.replace(hour=2, minute=0)

        def hall_now() -> datetime:
            return opened + (datetime.now(UTC) - started_at)

        queue = HallQueue(engine, "hall-xicheng", clock=hall_now)
        queue.sign_in(1, "S001", DEMO_STAFF_PIN)
        simulator = AlphaSignSimulator(Path(folder))
        board = AlphaBoard(simulator.path, bytesize=8, parity="N", width=240, phrases=CALL_PHRASES)
        driver = BoardDriver(board)
        loop = DisplayLoop(
            lambda now: board_content(hall_state(queue, engine, now), now),
            [driver],
            hall_now,
            interval_s=0.5,
        )
        loop.tick()
        loop.start()

        latencies = []
        for _ in range(args.calls):
            queue.take_ticket("payment")
            shown_before = simulator.state.priority
            started = time.perf_counter()
            ticket = queue.call_next(1)
            assert ticket is not None
            loop.poke()
            # The call has arrived when the board's priority file is rewritten (its pictures
            # are written first, so at that moment the whole message is on the board).
            while simulator.state.priority is shown_before:
                time.sleep(0.0002)
            latencies.append(time.perf_counter() - started)
            queue.start(1)  # served: the next "next" finishes it
            time.sleep(0.3)
        loop.stop()

        floor = []
        for _ in range(args.calls):
            started = time.perf_counter()
            board._send(alpha.write_text("J", b"PING"))
            floor.append(time.perf_counter() - started)
        board.close()
        simulator.close()
        engine.dispose()

    ms = [x * 1000 for x in latencies]
    base = [x * 1000 for x in floor]
    print(f"calls measured: {len(ms)} (pty: no baud-rate limit)")
    print(f"call → board packet: median {statistics.median(ms):8.2f} ms   p90 {_p90(ms):8.2f} ms")
    print(
        f"baseline (one packet + ACK): median {statistics.median(base):8.3f} ms   p90 {_p90(base):8.3f} ms"
    )
    print(f"ratio (median): {statistics.median(ms) / statistics.median(base):.0f} x")
    # On a real sign line every byte costs 10 bit times (start + 7 data + parity + stop).
    drawn = _call_bytes("请 A023 号到 3 号窗口", width=240)
    composed = len(alpha.packet(alpha.write_priority_text(b"\x14Q A023 \x14R 3 \x14S")))
    print("bytes on the wire for one Chinese call, at 9600 baud 7E1 (10 bit times a byte):")
    print(f"  drawn as a bitmap each time: {drawn:6,} bytes  {drawn * 10 / 9600:6.2f} s")
    print(f"  stored phrases + sign font:  {composed:6,} bytes  {composed * 10 / 9600:6.2f} s")


def _call_bytes(text: str, *, width: int) -> int:
    from devices.ledboard.bitmap import render_rows, split_columns

    rows = render_rows(text, height=16)
    pictures = split_columns(rows, width)
    total = sum(
        len(alpha.packet(alpha.write_small_dots("p", alpha.Picture(tuple(p))))) for p in pictures
    )
    return total + len(alpha.packet(alpha.write_priority_text(b"\x14p" * len(pictures))))


if __name__ == "__main__":
    main()
