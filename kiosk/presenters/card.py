"""Pay by bank card: swipe, PIN on the PIN pad, the bank, the hall's ledger, the receipt.

The money rules live in ``kiosk.payments.card``; this presenter runs one attempt at a time
and says what is happening. The attempt (and its idempotency key) is made when the screen
opens; a second swipe while one is at the bank is ignored; after a decline "try again" makes
a new attempt; "back" before any card reached the bank abandons the attempt (nothing sent).
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from devices.acquirer.client import Approved, Declined, Unavailable
from devices.cardreader.card import CardSummary, SwipedCard
from devices.cardreader.errors import NotABankCard
from devices.errors import DeviceError
from devices.pinpad.pinblock import pan_field_digits
from devices.pinpad.pinpad import PinEntryFailed, PinPrompt
from kiosk.cards import BankSwipe, Swipe
from kiosk.payments.card import Recorded, Refused, StillRecording
from kiosk.ports import Payer
from kiosk.presenters.base import Presenter
from kiosk.screens import ScreenName
from kiosk.text import T, yuan

log = logging.getLogger(__name__)


class Phase(enum.StrEnum):
    SWIPE = "swipe"
    PIN = "pin"
    BANK = "bank"
    RECORDING = "recording"
    FAILED = "failed"


WORDS = {
    Phase.SWIPE: T(
        "请刷银行卡（磁条朝下，匀速刷过）", "Swipe your bank card (stripe down, one smooth move)"
    ),
    Phase.PIN: T(
        "请在密码键盘上输入银行卡密码，按确认键",
        "Enter your card PIN on the PIN pad, then press Enter",
    ),
    Phase.BANK: T("正在与银行通信，请勿离开", "Talking to your bank — please wait"),
    Phase.RECORDING: T(
        "银行已确认，正在入账，请稍候", "Your bank approved; recording the payment…"
    ),
}


def pin_required(card: CardSummary) -> bool:
    """China UnionPay cards (BIN 62…) are verified by an online PIN at unattended kiosks;
    the other schemes' test cards in the simulator are not."""
    return card.bin.startswith("62")


@dataclass(frozen=True)
class CardView:
    amount: str
    phase: Phase
    words: T
    card: str | None  # masked, once read
    can_cancel: bool
    can_retry: bool


class CardPresenter(Presenter):
    screen = ScreenName.CARD
    prompt = WORDS[Phase.SWIPE]
    wants_swipe = True

    def setup(self) -> None:
        self.key: str | None = None
        self.phase = Phase.SWIPE
        self._failure: T | None = None
        self._card: str | None = None
        self._amount = 0
        self._period = ""

    @property
    def payer(self) -> Payer | None:
        payments = self.core.payments
        return payments.payer if payments is not None else None

    def forget(self) -> None:
        if self.money_in_flight():
            return  # the attempt finishes and shows its own result; nothing is dropped under it
        if self.key is not None and self.core.payments is not None:
            self.core.payments.abandon(self.key, "the customer left")
        self.setup()

    def money_in_flight(self) -> bool:
        return self.phase in (Phase.PIN, Phase.BANK, Phase.RECORDING)

    def open(self) -> None:
        """A new attempt with its own key (journalled), then wait for a card."""
        payments = self.core.payments
        if payments is None or not self.core.card_payment_possible():
            self.core.say(
                T(
                    "银行卡缴费暂不可用，请扫码缴费",
                    "Card payment is not available; please pay by QR code",
                )
            )
            return
        bill_ids, amount, period = self.core.p.bill.due()
        if amount <= 0:
            self.core.say(T("没有需要缴纳的费用", "There is nothing to pay"))
            return
        entry = payments.begin(self.account().account_no, bill_ids, amount, period)
        self.key, self._amount, self._period = entry.key, amount, period
        self.phase, self._failure, self._card = Phase.SWIPE, None, None
        self.core.go(ScreenName.CARD)

    def view(self) -> CardView:
        return CardView(
            amount=yuan(self._amount),
            phase=self.phase,
            words=self._failure
            if self.phase is Phase.FAILED and self._failure
            else WORDS.get(self.phase, WORDS[Phase.SWIPE]),
            card=self._card,
            can_cancel=self.phase in (Phase.SWIPE, Phase.FAILED),
            can_retry=self.phase is Phase.FAILED,
        )

    def cancel(self) -> None:
        if self.money_in_flight():
            return
        if self.key is not None and self.core.payments is not None:
            self.core.payments.abandon(self.key, "the customer went back")
        self.key = None
        self.core.go(ScreenName.BILL)

    def retry(self) -> None:
        if self.phase is Phase.FAILED:
            self.open()

    def on_swipe(self, swipe: Swipe) -> bool:
        if not isinstance(swipe, BankSwipe):
            self.core.say(T(NotABankCard.message_zh, NotABankCard.message_en))
            return True
        with self.core._lock:
            key = self.key
            if self.phase is not Phase.SWIPE or key is None:
                return False  # one card at a time: a swipe during the bank's answer means nothing
            # Claimed before the lock is let go: an idle reset now cannot abandon the attempt.
            self.phase = Phase.BANK
        with self.working():
            self._pay(key, swipe.card)
        return True

    # --- one payment ----------------------------------------------------------------------
    def _show(self, phase: Phase, failure: T | None = None) -> None:
        self.phase, self._failure = phase, failure
        self.core.changed()

    def _pay(self, key: str, card: SwipedCard) -> None:
        payments = self.core.payments
        assert payments is not None  # noqa: S101 - open() checked
        self._card = card.summary.masked_pan
        pin_block: bytes | None = None
        if pin_required(card.summary):
            pinpad = self.core.devices.pinpad
            if pinpad is None:
                self._show(Phase.SWIPE)
                self.core.say(
                    T(
                        "本机不能输入密码，请换一张卡或扫码缴费",
                        "This kiosk cannot take a PIN; use another card or pay by QR code",
                    )
                )
                return
            self._show(Phase.PIN)
            try:
                pin_block = pinpad.request_pin(
                    pan_field_digits(card.pan_for_payment()), PinPrompt(self._amount)
                )
            except PinEntryFailed as err:
                self._show(Phase.SWIPE)
                self.core.say(T(err.message_zh, err.message_en))
                return
            except DeviceError as err:
                log.warning("PIN pad: %s", err)
                self._show(Phase.SWIPE)
                self.core.say(
                    T(
                        "密码键盘故障，请扫码缴费",
                        "The PIN pad does not work; please pay by QR code",
                    )
                )
                return
        self._show(Phase.BANK)
        try:
            outcome = payments.authorise(key, card, pin_block)
        finally:
            card.forget()
        if isinstance(outcome, Declined | Unavailable):
            self._show(Phase.FAILED, T(outcome.message_zh, outcome.message_en))
            return
        assert isinstance(outcome, Approved)  # noqa: S101 - the third kind
        self._show(Phase.RECORDING)
        recorded = payments.record(key, wait_s=self.core.config.record_wait_s)
        if isinstance(recorded, Recorded):
            self.key = None
            self.phase = Phase.SWIPE
            self.core.p.paid.show(recorded.payment, self._period)
        elif isinstance(recorded, Refused):
            self._show(
                Phase.FAILED,
                T(
                    f"营业厅未能入账（{recorded.message_zh}），银行卡扣款将退回",
                    f"The hall could not record it ({recorded.message_en}); the charge will be returned",
                ),
            )
        else:
            assert isinstance(recorded, StillRecording)  # noqa: S101 - the third kind
            self.key = None
            self.phase = Phase.SWIPE
            self.core.p.paid.recording(recorded.key, self._amount, self._period)
