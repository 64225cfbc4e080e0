"""Bills of the last twelve months with a usage chart, the tiered price explained, payments
made, and what is still owed — shown only after proof of identity."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kiosk.presenters.base import Presenter
from kiosk.screens import ScreenName
from kiosk.text import T, cubic_metres, local, yuan
from servicehall.hall.api.kiosk_schemas import BillsOut, PaymentsOut, TierBand


class Tab(enum.StrEnum):
    BILLS = "bills"
    TIERS = "tiers"
    PAYMENTS = "payments"
    ARREARS = "arrears"


TABS = {
    Tab.BILLS: T("账单与用水", "Bills & usage"),
    Tab.TIERS: T("阶梯水价", "Tiered price"),
    Tab.PAYMENTS: T("缴费记录", "Payments"),
    Tab.ARREARS: T("欠费", "Arrears"),
}
KINDS = {
    "payment": T("缴费", "Payment"),
    "refund": T("退款", "Refund"),
    "reversal": T("冲正", "Reversal"),
}
METHODS = {"bank_card": T("银行卡", "Bank card"), "qr": T("扫码", "QR"), "cash": T("现金", "Cash")}


@dataclass(frozen=True)
class Bar:
    label: T  # 10月 / Oct
    value: str  # 12.3 m³
    share: float  # of the tallest bar, 0–1, for drawing only


@dataclass(frozen=True)
class Row:
    cells: tuple[str | T, ...]


@dataclass(frozen=True)
class RecordsView:
    tab: Tab
    tabs: tuple[tuple[Tab, T], ...]
    holder: str
    address: str
    heading: tuple[T, ...]
    rows: tuple[Row, ...]
    bars: tuple[Bar, ...]
    summary: T


MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class RecordsPresenter(Presenter):
    screen = ScreenName.RECORDS

    def setup(self) -> None:
        self.tab = Tab.BILLS
        self._bills: BillsOut | None = None
        self._payments: PaymentsOut | None = None

    def forget(self) -> None:
        self.setup()

    def open(self) -> None:
        session = self.customer.session
        if session is None:
            self.core.p.proof.open()
            return
        account_no = self.account().account_no
        self._bills = self.core.hall.bills(account_no, session, months=12)
        self._payments = self.core.hall.payments(account_no, session)
        self.tab = Tab.BILLS
        self.core.go(ScreenName.RECORDS)

    def show(self, tab: Tab) -> None:
        self.tab = tab

    def view(self) -> RecordsView:
        bills = self._bills
        if bills is None:
            raise RuntimeError("records are shown after open()")
        builders = {
            Tab.BILLS: self._bills_tab,
            Tab.TIERS: self._tiers_tab,
            Tab.PAYMENTS: self._payments_tab,
            Tab.ARREARS: self._arrears_tab,
        }
        heading, rows, bars, summary = builders[self.tab](bills)
        return RecordsView(
            self.tab,
            tuple(TABS.items()),
            bills.holder_name,
            bills.address,
            heading,
            rows,
            bars,
            summary,
        )

    def _bills_tab(
        self, bills: BillsOut
    ) -> tuple[tuple[T, ...], tuple[Row, ...], tuple[Bar, ...], T]:
        newest_first = bills.bills
        tallest = max((b.consumption_litres for b in newest_first), default=0) or 1
        bars = tuple(
            Bar(
                T(f"{b.period_start.month}月", MONTHS_EN[b.period_start.month - 1]),
                cubic_metres(b.consumption_litres),
                b.consumption_litres / tallest,
            )
            for b in reversed(newest_first)  # the chart reads left to right, oldest first
        )
        rows = tuple(
            Row(
                (
                    f"{b.period_start:%Y-%m}",
                    cubic_metres(b.consumption_litres),
                    yuan(b.amount_fen),
                    T("已缴清", "Paid")
                    if b.paid_fen >= b.amount_fen
                    else T(
                        f"欠 {yuan(b.amount_fen - b.paid_fen)}",
                        f"Owes {yuan(b.amount_fen - b.paid_fen)}",
                    ),
                )
            )
            for b in newest_first
        )
        total = sum(b.consumption_litres for b in newest_first)
        summary = T(
            f"近 {len(newest_first)} 个月共用水 {cubic_metres(total)}",
            f"{cubic_metres(total)} used in the last {len(newest_first)} months",
        )
        return (
            (T("账期", "Period"), T("用水量", "Usage"), T("金额", "Amount"), T("状态", "Status")),
            rows,
            bars,
            summary,
        )

    def _tiers_tab(
        self, bills: BillsOut
    ) -> tuple[tuple[T, ...], tuple[Row, ...], tuple[Bar, ...], T]:
        per = T("每年", "a year") if bills.tier_period == "annual" else T("每月", "a month")
        rows: list[Row] = []
        lower = 0
        for band in bills.tiers:
            rows.append(
                Row(
                    (
                        T(f"第 {band.tier} 阶梯", f"Tier {band.tier}"),
                        _band(lower, band),
                        T(
                            f"{yuan(band.price_fen_per_m3)}/m³",
                            f"{yuan(band.price_fen_per_m3)} per m³",
                        ),
                    )
                )
            )
            lower = band.upper_litres or lower
        summary = T(
            f"{per.zh}用水越多，超出部分单价越高。本期已用 {cubic_metres(bills.used_this_period_litres)}，处于第 {bills.current_tier} 阶梯。",
            f"The more water used {per.en}, the higher the price of what is above each step. Used so far: {cubic_metres(bills.used_this_period_litres)}, in tier {bills.current_tier}.",
        )
        return (
            (T("阶梯", "Tier"), T("用水量", "Usage"), T("单价", "Price")),
            tuple(rows),
            (),
            summary,
        )

    def _payments_tab(
        self, bills: BillsOut
    ) -> tuple[tuple[T, ...], tuple[Row, ...], tuple[Bar, ...], T]:
        payments = self._payments.payments if self._payments else []
        rows = tuple(
            Row(
                (
                    f"{local(p.paid_at):%Y-%m-%d %H:%M}",
                    yuan(p.amount_fen),
                    METHODS.get(p.method, T(p.method, p.method)),
                    KINDS.get(p.kind, T(p.kind, p.kind)),
                )
            )
            for p in payments
        )
        summary = (
            T(f"共 {len(rows)} 笔", f"{len(rows)} payments")
            if rows
            else T("暂无缴费记录", "No payments yet")
        )
        return (
            (T("时间", "When"), T("金额", "Amount"), T("方式", "Method"), T("类型", "Kind")),
            rows,
            (),
            summary,
        )

    def _arrears_tab(
        self, bills: BillsOut
    ) -> tuple[tuple[T, ...], tuple[Row, ...], tuple[Bar, ...], T]:
        owing = [b for b in bills.bills if b.amount_fen > b.paid_fen]
        rows = tuple(
            Row(
                (
                    f"{b.period_start:%Y-%m}",
                    yuan(b.amount_fen - b.paid_fen),
                    f"{b.due_date:%Y-%m-%d}",
                )
            )
            for b in owing
        )
        summary = (
            T(
                f"共欠费 {yuan(bills.due_fen)}，可在首页“缴费”中缴纳",
                f"{yuan(bills.due_fen)} owed in all; pay it under “Pay a bill”",
            )
            if bills.due_fen > 0
            else T("没有欠费", "Nothing owed")
        )
        return (T("账期", "Period"), T("欠费", "Owed"), T("缴费期限", "Due by")), rows, (), summary


def _band(lower_litres: int, band: TierBand) -> T:
    low = cubic_metres(lower_litres).removesuffix(" m³")
    if band.upper_litres is None:
        return T(f"{low} m³ 以上", f"above {low} m³")
    high = cubic_metres(band.upper_litres).removesuffix(" m³")
    return T(f"{low}–{high} m³", f"{low}–{high} m³")
