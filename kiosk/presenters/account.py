"""The account number on the keypad, or the customer card — then where the errand goes.

Anyone may see what the account number alone shows (masked name and address, what is
due); bills and payments need proof (``ProofPresenter``). A customer card is both: it names
the account and proves the holder, so it skips the proof screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.cards import CustomerCardSwipe, NotACustomerCard, Swipe
from kiosk.keypad import account_digits
from kiosk.presenters.base import Presenter
from kiosk.screens import Purpose, ScreenName
from kiosk.text import T
from servicehall.hall.api.kiosk_schemas import ProofMethod, VerifyIn
from servicehall.hall.client import HallApiError

NO_SUCH_ACCOUNT = T(
    "未找到户号 {no}，请核对后重新输入", "There is no account {no}; please check the number"
)


@dataclass(frozen=True)
class AccountView:
    purpose: Purpose
    title: T
    prefix: str
    digits: str
    complete: bool
    can_swipe: bool


TITLES = {
    Purpose.PAY: T("缴费：请输入户号", "Pay a bill: your account number"),
    Purpose.RECORDS: T("账单查询：请输入户号", "Bills: your account number"),
    Purpose.OUTAGES: T("停水查询：请输入户号", "Outages: your account number"),
    Purpose.REPORT: T("报修地址：请输入户号", "Where: your account number"),
}


class AccountPresenter(Presenter):
    screen = ScreenName.ACCOUNT
    prompt = T("请输入户号，或刷用户卡", "Type your account number, or swipe your customer card")
    wants_swipe = True

    def setup(self) -> None:
        self.buffer = account_digits()

    def forget(self) -> None:
        self.buffer.forget()

    def open(self, purpose: Purpose) -> None:
        self.customer.forget()
        self.customer.purpose = purpose
        self.buffer.forget()
        self.core.go(ScreenName.ACCOUNT)

    @property
    def account_no(self) -> str:
        return self.core.config.account_prefix + self.buffer.value

    def view(self) -> AccountView:
        purpose = self.customer.purpose or Purpose.PAY
        reader = self.core.devices.reader
        return AccountView(
            purpose=purpose,
            title=TITLES[purpose],
            prefix=self.core.config.account_prefix,
            digits=self.buffer.shown,
            complete=self.buffer.complete,
            can_swipe=reader is not None and reader.health.ok,
        )

    def key(self, key: str) -> None:
        self.buffer.press(key)

    def submit(self) -> None:
        """Look the account up (a tap: it asks the hall)."""
        if not self.buffer.complete:
            self.core.say(T("户号为 9 位数字", "An account number has 9 digits"))
            return
        if self._look_up(self.account_no):
            self.route()

    def _look_up(self, account_no: str) -> bool:
        try:
            self.customer.account = self.core.hall.account(account_no)
        except HallApiError as err:
            if err.status == 404:
                self.core.say(NO_SUCH_ACCOUNT.format(no=account_no))
                return False
            raise
        return True

    def on_swipe(self, swipe: Swipe) -> bool:
        if not isinstance(swipe, CustomerCardSwipe):
            self.core.say(T(NotACustomerCard.message_zh, NotACustomerCard.message_en))
            return True
        with self.working():
            self.core.guarded(lambda: self._with_card(swipe))
        return True

    def _with_card(self, swipe: CustomerCardSwipe) -> None:
        if not self._look_up(swipe.account_no):
            return
        proof = VerifyIn(method=ProofMethod.CUSTOMER_CARD, card_number=swipe.card_number)
        self.customer.session = self.core.hall.verify(swipe.account_no, proof).session
        self.route()

    def route(self) -> None:
        """The account is known: on to what the customer came for."""
        p = self.core.p
        account = self.account()
        purpose = self.customer.purpose
        if purpose is Purpose.PAY:
            self.core.go(ScreenName.BILL)
        elif purpose is Purpose.RECORDS:
            if self.customer.session:
                p.records.open()
            else:
                p.proof.open()
        elif purpose is Purpose.OUTAGES:
            p.outages.load(account_no=account.account_no)
        elif purpose is Purpose.REPORT:
            p.report.at_premises(account.account_no, account.address_masked)
        else:
            self.core.go(ScreenName.HOME)
