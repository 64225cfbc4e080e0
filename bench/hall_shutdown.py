"""From SIGTERM to exit of ``servicehall hall`` while screens and counters hold the live stream.

    .venv/bin/python bench/hall_shutdown.py [--streams N] [--runs R]

Each run starts a real hall process (SQLite, no board, central unreachable), opens N
``/api/v1/stream`` connections and waits for their first event, sends SIGTERM, and times
the exit; every stream must have ended properly (its last chunk received). Baseline, in the
same run: the same process stopped with no stream open. Reported: median and worst of each,
and their ratio.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CLI = [sys.executable, "-m", "servicehall"]


def _start(env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(  # noqa: S603 - our own command, our own arguments
        [*CLI, "hall", "--site", "hall-xicheng", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if found:
            return process, int(found.group(1))
    raise SystemExit("the hall did not come up")


def _open_stream(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(b"GET /api/v1/stream HTTP/1.1\r\nHost: hall\r\n\r\n")
    received = b""
    while b"event: queue" not in received:
        received += sock.recv(65536)
    return sock


def _stop_once(env: dict[str, str], streams: int) -> float:
    process, port = _start(env)
    socks = [_open_stream(port) for _ in range(streams)]
    started = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    code = process.wait(60)
    took = time.perf_counter() - started
    for sock in socks:
        rest = b""
        while chunk := sock.recv(65536):
            rest += chunk
        assert rest.endswith(b"0\r\n\r\n"), "a stream was cut instead of ended"
        sock.close()
    assert code == 0, f"exit code {code}"
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "SERVICEHALL_PATHS__DATA_DIR": folder,
            "SERVICEHALL_HALL__CENTRAL_URL": "http://127.0.0.1:1",
            "SERVICEHALL_HALL__LED_BOARD": "",
            "SERVICEHALL_HALL__VOICE": "false",
        }
        subprocess.run(  # noqa: S603 - our own command, our own arguments
            [*CLI, "seed", "--site", "hall-xicheng", "--premises", "0"],
            env=env,
            check=True,
            capture_output=True,
        )
        baseline = [_stop_once(env, 0) for _ in range(args.runs)]
        loaded = [_stop_once(env, args.streams) for _ in range(args.runs)]
    print(f"SIGTERM to exit of `servicehall hall`, {args.runs} runs each (s)")
    print(f"{'open streams':<16}{'median':>9}{'worst':>9}")
    for label, took in (("0 (baseline)", baseline), (str(args.streams), loaded)):
        print(f"{label:<16}{statistics.median(took):>9.2f}{max(took):>9.2f}")
    print(f"ratio of medians: {statistics.median(loaded) / statistics.median(baseline):.2f}")


if __name__ == "__main__":
    main()
