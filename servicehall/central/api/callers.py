"""来电弹屏: who is calling, in one request — for the call-centre agent's screen.

An agent logs an order from it with ``POST /work-orders`` (the account number and the
caller's number as the contact).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from servicehall.central.api import dispatch_schemas as s
from servicehall.central.api.dispatch_convert import caller_out
from servicehall.central.api.errors import error_responses
from servicehall.central.api.staff_auth import CallTaker, Parts

router = APIRouter(tags=["callers"], responses=error_responses(401, 403, 422))


@router.get("/callers")
def lookup(
    parts: Parts,
    _user: CallTaker,
    phone: Annotated[str, Query(min_length=1, max_length=32, description="As caller ID gives it")],
) -> s.CallerOut:
    """The customer(s) on this number, their accounts, recent bills and payments, open orders
    and outages at their premises. An unknown number answers ``known: false``, not 404."""
    return caller_out(parts.callers.lookup(phone))
