"""Proof before bills are shown: a one-time code by SMS to the account's phone, or the
customer card. The code is typed on the keypad, sent once, and forgotten at once."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kiosk.cards import CustomerCardSwipe, NotACustomerCard, Swipe
from kiosk.keypad import sms_code
from kiosk.presenters.base import Presenter
from kiosk.screens import ScreenName
from kiosk.text import T
from servicehall.hall.api.kiosk_schemas import ProofMethod, VerifyIn


class ProofStep(enum.StrEnum):
    CHOOSE = "choose"
    CODE = "code"


@dataclass(frozen=True)
class ProofView:
    step: ProofStep
    account_no: str
    holder: str
    phone: str | None  # masked: where the code went (or would go)
    entry: str  # dots
    complete: bool
    can_sms: bool


class ProofPresenter(Presenter):
    screen = ScreenName.PROOF
    prompt = T("为保护您的信息，请验证身份", "To protect your details, please prove it is you")
    wants_swipe = True

    def setup(self) -> None:
        self.step = ProofStep.CHOOSE
        self.buffer = sms_code()
        self._phone: str | None = None

    def forget(self) -> None:
        self.buffer.forget()
        self.setup()

    def open(self) -> None:
        self.setup()
        self.core.go(ScreenName.PROOF)

    def view(self) -> ProofView:
        account = self.account()
        return ProofView(
            step=self.step,
            account_no=account.account_no,
            holder=account.holder_masked,
            phone=self._phone or account.phone_masked,
            entry=self.buffer.shown,
            complete=self.buffer.complete,
            can_sms=account.phone_masked is not None,
        )

    def send_code(self) -> None:
        sent = self.core.hall.request_code(self.account().account_no)
        self._phone = sent.phone_masked
        self.step = ProofStep.CODE
        self.buffer.forget()
        self.core.say(
            T(f"验证码已发送至 {sent.phone_masked}", f"A code was sent to {sent.phone_masked}")
        )

    def key(self, key: str) -> None:
        self.buffer.press(key)

    def submit(self) -> None:
        if not self.buffer.complete:
            self.core.say(T("验证码为 6 位数字", "The code has 6 digits"))
            return
        code, account = self.buffer.value, self.account()
        self.buffer.forget()  # sent once; never kept, whatever the answer
        proof = VerifyIn(method=ProofMethod.SMS, code=code)
        self.customer.session = self.core.hall.verify(account.account_no, proof).session
        self.core.p.records.open()

    def on_swipe(self, swipe: Swipe) -> bool:
        if not isinstance(swipe, CustomerCardSwipe):
            self.core.say(T(NotACustomerCard.message_zh, NotACustomerCard.message_en))
            return True
        account = self.account()
        if swipe.account_no != account.account_no:
            self.core.say(
                T("此用户卡不属于该户号", "This customer card belongs to another account")
            )
            return True
        with self.working():
            self.core.guarded(lambda: self._with_card(swipe))
        return True

    def _with_card(self, swipe: CustomerCardSwipe) -> None:
        proof = VerifyIn(method=ProofMethod.CUSTOMER_CARD, card_number=swipe.card_number)
        self.customer.session = self.core.hall.verify(swipe.account_no, proof).session
        self.core.p.records.open()
