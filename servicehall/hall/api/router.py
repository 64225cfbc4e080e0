"""All of the hall API's routers under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from servicehall.hall.api import counters, display, kiosk, queue, stream, tickets
from servicehall.hall.api.schemas import API_PREFIX


def hall_api() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (tickets, queue, counters, stream, display):
        router.include_router(module.router)
    router.include_router(kiosk.router)
    return router
