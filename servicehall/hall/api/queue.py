"""The queue as a whole: what the hall screen and the board show."""

from __future__ import annotations

from fastapi import APIRouter

from servicehall.hall.api.auth import Parts
from servicehall.hall.api.convert import layout_out, queue_out
from servicehall.hall.api.schemas import LayoutOut, QueueOut

router = APIRouter(tags=["queue"])


@router.get("/queue")
def overview(parts: Parts) -> QueueOut:
    return queue_out(parts.queue)


@router.get("/layout")
def layout(parts: Parts) -> LayoutOut:
    """The hall's services and counters (for sign-in choices and transfer targets)."""
    return layout_out(parts.queue)
