"""A card payment end to end against the acquirer simulator, minus the simulator's own delay.

    .venv/bin/python bench/card_payment.py [--payments N] [--delay-ms D]

Each payment is what the kiosk's hall does for one tap: parse the swipe (ISO 7813), journal
the attempt (fsync), send the 0200 over a fresh TCP connection, verify the 0210's MAC, journal
the approval (fsync) and confirm it (fsync). The simulator waits ``--delay-ms`` before every
answer, as a real acquirer thinks; that delay is subtracted. Target: p95 ≤ 1 s.

Baseline, measured in the same run: a bare TCP round trip of the same sizes to a server that
answers at once (connect, send ~110 bytes, read ~90 bytes, close) — the floor any design
pays. Reported: p50 and p95 of both and their ratio.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from devices.acquirer.client import Acquirer, Approved
from devices.acquirer.keys import DEMO_KEYS
from devices.acquirer.simulator import AcquirerSimulator
from devices.cardreader.protocol import parse_swipe
from devices.cardreader.simulator import VISA

TARGET_P95_S = 1.0
REQUEST_BYTES, ANSWER_BYTES = 112, 92  # a 0200 with track 2 and its 0210, framed


@dataclass(frozen=True)
class Figures:
    payments: int
    delay_s: float
    payment_s: list[float]  # each payment minus the simulator's delay
    round_trip_s: list[float]  # each bare TCP round trip
    charged_fen: int
    expected_fen: int


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(share * len(ordered)) - 1)]


def run(payments: int, delay_s: float, state_dir: Path) -> Figures:
    simulator = AcquirerSimulator(delay_s=delay_s)
    acquirer = Acquirer(
        simulator.host,
        simulator.port,
        terminal_id="BENCH001",
        merchant_id="898110048160001",
        keys=DEMO_KEYS,
        state_dir=state_dir,
        answer_timeout_s=delay_s + 10,
    )
    swipe = (VISA.track1() + VISA.track2()).encode("ascii")
    payment_s = []
    try:
        for number in range(payments):
            started = time.perf_counter()
            card = parse_swipe(swipe, today=date.today())
            outcome = acquirer.authorise(card, 100 + number, f"bench-{number}")
            card.forget()
            if not isinstance(outcome, Approved):
                raise RuntimeError(f"payment {number} was not approved: {outcome}")
            acquirer.confirm(outcome.idempotency_key)
            payment_s.append(time.perf_counter() - started - delay_s)
        charged = simulator.charged_fen()
    finally:
        simulator.close()
    return Figures(
        payments,
        delay_s,
        payment_s,
        bare_round_trips(payments),
        charged,
        sum(100 + n for n in range(payments)),
    )


def bare_round_trips(count: int) -> list[float]:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer() -> None:
        for _ in range(count):
            connection, _ = server.accept()
            with connection:
                received = 0
                while received < REQUEST_BYTES:
                    chunk = connection.recv(4096)
                    if not chunk:
                        break
                    received += len(chunk)
                connection.sendall(bytes(ANSWER_BYTES))

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port)) as connection:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection.sendall(bytes(REQUEST_BYTES))
            received = 0
            while received < ANSWER_BYTES:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                received += len(chunk)
        times.append(time.perf_counter() - started)
    thread.join(5)
    server.close()
    return times


def report(figures: Figures) -> str:
    pay50, pay95 = (percentile(figures.payment_s, q) for q in (0.5, 0.95))
    rtt50, rtt95 = (percentile(figures.round_trip_s, q) for q in (0.5, 0.95))
    verdict = "within" if pay95 <= TARGET_P95_S else "OVER"
    return "\n".join(
        [
            f"{figures.payments} card payments, simulator delay {figures.delay_s * 1000:.0f} ms (subtracted)",
            f"  payment end to end   p50 {pay50 * 1000:8.2f} ms   p95 {pay95 * 1000:8.2f} ms"
            f"   mean {statistics.fmean(figures.payment_s) * 1000:.2f} ms",
            f"  bare TCP round trip  p50 {rtt50 * 1000:8.2f} ms   p95 {rtt95 * 1000:8.2f} ms",
            f"  ratio payment / round trip   p50 {pay50 / rtt50:6.1f}×   p95 {pay95 / rtt95:6.1f}×",
            f"  p95 {verdict} the {TARGET_P95_S:g} s target; charged {figures.charged_fen} fen"
            f" of {figures.expected_fen} expected",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=200)
    parser.add_argument("--delay-ms", type=float, default=150.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        figures = run(args.payments, args.delay_ms / 1000, Path(folder))
    print(report(figures))


if __name__ == "__main__":
    main()
