"""Serve one or more ASGI apps on one event loop; stop all of them cleanly on SIGTERM / Ctrl-C.

Three things here matter to kiosks, counters and screens on a hall's LAN:

- **Latency.** The listening sockets are made with ``IPPROTO_TCP``: asyncio sets
  ``TCP_NODELAY`` only on sockets whose protocol says TCP, and without it every response
  after the first on a kept-alive connection waited ~40 ms for the client's delayed ACK
  (Nagle's algorithm; ``bench/http_latency.py`` shows it).
- **Stopping.** On a signal the apps' long-lived streams are ended first (``shutdown``),
  then uvicorn stops; ordinary requests get ``GRACE_S`` to finish.
- **Hostile bytes.** The h11 protocol answers an oversized head with 431/414 and a
  malformed one with 400 in the sites' error shape (``protocol``); bodies are checked by
  the apps' middleware (``limits``).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import logging
import signal
import socket
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from servicehall.errors import ServiceUnreachable
from servicehall.platform.protocol import MAX_HEAD_BYTES, HttpProtocol
from servicehall.platform.shutdown import begin_shutdown

log = logging.getLogger(__name__)

GRACE_S = 5  # how long an ordinary request still in flight may take once stopping begins


@dataclass
class Endpoint:
    name: str
    app: FastAPI
    host: str
    port: int
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to the runner, which stops every server together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket; ``IPPROTO_TCP`` so that accepted connections get TCP_NODELAY."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise ServiceUnreachable(f"cannot listen on {host}:{port}: {err.strerror}") from err
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def base_url(endpoint: Endpoint, sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"{endpoint.scheme}://{f'[{host}]' if ':' in host else host}:{port}"


def _config(endpoint: Endpoint) -> uvicorn.Config:
    return uvicorn.Config(
        endpoint.app,
        log_level="warning",
        lifespan="on",
        access_log=False,
        http=HttpProtocol,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        timeout_graceful_shutdown=GRACE_S,
        ssl_certfile=str(endpoint.tls_cert) if endpoint.tls_cert else None,
        ssl_keyfile=str(endpoint.tls_key) if endpoint.tls_key else None,
    )


def serve(
    endpoints: Sequence[Endpoint],
    *,
    minutes: float | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve until a signal arrives, or for ``minutes`` when given. Returns after a clean stop.

    The process is expected to exit soon after: its last garbage collections are skipped
    (``_spare_final_collections``).
    """
    _spare_final_collections()
    asyncio.run(_serve_until_signal(endpoints, minutes, announce))


def _spare_final_collections() -> None:
    """At exit, leave what is still alive to the OS instead of the cyclic garbage collector.

    The interpreter's final collections over every module's objects took 1.3-1.7 s on this
    machine, most of the hall's stop time after SIGTERM; frozen, they take none. Everything
    that must outlive the process (databases, logs) is closed explicitly before exit.
    """
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


async def _serve_until_signal(
    endpoints: Sequence[Endpoint], minutes: float | None, announce: Callable[[str], None]
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await run(endpoints, stop, minutes=minutes, announce=announce)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def run(
    endpoints: Sequence[Endpoint],
    stop: asyncio.Event,
    *,
    minutes: float | None = None,
    announce: Callable[[str], None] = print,
    sockets: Sequence[socket.socket] | None = None,
) -> None:
    """Serve until ``stop`` is set (or ``minutes`` pass); then end streams and stop together.

    ``sockets``, when given, are listening sockets made elsewhere (one per endpoint).
    """
    sockets = list(sockets) if sockets is not None else [bind(e.host, e.port) for e in endpoints]
    servers = [_QuietServer(_config(e)) for e in endpoints]
    tasks = [
        asyncio.create_task(s.serve(sockets=[sock]))
        for s, sock in zip(servers, sockets, strict=True)
    ]
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            await _stop(endpoints, servers, tasks)
            failed = [e.name for e, s in zip(endpoints, servers, strict=True) if not s.started]
            raise ServiceUnreachable(f"{', '.join(failed)} did not start (see the log above)")
        await asyncio.sleep(0.05)
    for endpoint, sock in zip(endpoints, sockets, strict=True):
        base = base_url(endpoint, sock)
        announce(f"{endpoint.name} listening on {base}  (health: {base}/health)")
    try:
        await asyncio.wait_for(stop.wait(), timeout=minutes * 60 if minutes else None)
    except TimeoutError:
        log.info("stopping after %s minute(s) as asked", minutes)
    await _stop(endpoints, servers, tasks)


async def _stop(
    endpoints: Sequence[Endpoint],
    servers: Sequence[uvicorn.Server],
    tasks: Sequence[asyncio.Task[None]],
) -> None:
    # Streams first: uvicorn would otherwise wait for screens that never hang up.
    for endpoint in endpoints:
        begin_shutdown(endpoint.app)
    for server in servers:
        server.should_exit = True
    await asyncio.gather(*tasks)


@contextlib.contextmanager
def serving(
    endpoints: Sequence[Endpoint], *, sockets: Sequence[socket.socket] | None = None
) -> Iterator[list[str]]:
    """Serve on a background thread for the ``with`` block; yields each endpoint's base URL.

    For tests and benches: the same servers, protocol and shutdown as ``serve``, without
    taking over the process's signals.
    """
    sockets = list(sockets) if sockets is not None else [bind(e.host, e.port) for e in endpoints]
    urls = [base_url(e, sock) for e, sock in zip(endpoints, sockets, strict=True)]
    started = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    failure: list[BaseException] = []

    def announce(_line: str) -> None:
        started.set()  # called once per endpoint, after all of them have started

    def main() -> None:
        try:
            loop.run_until_complete(run(endpoints, stop, announce=announce, sockets=sockets))
        except BaseException as err:  # reported to the caller, never lost in the thread
            failure.append(err)
            started.set()
        finally:
            loop.close()

    thread = threading.Thread(target=main, name="servicehall-serving", daemon=True)
    thread.start()
    started.wait()
    if failure:
        thread.join()
        raise failure[0]
    try:
        yield urls
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join()
        if failure:
            raise failure[0]
