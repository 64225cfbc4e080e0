"""Serve one or more ASGI apps on one event loop; stop all of them cleanly on SIGTERM / Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from servicehall.errors import ServiceUnreachable

log = logging.getLogger(__name__)


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
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise ServiceUnreachable(f"cannot listen on {host}:{port}: {err.strerror}") from err
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(
    endpoints: Sequence[Endpoint],
    *,
    minutes: float | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve until a signal arrives, or for ``minutes`` when given. Returns after a clean stop."""
    asyncio.run(_serve(endpoints, minutes, announce))


async def _serve(
    endpoints: Sequence[Endpoint], minutes: float | None, announce: Callable[[str], None]
) -> None:
    sockets = [bind(e.host, e.port) for e in endpoints]
    servers = [
        _QuietServer(
            uvicorn.Config(
                e.app,
                log_level="warning",
                lifespan="on",
                access_log=False,
                ssl_certfile=str(e.tls_cert) if e.tls_cert else None,
                ssl_keyfile=str(e.tls_key) if e.tls_key else None,
            )
        )
        for e in endpoints
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [
        asyncio.create_task(s.serve(sockets=[sock]))
        for s, sock in zip(servers, sockets, strict=True)
    ]
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            break
        await asyncio.sleep(0.05)
    for endpoint, sock in zip(endpoints, sockets, strict=True):
        host, port = sock.getsockname()[:2]
        base = f"{endpoint.scheme}://{host}:{port}"
        announce(f"{endpoint.name} listening on {base}  (health: {base}/health)")
    try:
        await asyncio.wait_for(stop.wait(), timeout=minutes * 60 if minutes else None)
    except TimeoutError:
        log.info("stopping after %s minute(s) as asked", minutes)
    for server in servers:
        server.should_exit = True
    await asyncio.gather(*tasks)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(sig)
