"""Receipt templates: what a queue ticket, a payment receipt and a fault report say.

Pure data — no bytes, no printer. Chinese first, English second. Card numbers appear only
masked (BIN + last four), customers' names only masked (王伟 → 王*). Rules span the paper:
32 columns of font A on 58 mm paper, 48 on 80 mm (the default).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime


class PaperWidth(enum.IntEnum):
    """Paper roll width in mm; ``columns`` is how many font-A (12-dot) characters fit."""

    MM58 = 58
    MM80 = 80

    @property
    def columns(self) -> int:
        return {PaperWidth.MM58: 32, PaperWidth.MM80: 48}[self]


# PCI DSS 3.4.1: at most the BIN (first six) and the last four digits may be shown.
_MASKED_PAN = re.compile(r"\d{6}\*{3,9}\d{4}")


def mask_name(name: str) -> str:
    """The customer's name as a receipt shows it: the first character, the rest starred.

    王伟 → 王*, 欧阳娜娜 → 欧***, Wang Wei → W*** ***; spaces stay so the shape is kept.
    """
    name = name.strip()
    return name[:1] + "".join(" " if char.isspace() else "*" for char in name[1:])


class Align(enum.StrEnum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class Line:
    text: str
    align: Align = Align.LEFT
    bold: bool = False
    size: int = 1  # 1 normal, 2 double width and height, up to 8


@dataclass(frozen=True)
class Receipt:
    kind: str
    lines: tuple[Line, ...]
    qr: str | None = None
    footer: tuple[Line, ...] = field(default_factory=tuple)


def _rule(paper: PaperWidth) -> Line:
    return Line("-" * paper.columns)


def _when(moment: datetime) -> Line:
    return Line(f"时间 Time: {moment:%Y-%m-%d %H:%M}")


@dataclass(frozen=True)
class TicketInfo:
    number: str  # A023
    category_zh: str
    category_en: str
    people_ahead: int
    estimated_wait_min: int
    hall_zh: str
    hall_en: str
    issued_at: datetime  # local time of the hall
    track_url: str  # given by the caller: the hall serves /t/<ticket id>


def queue_ticket(info: TicketInfo, *, paper: PaperWidth = PaperWidth.MM80) -> Receipt:
    """``info.track_url`` is the QR code: the hall's page for this ticket (``/t/<ticket id>``)."""
    return Receipt(
        kind="ticket",
        lines=(
            Line(info.hall_zh, Align.CENTER, bold=True),
            Line(info.hall_en, Align.CENTER),
            _rule(paper),
            Line(f"{info.category_zh} {info.category_en}", Align.CENTER),
            Line(info.number, Align.CENTER, bold=True, size=4),
            Line(f"您前面还有 {info.people_ahead} 人", Align.CENTER, bold=True),
            Line(f"{info.people_ahead} people ahead of you", Align.CENTER),
            Line(
                f"预计等候约 {info.estimated_wait_min} 分钟 / about {info.estimated_wait_min} min",
                Align.CENTER,
            ),
            _rule(paper),
            _when(info.issued_at),
        ),
        qr=info.track_url,
        footer=(
            Line("请留意叫号，过号请重新取号", Align.CENTER),
            Line("If you miss your number, take a new ticket", Align.CENTER),
        ),
    )


@dataclass(frozen=True)
class PaymentInfo:
    account_no: str
    customer_name: str
    period: str  # 2026-10
    amount: str  # already formatted: ¥123.45
    card_masked: str  # 622202******1234
    reference: str
    hall_zh: str
    hall_en: str
    paid_at: datetime
    verify_url: str


def payment_receipt(info: PaymentInfo, *, paper: PaperWidth = PaperWidth.MM80) -> Receipt:
    """The customer's name is masked here, whatever the caller passes."""
    if not _MASKED_PAN.fullmatch(info.card_masked):
        raise ValueError(
            "a payment receipt takes a masked card number only: BIN (6 digits), stars, last four"
        )
    return Receipt(
        kind="payment",
        lines=(
            Line(info.hall_zh, Align.CENTER, bold=True),
            Line("缴费凭证 Payment receipt", Align.CENTER, bold=True),
            _rule(paper),
            Line(f"户号 Account: {info.account_no}"),
            Line(f"户名 Name: {mask_name(info.customer_name)}"),
            Line(f"账期 Period: {info.period}"),
            Line(f"金额 Amount: {info.amount}", bold=True, size=2),
            Line(f"银行卡 Card: {info.card_masked}"),
            Line(f"流水号 Ref: {info.reference}"),
            _when(info.paid_at),
            _rule(paper),
        ),
        qr=info.verify_url,
        footer=(Line("请妥善保管本凭证 Please keep this receipt", Align.CENTER),),
    )


@dataclass(frozen=True)
class FaultReportInfo:
    reference: str
    category_zh: str
    category_en: str
    address: str
    hall_zh: str
    reported_at: datetime
    track_url: str


def fault_report_receipt(info: FaultReportInfo, *, paper: PaperWidth = PaperWidth.MM80) -> Receipt:
    return Receipt(
        kind="fault_report",
        lines=(
            Line(info.hall_zh, Align.CENTER, bold=True),
            Line("报修回执 Fault report", Align.CENTER, bold=True),
            _rule(paper),
            Line(f"单号 Ref: {info.reference}", bold=True, size=2),
            Line(f"类别 Type: {info.category_zh} {info.category_en}"),
            Line(f"地址 Address: {info.address}"),
            _when(info.reported_at),
            _rule(paper),
        ),
        qr=info.track_url,
        footer=(
            Line("扫码查看处理进度", Align.CENTER),
            Line("Scan to follow the repair", Align.CENTER),
        ),
    )


def test_page(now: datetime, *, paper: PaperWidth = PaperWidth.MM80) -> Receipt:
    return Receipt(
        kind="test",
        lines=(
            Line("打印测试 Printer test", Align.CENTER, bold=True, size=2),
            _rule(paper),
            Line("中文：请 A023 号到 3 号窗口"),
            Line("English: A023 to counter 3"),
            Line("金额 ¥1,234.56  水量 12.345 m³"),
            _when(now),
        ),
        qr="https://servicehall.invalid/printer-test",
    )
