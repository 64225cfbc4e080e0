"""What is due on an account: the holder masked (王*), the address partly hidden, the bills."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.presenters.base import Presenter
from kiosk.receipts import period_text
from kiosk.screens import ScreenName
from kiosk.text import T, yuan

STATUS = {
    "active": T("正常", "Active"),
    "suspended": T("已停用", "Suspended"),
    "closed": T("已销户", "Closed"),
}


@dataclass(frozen=True)
class BillRow:
    period: str
    due: str
    due_date: str


@dataclass(frozen=True)
class BillView:
    account_no: str
    holder: str
    address: str
    status: T
    due: str
    bills: tuple[BillRow, ...]
    nothing_due: bool
    can_card: bool
    card_unavailable: T | None


class BillPresenter(Presenter):
    screen = ScreenName.BILL
    prompt = T(
        "请核对户名和金额，选择缴费方式", "Check the name and amount, then choose how to pay"
    )

    def view(self) -> BillView:
        account = self.account()
        can_card = self.core.card_payment_possible()
        return BillView(
            account_no=account.account_no,
            holder=account.holder_masked,
            address=account.address_masked,
            status=STATUS.get(account.status, T(account.status, account.status)),
            due=yuan(account.due_fen),
            bills=tuple(
                BillRow(
                    period_text([(b.period_start, b.period_end)]),
                    yuan(b.due_fen),
                    f"{b.due_date:%Y-%m-%d}",
                )
                for b in account.bills_due
                if b.due_fen > 0
            ),
            nothing_due=account.due_fen <= 0,
            can_card=can_card,
            card_unavailable=None
            if can_card
            else T(
                "银行卡缴费暂不可用，请扫码缴费",
                "Card payment is not available; please pay by QR code",
            ),
        )

    def due(self) -> tuple[list[str], int, str]:
        """The bills to pay, their total, and the period the receipt names."""
        account = self.account()
        bills = [b for b in account.bills_due if b.due_fen > 0]
        return (
            [str(b.bill_id) for b in bills],
            sum(b.due_fen for b in bills),
            period_text([(b.period_start, b.period_end) for b in bills]),
        )
