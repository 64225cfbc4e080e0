"""Live changes for screens (Server-Sent Events): worker threads publish, the event loop fans out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any


class Broadcaster:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queues: set[asyncio.Queue[str]] = set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @staticmethod
    def message(kind: str, data: dict[str, Any]) -> str:
        """One Server-Sent Event."""
        return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Safe from any thread; a slow screen drops old events rather than holding others up."""
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._fan_out, self.message(kind, data))

    def _fan_out(self, message: str) -> None:
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)

    async def stream(self, first: str | None = None) -> AsyncIterator[str]:
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
