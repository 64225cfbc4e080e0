"""SIGTERM stops the hall promptly while screens and counters hold the live stream open."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.test_cli import _start, run

pytestmark = pytest.mark.e2e

# Generous: the target (2 s) is measured and reported, not asserted (no timed asserts).
DEADLINE_S = 10.0
CHUNKED_END = b"\r\n0\r\n\r\n"  # the last chunk of a chunked body: the stream ended, not cut


def _open_stream(host: str, port: int) -> tuple[socket.socket, bytes]:
    """A screen's view of ``/api/v1/stream``: connected and past its first event."""
    sock = socket.create_connection((host, port), timeout=DEADLINE_S)
    sock.sendall(
        f"GET /api/v1/stream HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    received = b""
    while b"event: queue" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"the stream closed before its first event: {received!r}"
        received += chunk
    assert received.startswith(b"HTTP/1.1 200 ")
    assert b"transfer-encoding: chunked" in received.lower()
    return sock, received


def _rest(sock: socket.socket) -> bytes:
    """Everything the server still sends until it closes the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_sigterm_ends_open_streams_and_exits_cleanly(tmp_path: Path) -> None:
    env = {
        "SERVICEHALL_PATHS__DATA_DIR": str(tmp_path),
        "SERVICEHALL_HALL__CENTRAL_URL": "http://127.0.0.1:1",
        "SERVICEHALL_HALL__LED_BOARD": "",
        "SERVICEHALL_HALL__VOICE": "false",
    }
    assert run("seed", "--site", "hall-xicheng", "--premises", "0", env=env).returncode == 0
    process, url = _start(["hall", "--site", "hall-xicheng", "--port", "0"], env)
    where = urlsplit(url)
    assert where.hostname and where.port
    streams = [_open_stream(where.hostname, where.port) for _ in range(3)]
    try:
        began = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(DEADLINE_S)
        took = time.monotonic() - began
        whole = [first + _rest(sock) for sock, first in streams]
    finally:
        for sock, _first in streams:
            sock.close()
        if process.poll() is None:
            process.kill()
    print(f"hall stopped {took:.2f} s after SIGTERM with 3 live streams open")
    assert code == 0
    for received in whole:
        assert received.endswith(CHUNKED_END), received[-200:]
