"""The central process's HTTP face: /health today; sync, work orders and the console next."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from servicehall.central.api import central_api
from servicehall.platform.health import HealthBoard
from servicehall.platform.http import make_app


def create_central_app(engine: Engine, health: HealthBoard) -> FastAPI:
    app = make_app("servicehall central", engine, health)
    app.include_router(central_api())
    return app
