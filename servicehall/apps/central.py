"""The central process: the central database, the MQTT link; later the dispatch engine and sync."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from servicehall.apps.common import make_app
from servicehall.health import HealthBoard


def create_central_app(engine: Engine, health: HealthBoard) -> FastAPI:
    return make_app("servicehall central", engine, health)
