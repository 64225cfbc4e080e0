"""The public pages a receipt's QR opens: a ticket's live status, a payment, a work order.

Anyone holding the receipt may open them, so they show no personal data beyond what the
receipt itself prints: the holder as 王*, the account as XC*****0001, an address cut after
the street, never a phone number.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import datetime
from importlib import resources
from string import Template
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from domain.kiosk_errors import KioskError
from domain.queueing.errors import QueueError
from servicehall.hall.parts import HallParts

router = APIRouter(include_in_schema=False)

_TICKET = {
    "waiting": ("等候中", "Waiting"),
    "called": ("请到窗口", "Please go to the counter"),
    "serving": ("办理中", "Being served"),
    "done": ("已办结", "Done"),
    "no_show": ("已过号", "Missed"),
    "parked": ("暂挂", "On hold"),
    "cancelled": ("已取消", "Cancelled"),
}
_ORDER = {
    "new": ("已受理", "Received"),
    "dispatched": ("已派单", "Dispatched"),
    "accepted": ("已接单", "Accepted by a crew"),
    "en_route": ("抢修人员在途", "Crew on the way"),
    "on_site": ("抢修人员已到场", "Crew on site"),
    "resolved": ("已处理", "Resolved"),
    "closed": ("已办结", "Closed"),
    "cancelled": ("已取消", "Cancelled"),
}
_SAFE = re.compile(r"[A-Za-z0-9_-]{1,40}")
_NOT_FOUND = "<!doctype html><meta charset=utf-8><p>没有找到 · Not found</p>"


def _page(name: str, **values: object) -> str:
    text = resources.files("servicehall.hall.web").joinpath(name).read_text(encoding="utf-8")
    return Template(text).substitute({k: html.escape(str(v)) for k, v in values.items()})


def _parts(request: Request) -> HallParts:
    parts = request.app.state.parts
    assert isinstance(parts, HallParts)  # noqa: S101 - set by create_hall_app
    return parts


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


@router.get("/t/{ticket_id}", response_class=HTMLResponse)
def ticket_page(ticket_id: str, request: Request) -> HTMLResponse:
    parts = _parts(request)
    try:
        view = parts.queue.ticket(uuid.UUID(ticket_id))
    except (ValueError, QueueError):
        return HTMLResponse(_NOT_FOUND, status_code=404)
    zh, en = _TICKET.get(view.status, (view.status, view.status))
    ahead = f"前面还有 {view.people_ahead} 人 · {view.people_ahead} ahead of you"
    return HTMLResponse(
        _page(
            "ticket.html",
            number=view.number,
            status_zh=zh,
            status_en=en,
            ahead=ahead if view.status == "waiting" else "",
            ticket_id=view.ticket_id,
        )
    )


@router.get("/p/{receipt_no}", response_class=HTMLResponse)
def payment_page(receipt_no: str, request: Request) -> HTMLResponse:
    kiosk = _parts(request).kiosk
    if kiosk is None or not _SAFE.fullmatch(receipt_no):
        return HTMLResponse(_NOT_FOUND, status_code=404)
    try:
        view = kiosk.ledger.receipt(receipt_no)
    except KioskError:
        return HTMLResponse(_NOT_FOUND, status_code=404)
    method = f"银行卡 Bank card {view.card_masked}" if view.method == "bank_card" else "扫码支付 QR"
    state = (
        "已入账 Recorded"
        if view.ledger_net_fen == view.amount_fen
        else f"已冲正/退款 Reversed or refunded (净额 net ¥{view.ledger_net_fen / 100:.2f})"
    )
    return HTMLResponse(
        _page(
            "payment.html",
            amount=f"{view.amount_fen // 100}.{view.amount_fen % 100:02d}",
            receipt_no=view.receipt_no,
            account=view.account_masked,
            holder=view.holder_masked,
            method=method,
            paid_at=_local(view.paid_at, kiosk.site.timezone),
            periods="; ".join(f"{a} – {b}" for a, b in view.periods),
            state=state,
        )
    )


@router.get("/o/{order_no}", response_class=HTMLResponse)
def order_page(order_no: str, request: Request) -> HTMLResponse:
    kiosk = _parts(request).kiosk
    if kiosk is None or not _SAFE.fullmatch(order_no):
        return HTMLResponse(_NOT_FOUND, status_code=404)
    try:
        view = kiosk.intake.order(order_no)
    except KioskError:
        return HTMLResponse(_NOT_FOUND, status_code=404)
    zh, en = _ORDER.get(view.status, (view.status, view.status))
    kind_zh, kind_en = ("投诉", "Complaint") if view.kind == "complaint" else ("报修", "Repair")
    return HTMLResponse(
        _page(
            "order.html",
            status_zh=zh,
            status_en=en,
            order_no=view.order_no,
            kind_zh=kind_zh,
            kind_en=kind_en,
            category_zh=view.category_zh,
            category_en=view.category_en,
            place=view.place,
            created_at=_local(view.created_at, kiosk.site.timezone),
        )
    )
