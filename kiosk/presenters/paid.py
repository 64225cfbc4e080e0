"""After a payment: the receipt on paper, or its QR on the screen (the payment stands either
way), and a reprint once the paper is back. When the bank approved but the hall has not
answered yet, the screen says so honestly and keeps asking the hall."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from devices.printer.receipts import Receipt
from kiosk.core import PrintResult
from kiosk.payments.card import Recorded, Refused
from kiosk.presenters.base import Presenter
from kiosk.receipts import payment_receipt_for
from kiosk.screens import ScreenName
from kiosk.text import T, yuan
from servicehall.hall.api.kiosk_schemas import PaymentMethod, PaymentOut

METHODS = {
    PaymentMethod.BANK_CARD: T("银行卡", "Bank card"),
    PaymentMethod.QR: T("扫码支付", "QR payment"),
}


@dataclass(frozen=True)
class PaidView:
    amount: str
    method: T
    receipt_no: str | None
    card: str | None
    words: T
    recording: bool
    printed: bool
    problem: T | None
    qr: str | None
    can_reprint: bool


class PaidPresenter(Presenter):
    screen = ScreenName.PAID
    prompt = T("缴费成功，请取走凭证", "Paid. Please take your receipt")

    def setup(self) -> None:
        self._payment: PaymentOut | None = None
        self._receipt: Receipt | None = None
        self._printed = PrintResult(False)
        self._pending: tuple[str, int, str] | None = None  # key, amount, period
        self._refused: T | None = None

    def forget(self) -> None:
        self.setup()

    def show(self, payment: PaymentOut, period: str) -> None:
        receipt = payment_receipt_for(
            payment, period, self.core.hall_name, paper=self.core.config.paper
        )
        self._payment, self._receipt, self._pending, self._refused = payment, receipt, None, None
        self._printed = self.core.print(receipt)
        self.core.go(ScreenName.PAID)

    def recording(self, key: str, amount_fen: int, period: str) -> None:
        """Approved by the bank, not yet answered by the hall: say so, and keep asking."""
        self._payment, self._receipt, self._refused = None, None, None
        self._pending = (key, amount_fen, period)
        self.core.go(ScreenName.PAID)
        self.core.screen_task("record", lambda cancel: self._keep_recording(key, period, cancel))

    def _keep_recording(self, key: str, period: str, cancel: threading.Event) -> None:
        payments = self.core.payments
        assert payments is not None  # noqa: S101 - only after a card payment
        while not cancel.is_set():
            outcome = payments.record(key, wait_s=self.core.config.record_wait_s)
            if cancel.is_set():
                return  # the customer left; the heartbeat's settle_pending carries on
            if isinstance(outcome, Recorded):
                self.show(outcome.payment, period)
                return
            if isinstance(outcome, Refused):
                self._refused = T(
                    f"营业厅未能入账（{outcome.message_zh}），银行卡扣款将退回",
                    f"The hall could not record it ({outcome.message_en}); the charge will be returned",
                )
                self._pending = None
                self.core.changed()
                return

    def reprint(self) -> None:
        if self._receipt is None or self._printed.printed:
            return
        self._printed = self.core.reprint(self._receipt, self._printed)

    def view(self) -> PaidView:
        payment = self._payment
        if payment is None:
            amount = yuan(self._pending[1]) if self._pending else ""
            words = self._refused or T(
                "银行已扣款，正在与营业厅确认入账，请勿重复缴费。确认后将打印凭证。",
                "Your bank has approved the payment. We are recording it with the hall — please do not pay again. The receipt prints once it is recorded.",
            )
            return PaidView(
                amount,
                METHODS[PaymentMethod.BANK_CARD],
                None,
                None,
                words,
                self._pending is not None,
                False,
                None,
                None,
                False,
            )
        printed = self._printed
        words = (
            T("缴费成功，请取走凭证", "Paid. Please take your receipt")
            if printed.printed
            else T(
                "缴费成功。凭证未能打印，请扫码保存电子凭证",
                "Paid. The receipt could not be printed: scan the QR code to keep it",
            )
        )
        return PaidView(
            amount=yuan(payment.amount_fen),
            method=METHODS.get(payment.method, T(payment.method, payment.method)),
            receipt_no=payment.receipt_no,
            card=payment.card_masked,
            words=words,
            recording=False,
            printed=printed.printed,
            problem=printed.problem,
            qr=payment.track_url,
            can_reprint=not printed.printed,
        )
