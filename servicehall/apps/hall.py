"""The hall process: the queue and its API, the board and screen, the link to central."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources

import httpx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine

from devices.ledboard.simulator import AlphaSignSimulator
from domain.queueing.engine import HallQueue
from hall_display.driver import DisplayLoop
from servicehall.apps.common import make_app
from servicehall.device_tokens import TokenCheck
from servicehall.hall_api import hall_router, install_error_handler
from servicehall.health import HealthBoard
from servicehall.live import Broadcaster

log = logging.getLogger(__name__)

CENTRAL_PROBE_INTERVAL_S = 10.0


@dataclass
class HallParts:
    queue: HallQueue
    tokens: TokenCheck
    live: Broadcaster
    display: DisplayLoop | None = None
    board_simulator: AlphaSignSimulator | None = None


def _page(name: str) -> str:
    return resources.files("servicehall.web").joinpath(name).read_text(encoding="utf-8")


def create_hall_app(
    engine: Engine, health: HealthBoard, central_url: str, parts: HallParts
) -> FastAPI:
    app = make_app("servicehall hall", engine, health)
    install_error_handler(app)
    poke = parts.display.poke if parts.display else (lambda: None)
    app.include_router(hall_router(parts.queue, parts.tokens, parts.live, on_change=poke))
    health.set("central", "connecting", central_url)

    @app.get("/screen", response_class=HTMLResponse)
    def screen() -> str:
        return _page("screen.html")

    @app.get("/counter", response_class=HTMLResponse)
    def counter() -> str:
        return _page("counter.html")

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        parts.live.bind(asyncio.get_running_loop())
        if parts.display:
            parts.display.start()
        task = asyncio.create_task(_watch_central(central_url, health))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if parts.display:
                parts.display.stop()

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
