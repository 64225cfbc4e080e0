"""The hall process's HTTP face: the hall API, the screen and counter pages, /health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from importlib import resources

import httpx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine

from servicehall.hall.api.errors import install_error_handlers
from servicehall.hall.api.kiosk import provider_router
from servicehall.hall.api.router import hall_api
from servicehall.hall.kiosk_pages import router as kiosk_pages
from servicehall.hall.parts import HallParts
from servicehall.platform.health import HealthBoard
from servicehall.platform.http import make_app

log = logging.getLogger(__name__)

CENTRAL_PROBE_INTERVAL_S = 10.0

__all__ = ["HallParts", "create_hall_app"]


def _page(name: str) -> str:
    return resources.files("servicehall.hall.web").joinpath(name).read_text(encoding="utf-8")


def create_hall_app(
    engine: Engine, health: HealthBoard, central_url: str, parts: HallParts
) -> FastAPI:
    app = make_app("servicehall hall", engine, health)
    app.state.parts = parts
    app.state.engine = engine  # /api/v1/display reads notices and announcements
    install_error_handlers(app)
    app.include_router(hall_api())
    app.include_router(kiosk_pages)  # /t, /p, /o: what a receipt's QR opens
    app.include_router(provider_router)  # /wallet/notify: the QR wallet provider's callback
    health.set("central", "connecting", central_url)

    @app.get("/screen", response_class=HTMLResponse, include_in_schema=False)
    def screen() -> str:
        return _page("screen.html")

    @app.get("/counter", response_class=HTMLResponse, include_in_schema=False)
    def counter() -> str:
        return _page("counter.html")

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        parts.live.broadcaster.bind(asyncio.get_running_loop())
        if parts.display:
            parts.display.start()
        task = asyncio.create_task(_watch_central(central_url, health))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            parts.live.broadcaster.bind(None)
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
