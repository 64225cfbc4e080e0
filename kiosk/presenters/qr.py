"""Pay by QR: the hall makes an order for the amount; the kiosk draws its QR for the
customer's wallet app, asks the hall about the order every couple of seconds, and prints
the receipt once it is paid. One idempotency key per order attempt, as for cards."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass

from kiosk.presenters.base import Presenter
from kiosk.screens import ScreenName
from kiosk.text import T, yuan
from servicehall.hall.api.kiosk_schemas import QrOrderOut, QrOrderState, QrPaymentIn
from servicehall.hall.client import HallClientError, HallUnreachable
from servicehall.hall.kiosk_client import new_idempotency_key

log = logging.getLogger(__name__)

POLL_S = 2.0
PLAUSIBLE_LIFE_S = 30 * 60  # a longer life than this means the two clocks disagree


@dataclass(frozen=True)
class QrView:
    amount: str
    qr: str | None
    state: QrOrderState
    seconds_left: int | None  # None: the kiosk's and the hall's clocks disagree; no countdown
    words: T
    can_retry: bool


WORDS = {
    QrOrderState.PENDING: T(
        "请用微信、支付宝或银行 App 扫码支付", "Scan with WeChat, Alipay or your bank's app to pay"
    ),
    QrOrderState.EXPIRED: T("二维码已过期，请重新生成", "The QR code has expired; make a new one"),
    QrOrderState.FAILED: T(
        "支付未成功，未扣款", "The payment did not go through; nothing was taken"
    ),
    QrOrderState.PAID: T("支付成功", "Paid"),
}


class QrPresenter(Presenter):
    screen = ScreenName.QR
    prompt = WORDS[QrOrderState.PENDING]

    def setup(self) -> None:
        self._order: QrOrderOut | None = None
        self._period = ""
        self._deadline: float | None = None  # monotonic

    def forget(self) -> None:
        self.setup()

    def open(self) -> None:
        bill_ids, amount, period = self.core.p.bill.due()
        if amount <= 0:
            self.core.say(T("没有需要缴纳的费用", "There is nothing to pay"))
            return
        order = self.core.hall.start_qr_payment(
            QrPaymentIn(
                idempotency_key=new_idempotency_key(),
                account_no=self.account().account_no,
                bill_ids=[uuid.UUID(b) for b in bill_ids],
                amount_fen=amount,
            )
        )
        self._order, self._period = order, period
        # The countdown runs on the kiosk's monotonic clock from the order's life as the
        # hall gave it, unless the wall clocks plainly disagree (then the hall alone says
        # when the order has expired).
        life = (order.expires_at - self.core.clock()).total_seconds()
        self._deadline = self.core.monotonic() + life if 0 < life <= PLAUSIBLE_LIFE_S else None
        self.core.go(ScreenName.QR)
        self.core.screen_task("qr-poll", self._poll_loop)

    def _poll_loop(self, cancel: threading.Event) -> None:
        while not cancel.wait(POLL_S):
            if not self.poll_once():
                return

    def poll_once(self) -> bool:
        """Ask the hall about the order; False when there is nothing more to wait for."""
        order = self._order
        if order is None or order.state is not QrOrderState.PENDING:
            return False
        try:
            order = self.core.hall.qr_order(order.order_id)
        except HallUnreachable as err:
            log.warning("QR order %s: %s; asking again", order.order_id, err)
            return True  # the order lives at the hall; its answer will come
        except HallClientError as err:
            log.warning("QR order %s: %s", order.order_id, err)
            return True
        self._order = order
        if order.state is QrOrderState.PAID and order.payment is not None:
            self.core.p.paid.show(order.payment, self._period)
            return False
        self.core.changed()
        return order.state is QrOrderState.PENDING

    def view(self) -> QrView:
        order = self._order
        if order is None:
            return QrView("", None, QrOrderState.EXPIRED, 0, WORDS[QrOrderState.EXPIRED], True)
        left = None
        if self._deadline is not None:
            left = max(0, int(self._deadline - self.core.monotonic()))
        state = order.state
        if state is QrOrderState.PENDING and left == 0:
            state = QrOrderState.EXPIRED
        return QrView(
            amount=yuan(order.amount_fen),
            qr=order.qr_content if state is QrOrderState.PENDING else None,
            state=state,
            seconds_left=left,
            words=WORDS[state],
            can_retry=state in (QrOrderState.EXPIRED, QrOrderState.FAILED),
        )

    def retry(self) -> None:
        self.open()

    def cancel(self) -> None:
        self._order = None
        self.core.go(ScreenName.BILL)
