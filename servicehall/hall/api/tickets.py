"""Tickets: kiosks take them and rate visits; anyone on the LAN may follow one."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from servicehall.hall.api.auth import Kiosk, Parts
from servicehall.hall.api.convert import ticket_out
from servicehall.hall.api.errors import error_responses
from servicehall.hall.api.schemas import RatingIn, TakeTicketIn, TicketOut

router = APIRouter(prefix="/tickets", tags=["tickets"])


@router.post("", status_code=201, responses=error_responses(401, 403, 404, 409, 413, 422))
def take_ticket(body: TakeTicketIn, parts: Parts, _device: Kiosk) -> TicketOut:
    reason = body.priority_reason.value if body.priority_reason else None
    view = parts.queue.take_ticket(
        body.category,
        priority_reason=reason,
        appointment_code=body.appointment_code,
        vip_card=body.vip_card,
    )
    return ticket_out(view)


@router.get("/{ticket_id}", responses=error_responses(404, 422))
def ticket_status(ticket_id: uuid.UUID, parts: Parts) -> TicketOut:
    return ticket_out(parts.queue.ticket(ticket_id))


@router.post(
    "/{ticket_id}/rating",
    status_code=204,
    responses=error_responses(401, 403, 404, 409, 413, 422),
)
def rate(ticket_id: uuid.UUID, body: RatingIn, parts: Parts, _device: Kiosk) -> None:
    parts.queue.rate(ticket_id, body.score)
