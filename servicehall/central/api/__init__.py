"""Central's API (``/api/v1``). Each resource gets its router here as its issue lands:
``sync`` (halls push and pull), ``work_orders`` (intake and dispatch), ``console`` (the
dispatcher's page and its live feed). Until then central serves ``/health`` only."""

from __future__ import annotations

from fastapi import APIRouter

API_PREFIX = "/api/v1"


def central_api() -> APIRouter:
    return APIRouter(prefix=API_PREFIX)
