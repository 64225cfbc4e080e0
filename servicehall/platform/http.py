"""What every servicehall HTTP app has: /health, request limits, streams that end on shutdown."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from servicehall import __version__
from servicehall.platform.database import probe_database
from servicehall.platform.health import HealthBoard
from servicehall.platform.limits import MAX_BODY_BYTES, RequestLimits
from servicehall.platform.shutdown import EndStreamsOnShutdown, shutdown_signal


def make_app(
    title: str, engine: Engine, health: HealthBoard, *, max_body_bytes: int = MAX_BODY_BYTES
) -> FastAPI:
    """The app a site adds its routes to.

    Bodies beyond ``max_body_bytes`` are refused with 413 and bodies that claim to be JSON
    but are not strict JSON with 422, both in the sites' error shape, before any route runs.
    Server-Sent Events responses end when the runner begins to stop.
    """
    app = FastAPI(title=title, version=__version__)
    # Added last = outermost: streams are ended around everything the app does.
    app.add_middleware(RequestLimits, max_body_bytes=max_body_bytes)
    app.add_middleware(EndStreamsOnShutdown, signal=shutdown_signal(app))

    @app.get("/health")
    def get_health() -> JSONResponse:
        probe_database(engine, health)
        body: dict[str, Any] = health.snapshot()
        body["version"] = __version__
        # 200 while the process can serve; a degraded link is reported, not fatal.
        return JSONResponse(body)

    return app
