"""The fault proxy on real loopback sockets: a threaded HTTP server behind it, httpx in front."""

from __future__ import annotations

import json
import random
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from sync.faultproxy import FAILURES, Fault, FaultProxy, random_fault

pytestmark = pytest.mark.unit

# About 10 KB, so the response spans more than one read and a cut can fall inside the body.
ANSWER = json.dumps(
    {"applied": True, "rows": [{"seq": i, "note": "row applied at central"} for i in range(240)]}
).encode()
SHORT_TIMEOUT = 0.5


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive, as central's uvicorn does, so httpx pools them.
    protocol_version = "HTTP/1.1"
    server: _Central

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.record(body)
        if self.path == "/slow":
            self.server.arrived.set()
            self.server.release.wait(5)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Central(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.bodies: list[bytes] = []
        self.arrived = threading.Event()
        self.release = threading.Event()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def record(self, body: bytes) -> None:
        with self.lock:
            self.bodies.append(body)

    def seen(self) -> list[bytes]:
        with self.lock:
            return list(self.bodies)

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        # The proxy resets and truncates on purpose; the broken pipes that follow are expected.
        if isinstance(sys.exception(), ConnectionError):
            return
        super().handle_error(request, client_address)


def _eventually(condition: Callable[[], bool], within: float = 2.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@pytest.fixture
def central() -> Iterator[_Central]:
    server = _Central()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(2)


@pytest.fixture
def proxy(central: _Central) -> Iterator[FaultProxy]:
    with FaultProxy("127.0.0.1", central.port, seed=1) as started:
        yield started


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    # trust_env=False: an http_proxy in the environment must not sit between us and loopback.
    with httpx.Client(timeout=2.0, trust_env=False) as http:
        yield http


def _assert_passes_again(proxy: FaultProxy, client: httpx.Client, central: _Central) -> None:
    proxy.set_mode(Fault.PASS)
    response = client.post(proxy.url + "/", content=b"after")
    assert response.status_code == 200
    assert response.content == ANSWER
    assert central.seen()[-1] == b"after"


def test_pass_forwards_both_ways_and_keeps_the_connection(
    proxy: FaultProxy, client: httpx.Client, central: _Central
) -> None:
    for n in range(2):
        response = client.post(proxy.url + "/", content=f"batch-{n}".encode())
        assert response.status_code == 200
        assert response.content == ANSWER
    assert central.seen() == [b"batch-0", b"batch-1"]
    stats = proxy.stats()
    assert stats.connections == 1  # the second request rode the pooled connection
    assert stats.hits[Fault.PASS] == 1
    assert stats.bytes_up > len(b"batch-0batch-1")
    # The proxy counts a send after it returns, by which time httpx may already have the bytes.
    _eventually(lambda: proxy.bytes_down > 2 * len(ANSWER))


def test_drop_never_reaches_central(
    proxy: FaultProxy, client: httpx.Client, central: _Central
) -> None:
    proxy.set_mode(Fault.DROP)
    with pytest.raises(httpx.TransportError):
        client.post(proxy.url + "/", content=b"dropped")
    assert central.seen() == []
    assert proxy.hits[Fault.DROP] >= 1
    _assert_passes_again(proxy, client, central)
    assert central.seen() == [b"after"]


def test_stall_times_the_client_out_without_reaching_central(
    proxy: FaultProxy, client: httpx.Client, central: _Central
) -> None:
    proxy.set_mode(Fault.STALL)
    with pytest.raises(httpx.ReadTimeout):
        client.post(proxy.url + "/", content=b"stalled", timeout=SHORT_TIMEOUT)
    assert central.seen() == []
    assert proxy.bytes_up == 0
    _assert_passes_again(proxy, client, central)
    assert central.seen() == [b"after"]


def test_reset_after_central_applied_the_request(
    proxy: FaultProxy, client: httpx.Client, central: _Central
) -> None:
    proxy.set_mode(Fault.RESET)
    with pytest.raises(httpx.TransportError):
        client.post(proxy.url + "/", content=b"applied-not-acked")
    # The reset only goes out once central has answered, so the request is already recorded.
    assert central.seen() == [b"applied-not-acked"]
    assert proxy.bytes_down == 0
    _assert_passes_again(proxy, client, central)


def test_truncate_never_delivers_the_whole_answer(
    proxy: FaultProxy, client: httpx.Client, central: _Central
) -> None:
    proxy.set_mode(Fault.TRUNCATE)
    try:
        response = client.post(proxy.url + "/", content=b"truncated")
    except httpx.TransportError:
        pass
    else:
        assert len(response.content) < len(ANSWER)
    assert central.seen() == [b"truncated"]
    assert 1 <= proxy.bytes_down < len(ANSWER)
    _assert_passes_again(proxy, client, central)


def test_truncate_inside_the_body_is_an_incomplete_message(
    proxy: FaultProxy, client: httpx.Client, central: _Central
) -> None:
    proxy.set_mode(Fault.TRUNCATE, truncate_at=1000)  # past the headers, inside the JSON
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(proxy.url + "/", content=b"cut-in-body")
    assert central.seen() == [b"cut-in-body"]
    assert proxy.bytes_down == 1000


def test_blackhole_response_times_out_after_central_applied(
    proxy: FaultProxy, client: httpx.Client, central: _Central
) -> None:
    proxy.set_mode(Fault.BLACKHOLE_RESPONSE)
    with pytest.raises(httpx.ReadTimeout):
        client.post(proxy.url + "/", content=b"unanswered", timeout=SHORT_TIMEOUT)
    _eventually(lambda: central.seen() == [b"unanswered"])
    assert proxy.bytes_down == 0
    _assert_passes_again(proxy, client, central)


def test_a_fault_applies_to_a_pooled_connection(
    proxy: FaultProxy, client: httpx.Client, central: _Central
) -> None:
    assert client.post(proxy.url + "/", content=b"first").content == ANSWER
    proxy.set_mode(Fault.RESET)
    with pytest.raises(httpx.TransportError):
        client.post(proxy.url + "/", content=b"second")
    stats = proxy.stats()
    assert stats.connections == 1  # the reset hit the keep-alive connection, not a new one
    assert stats.hits[Fault.RESET] == 1
    assert central.seen() == [b"first", b"second"]


def test_cut_all_breaks_a_request_in_flight(
    proxy: FaultProxy, client: httpx.Client, central: _Central
) -> None:
    failures: list[BaseException] = []

    def post() -> None:
        try:
            client.post(proxy.url + "/slow", content=b"slow", timeout=5.0)
        except httpx.HTTPError as error:
            failures.append(error)

    poster = threading.Thread(target=post)
    poster.start()
    assert central.arrived.wait(2)
    assert proxy.cut_all() == 1
    poster.join(2)
    assert not poster.is_alive()
    assert len(failures) == 1
    assert isinstance(failures[0], httpx.TransportError)
    assert proxy.mode is Fault.PASS
    assert proxy.stats().cuts == 1
    central.release.set()
    _assert_passes_again(proxy, client, central)


def test_stop_returns_promptly_with_a_stalled_connection_open(
    proxy: FaultProxy, client: httpx.Client
) -> None:
    proxy.set_mode(Fault.STALL)
    failures: list[BaseException] = []

    def post() -> None:
        try:
            client.post(proxy.url + "/", content=b"stalled", timeout=5.0)
        except httpx.HTTPError as error:
            failures.append(error)

    poster = threading.Thread(target=post)
    poster.start()
    _eventually(lambda: proxy.stats().open_connections == 1)
    stopper = threading.Thread(target=proxy.stop)
    stopper.start()
    stopper.join(2)
    assert not stopper.is_alive()
    # Closing the held connection ends the client's wait long before its 5 s timeout.
    poster.join(2)
    assert not poster.is_alive()
    assert len(failures) == 1
    assert isinstance(failures[0], httpx.TransportError)
    assert not isinstance(failures[0], httpx.TimeoutException)
    assert proxy.stats().open_connections == 0


def test_an_unreachable_target_looks_like_a_dead_link(client: httpx.Client) -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        dead_port = placeholder.getsockname()[1]
    with FaultProxy("127.0.0.1", dead_port) as proxy, pytest.raises(httpx.TransportError):
        client.post(proxy.url + "/", content=b"nobody home")


def test_lifecycle_is_idempotent() -> None:
    proxy = FaultProxy("127.0.0.1", 9)
    with pytest.raises(RuntimeError):
        _ = proxy.port
    proxy.start()
    proxy.start()
    assert proxy.url == f"http://127.0.0.1:{proxy.port}"
    proxy.stop()
    proxy.stop()
    with pytest.raises(RuntimeError):
        proxy.start()
    # The port is closed once stopped.
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", proxy.port), timeout=1):
        pass


def test_set_mode_refuses_nonsense() -> None:
    proxy = FaultProxy("127.0.0.1", 9)
    with pytest.raises(ValueError):
        proxy.set_mode(Fault.RESET, truncate_at=10)
    with pytest.raises(ValueError):
        proxy.set_mode(Fault.TRUNCATE, truncate_at=0)
    proxy.set_mode(Fault.STALL)
    assert proxy.mode is Fault.STALL


def test_random_fault_is_a_repeatable_failure() -> None:
    draws = [random_fault(random.Random(7)) for _ in range(3)]
    assert len(set(draws)) == 1
    rng = random.Random(7)
    many = {random_fault(rng) for _ in range(200)}
    assert many == set(FAILURES)
    assert Fault.PASS not in many
    assert random_fault(rng, among=[Fault.RESET]) is Fault.RESET
    with pytest.raises(ValueError):
        random_fault(rng, among=[])
