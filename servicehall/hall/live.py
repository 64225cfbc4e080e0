"""The live feed: committed hall events to screens and counters (Server-Sent Events).

Worker threads (the API's, the demo's) publish; the event loop fans out. Each event goes out
as it happened; the queue overview that follows is coalesced, so a burst of a hundred
tickets costs one overview, not a hundred.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import re
import threading
from collections.abc import AsyncGenerator, Callable
from typing import Any

from domain.bus import EventBus
from domain.events import CounterEvent, Event, TicketEvent
from domain.queueing.engine import HallQueue
from servicehall.hall.api.convert import queue_out

log = logging.getLogger(__name__)

OVERVIEW_DELAY_S = 0.05


def event_kind(event: Event) -> str:
    """``TicketCalled`` → ``ticket-called``: the SSE event name."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", type(event).__name__).lower()


class Broadcaster:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queues: set[asyncio.Queue[str]] = set()

    def bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._loop = loop

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop

    @staticmethod
    def message(kind: str, data: dict[str, Any]) -> str:
        """One Server-Sent Event."""
        return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Safe from any thread; a slow screen drops old events rather than holding others up."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._fan_out, self.message(kind, data))

    def _fan_out(self, message: str) -> None:
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)

    async def stream(self, first: str | None = None) -> AsyncGenerator[str, None]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=100)
        self._queues.add(queue)
        try:
            if first:
                yield first
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield ": keep-alive\n\n"  # proxies close idle connections
        finally:
            self._queues.discard(queue)


class LiveFeed:
    """Listens on the hall's event bus; tells screens, counters and other listeners."""

    def __init__(self, queue: HallQueue) -> None:
        self._queue = queue
        self.broadcaster = Broadcaster()
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._overview_due = False

    def listen(self, bus: EventBus) -> None:
        bus.subscribe(TicketEvent, self._on_event)
        bus.subscribe(CounterEvent, self._on_event)

    def on_change(self, listener: Callable[[], None]) -> None:
        """``listener()`` after every committed change (the board's poke)."""
        self._listeners.append(listener)

    def _on_event(self, event: Event) -> None:
        self.broadcaster.publish(event_kind(event), dataclasses.asdict(event))
        self._schedule_overview()
        for listener in self._listeners:
            listener()

    def _schedule_overview(self) -> None:
        loop = self.broadcaster.loop
        if loop is None or loop.is_closed():
            return
        with self._lock:
            if self._overview_due:
                return
            self._overview_due = True
        loop.call_soon_threadsafe(lambda: loop.create_task(self._send_overview()))

    async def _send_overview(self) -> None:
        await asyncio.sleep(OVERVIEW_DELAY_S)
        with self._lock:
            self._overview_due = False
        try:
            overview = await asyncio.to_thread(queue_out, self._queue)
        except Exception:
            log.exception("queue overview for the live feed failed")
            return
        self.broadcaster.publish("queue", overview.model_dump(mode="json"))
