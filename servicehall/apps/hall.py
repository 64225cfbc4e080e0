"""The hall process: the hall database and the link to central; later the queue and the board."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine

from servicehall.apps.common import make_app
from servicehall.health import HealthBoard

log = logging.getLogger(__name__)

CENTRAL_PROBE_INTERVAL_S = 10.0


def create_hall_app(engine: Engine, health: HealthBoard, central_url: str) -> FastAPI:
    app = make_app("servicehall hall", engine, health)
    health.set("central", "connecting", central_url)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_watch_central(central_url, health))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.router.lifespan_context = lifespan
    return app


async def _watch_central(central_url: str, health: HealthBoard) -> None:
    """The hall works offline; this only tells people whether central is reachable now."""
    async with httpx.AsyncClient(timeout=3.0) as client:
        while True:
            try:
                response = await client.get(f"{central_url}/health")
                response.raise_for_status()
                health.set("central", "connected", central_url)
            except httpx.HTTPError as err:
                health.set("central", "disconnected", f"{central_url}: {type(err).__name__}")
            await asyncio.sleep(CENTRAL_PROBE_INTERVAL_S)
