"""Ending live streams when the process stops, so SIGTERM is not held up by open screens.

uvicorn's graceful shutdown waits for every response to finish, and a Server-Sent Events
response (a hall screen, a counter terminal) never does. The runner calls
``begin_shutdown(app)`` before it tells uvicorn to exit; ``EndStreamsOnShutdown`` then
ends every ``text/event-stream`` response properly (the route's generator is cancelled, its
``finally`` runs, and the chunked body gets its last chunk), so the client sees the
stream end — and, being an ``EventSource``, reconnects once the process is back — while
ordinary requests still in flight are left to finish.

A route that wants to say goodbye itself (a last event before the end) can watch
``shutdown_signal(request.app).wait()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_STATE_KEY = "shutdown_signal"


class ShutdownSignal:
    """Set once, when the process begins to stop.

    Unlike an ``asyncio.Event`` it is bound to no event loop (an app may be served by one
    loop after another, as tests do) and ``begin`` may be called from any thread.
    """

    def __init__(self) -> None:
        self._begun = False
        self._waiters: set[asyncio.Future[None]] = set()
        self._lock = threading.Lock()

    def begin(self) -> None:
        with self._lock:
            self._begun = True
            waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            with contextlib.suppress(RuntimeError):  # its loop has closed: no one is waiting
                waiter.get_loop().call_soon_threadsafe(_wake, waiter)

    @property
    def begun(self) -> bool:
        return self._begun

    async def wait(self) -> None:
        with self._lock:
            if self._begun:
                return
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.add(waiter)
        try:
            await waiter
        finally:
            with self._lock:
                self._waiters.discard(waiter)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def shutdown_signal(app: Any) -> ShutdownSignal:
    """The app's signal (made on first use), kept in ``app.state``."""
    signal: ShutdownSignal | None = getattr(app.state, _STATE_KEY, None)
    if signal is None:
        signal = ShutdownSignal()
        setattr(app.state, _STATE_KEY, signal)
    return signal


def begin_shutdown(app: Any) -> None:
    """Tell the app's long-lived responses to end: the runner's first step when stopping."""
    shutdown_signal(app).begin()


def _is_event_stream(message: Message) -> bool:
    for name, value in message.get("headers", ()):
        if name.lower() == b"content-type":
            return bytes(value).split(b";")[0].strip().lower() == b"text/event-stream"
    return False


class EndStreamsOnShutdown:
    """ASGI middleware: when the signal is set, end ``text/event-stream`` responses cleanly."""

    def __init__(self, app: ASGIApp, *, signal: ShutdownSignal) -> None:
        self.app = app
        self.signal = signal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        streaming = asyncio.Event()
        finished = False

        async def watched_send(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.start" and _is_event_stream(message):
                streaming.set()
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True
            await send(message)

        async def stream_must_end() -> None:
            await streaming.wait()  # most responses are not streams: they never get further
            await self.signal.wait()

        response = asyncio.ensure_future(self.app(scope, receive, watched_send))
        ending = asyncio.ensure_future(stream_must_end())
        try:
            await asyncio.wait({response, ending}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            # uvicorn gave up waiting (its graceful timeout): take the response down with us.
            response.cancel()
            raise
        finally:
            ending.cancel()
        if response.done():
            response.result()  # the app's own outcome, errors included
            return
        response.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await response
        if not finished:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
