"""The central process's HTTP face: /health, sync with the halls, the work-order and caller
API, the dispatcher console."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy import Engine

from servicehall.central.api import central_api
from servicehall.central.api.console import pages as console_pages
from servicehall.central.api.errors import install_error_handlers
from servicehall.central.parts import DispatchParts
from servicehall.platform.health import HealthBoard
from servicehall.platform.http import make_app
from sync.wire import MAX_BODY_BYTES


def create_central_app(
    engine: Engine, health: HealthBoard, dispatch: DispatchParts | None = None
) -> FastAPI:
    # A hall's sync batch (gzip, bounded by sync.wire) is the largest body central takes.
    app = make_app("servicehall central", engine, health, max_body_bytes=MAX_BODY_BYTES)
    install_error_handlers(app)
    app.include_router(central_api())
    app.include_router(console_pages)
    app.state.dispatch = dispatch

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The periodic dispatch job (adopt, SLA sweep, auto-dispatch) runs while central serves.
        if dispatch is not None:
            dispatch.start()
        try:
            yield
        finally:
            if dispatch is not None:
                dispatch.stop()

    app.router.lifespan_context = lifespan
    return app
