"""The queue as a whole: what the hall screen and the board show."""

from __future__ import annotations

from fastapi import APIRouter

from servicehall.hall.api.auth import Parts
from servicehall.hall.api.convert import queue_out
from servicehall.hall.api.schemas import QueueOut

router = APIRouter(tags=["queue"])


@router.get("/queue")
def overview(parts: Parts) -> QueueOut:
    return queue_out(parts.queue)
