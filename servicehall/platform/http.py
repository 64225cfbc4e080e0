"""What every servicehall HTTP app has: /health and a JSON error shape."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from servicehall import __version__
from servicehall.platform.database import probe_database
from servicehall.platform.health import HealthBoard


def make_app(title: str, engine: Engine, health: HealthBoard) -> FastAPI:
    app = FastAPI(title=title, version=__version__)

    @app.get("/health")
    def get_health() -> JSONResponse:
        probe_database(engine, health)
        body: dict[str, Any] = health.snapshot()
        body["version"] = __version__
        # 200 while the process can serve; a degraded link is reported, not fatal.
        return JSONResponse(body)

    return app
