"""Central's API (``/api/v1``). Each resource gets its router here as its issue lands:
``sync`` (halls push and pull), ``work_orders`` (intake and dispatch), ``callers`` (来电弹屏),
``console`` (the dispatcher's page: sign-in, base map, live state, KPIs)."""

from __future__ import annotations

from fastapi import APIRouter

from servicehall.central.api import callers, console, sync, work_orders

API_PREFIX = "/api/v1"


def central_api() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (sync, work_orders, callers, console):
        router.include_router(module.router)
    return router
