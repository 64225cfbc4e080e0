"""The runner on real sockets: TCP_NODELAY, refusals below the app, streams that end on stop."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from servicedb.engine import make_engine
from servicehall.platform.health import HealthBoard
from servicehall.platform.http import make_app
from servicehall.platform.protocol import MAX_HEAD_BYTES
from servicehall.platform.runner import Endpoint, bind, serving
from servicehall.platform.shutdown import shutdown_signal

pytestmark = pytest.mark.integration

ERROR_FIELDS = {"code", "message_zh", "message_en", "detail"}


class Probe:
    """What the test app's routes saw, for the test to check after the fact."""

    def __init__(self) -> None:
        self.stream_closed = threading.Event()
        self.slow_started = threading.Event()


def _app(tmp_path: Path, probe: Probe) -> FastAPI:
    engine = make_engine(f"sqlite:///{tmp_path / 'site.db'}")
    app = make_app("test site", engine, HealthBoard("test", "test"))

    async def ticks() -> AsyncIterator[str]:
        try:
            yield "event: hello\ndata: {}\n\n"
            while True:
                await asyncio.sleep(3600)
                yield ": keep-alive\n\n"
        finally:
            probe.stream_closed.set()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(ticks(), media_type="text/event-stream")

    @app.get("/slow")
    async def slow(request: Request) -> dict[str, str]:
        # In flight when stopping begins, and answered only after: it must still be answered.
        probe.slow_started.set()
        await shutdown_signal(request.app).wait()
        return {"finished": "yes"}

    return app


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def site(tmp_path: Path, probe: Probe) -> Iterator[tuple[str, int]]:
    endpoint = Endpoint("test", _app(tmp_path, probe), "127.0.0.1", 0)
    with serving([endpoint]) as urls:
        where = urlsplit(urls[0])
        assert where.hostname and where.port
        yield where.hostname, where.port


def _server_side_of(client: socket.socket) -> socket.socket:
    """The accepted socket whose peer is ``client``, found among this process's descriptors."""
    wanted = client.getsockname()
    for name in os.listdir("/proc/self/fd"):
        try:
            candidate = socket.socket(fileno=os.dup(int(name)))
        except OSError:
            continue  # not a socket
        with contextlib.suppress(OSError):
            if candidate.getpeername() == wanted:
                return candidate
        candidate.close()
    raise AssertionError(f"no accepted socket has the peer {wanted}")


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")
def test_accepted_connections_have_tcp_nodelay(site: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*site, timeout=10)
    try:
        for _ in range(2):  # the second request rides the kept-alive connection
            connection.request("GET", "/health")
            response = connection.getresponse()
            assert response.status == 200
            response.read()
        assert connection.sock is not None
        server_side = _server_side_of(connection.sock)
        with server_side:
            assert server_side.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        connection.close()


def test_listening_socket_says_tcp() -> None:
    with bind("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP


def _exchange(where: tuple[str, int], request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes; read the answer until the server closes the connection."""
    with socket.create_connection(where, timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: "
            + b"a" * (MAX_HEAD_BYTES + 1)
            + b"\r\n\r\n",
            431,
            "HeadersTooLarge",
        ),
        (
            b"GET /health HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-Many-%d: v\r\n" % n for n in range(2000))
            + b"\r\n",
            431,
            "HeadersTooLarge",
        ),
        (
            b"GET /" + b"a" * (MAX_HEAD_BYTES + 1) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            414,
            "UriTooLong",
        ),
        # Still arriving when the limit is passed: refused without waiting for the rest.
        (
            b"GET /health HTTP/1.1\r\nX-Filler: " + b"a" * (MAX_HEAD_BYTES + 1),
            431,
            "HeadersTooLarge",
        ),
        (b"GET /" + b"a" * (MAX_HEAD_BYTES + 1), 414, "UriTooLong"),
        (b"HELLO\r\n\r\n", 400, "BadRequest"),
        (b"GET /h\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "BadRequest"),
        (b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n", 400, "BadRequest"),
        (
            b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            400,
            "BadRequest",
        ),
    ],
    ids=[
        "huge-header",
        "many-headers",
        "huge-uri",
        "unfinished-huge-header",
        "unfinished-huge-uri",
        "garbage",
        "non-ascii-path",
        "bad-name",
        "two-lengths",
    ],
)
def test_malformed_or_oversized_heads_get_an_answer(
    site: tuple[str, int], request_bytes: bytes, status: int, code: str
) -> None:
    got, headers, body = _exchange(site, request_bytes)
    assert got == status
    assert headers["connection"] == "close"
    error = json.loads(body)
    assert set(error) == ERROR_FIELDS and error["code"] == code
    assert error["message_zh"] and error["message_en"]


def test_a_head_just_within_the_limit_is_served(site: tuple[str, int]) -> None:
    filler = b"a" * (MAX_HEAD_BYTES - 200)
    got, _, body = _exchange(
        site,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Filler: "
        + filler
        + b"\r\n\r\n",
    )
    assert got == 200 and json.loads(body)["site"] == "test"


def test_stopping_ends_open_streams_and_lets_requests_finish(tmp_path: Path, probe: Probe) -> None:
    endpoint = Endpoint("test", _app(tmp_path, probe), "127.0.0.1", 0)
    slow_answer: list[bytes] = []
    with serving([endpoint]) as urls:
        where = urlsplit(urls[0])
        assert where.hostname and where.port
        stream = socket.create_connection((where.hostname, where.port), timeout=10)
        stream.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while b"event: hello" not in received:
            received += stream.recv(65536)

        def ask_slowly() -> None:
            assert where.hostname and where.port
            slow_answer.append(
                _exchange(
                    (where.hostname, where.port),
                    b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                )[2]
            )

        asker = threading.Thread(target=ask_slowly)
        asker.start()
        assert probe.slow_started.wait(10)
    # Leaving the block stopped the server: the stream ended properly, its generator closed.
    with stream:
        while chunk := stream.recv(65536):
            received += chunk
    asker.join(10)
    assert received.endswith(b"\r\n0\r\n\r\n")
    assert probe.stream_closed.is_set()
    assert slow_answer == [b'{"finished":"yes"}']
