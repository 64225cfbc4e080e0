"""What the kiosk prints, made from the hall's answers with ``devices.printer.receipts``.

Tickets, card-payment receipts and fault reports use the printer library's templates; a QR
payment and a complaint have no template there, so they are composed here in the same style
(hall name, title, rule, fields, QR, footer). Names come masked from the hall; card numbers
are BIN + last four; nothing a receipt prints is secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from devices.printer.receipts import (
    Align,
    FaultReportInfo,
    Line,
    PaperWidth,
    PaymentInfo,
    Receipt,
    TicketInfo,
    fault_report_receipt,
    mask_name,
    payment_receipt,
    queue_ticket,
)
from kiosk.text import T, local, yuan
from servicehall.hall.api.kiosk_schemas import PaymentOut, ReportKind, ReportOut
from servicehall.hall.api.schemas import TicketOut


@dataclass(frozen=True)
class HallName:
    zh: str
    en: str


def ticket_url(hall_url: str, ticket: TicketOut) -> str:
    """The ticket's live status page at the hall (what its QR opens)."""
    return f"{hall_url.rstrip('/')}/t/{ticket.ticket_id}"


def ticket_receipt(
    ticket: TicketOut, category: T, hall: HallName, hall_url: str, *, paper: PaperWidth
) -> Receipt:
    return queue_ticket(
        TicketInfo(
            number=ticket.number,
            category_zh=category.zh,
            category_en=category.en,
            people_ahead=ticket.people_ahead,
            estimated_wait_min=ticket.estimate_minutes or 0,
            hall_zh=hall.zh,
            hall_en=hall.en,
            issued_at=local(ticket.issued_at),
            track_url=ticket_url(hall_url, ticket),
        ),
        paper=paper,
    )


def period_text(periods: Sequence[tuple[date, date]]) -> str:
    """2026-10, or 2026-08 ~ 2026-10 for several bills."""
    if not periods:
        return "-"
    first = min(start for start, _ in periods)
    last = max(end for _, end in periods)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first:%Y-%m}"
    return f"{first:%Y-%m} ~ {last:%Y-%m}"


def payment_receipt_for(
    payment: PaymentOut, period: str, hall: HallName, *, paper: PaperWidth
) -> Receipt:
    if payment.card_masked:
        return payment_receipt(
            PaymentInfo(
                account_no=payment.account_no,
                customer_name=payment.holder_masked,
                period=period,
                amount=yuan(payment.amount_fen),
                card_masked=payment.card_masked,
                reference=payment.receipt_no,
                hall_zh=hall.zh,
                hall_en=hall.en,
                paid_at=local(payment.paid_at),
                verify_url=payment.track_url,
            ),
            paper=paper,
        )
    rule = Line("-" * paper.columns)
    return Receipt(
        kind="payment",
        lines=(
            Line(hall.zh, Align.CENTER, bold=True),
            Line("缴费凭证 Payment receipt", Align.CENTER, bold=True),
            rule,
            Line(f"户号 Account: {payment.account_no}"),
            Line(f"户名 Name: {mask_name(payment.holder_masked)}"),
            Line(f"账期 Period: {period}"),
            Line(f"金额 Amount: {yuan(payment.amount_fen)}", bold=True, size=2),
            Line("方式 Method: 扫码支付 QR payment"),
            Line(f"流水号 Ref: {payment.receipt_no}"),
            _when(local(payment.paid_at)),
            rule,
        ),
        qr=payment.track_url,
        footer=(Line("请妥善保管本凭证 Please keep this receipt", Align.CENTER),),
    )


def report_receipt(
    report: ReportOut, category: T, place: str, hall: HallName, *, paper: PaperWidth
) -> Receipt:
    if report.kind is ReportKind.REPAIR:
        return fault_report_receipt(
            FaultReportInfo(
                reference=report.order_no,
                category_zh=category.zh,
                category_en=category.en,
                address=place,
                hall_zh=hall.zh,
                reported_at=local(report.created_at),
                track_url=report.track_url,
            ),
            paper=paper,
        )
    rule = Line("-" * paper.columns)
    return Receipt(
        kind="complaint",
        lines=(
            Line(hall.zh, Align.CENTER, bold=True),
            Line("投诉回执 Complaint receipt", Align.CENTER, bold=True),
            rule,
            Line(f"单号 Ref: {report.order_no}", bold=True, size=2),
            Line(f"类别 Type: {category.zh} {category.en}"),
            Line(f"地址 Address: {place}"),
            _when(local(report.created_at)),
            rule,
        ),
        qr=report.track_url,
        footer=(
            Line("扫码查看处理进度", Align.CENTER),
            Line("Scan to follow your complaint", Align.CENTER),
        ),
    )


def _when(moment: datetime) -> Line:
    return Line(f"时间 Time: {moment:%Y-%m-%d %H:%M}")
