"""A card payment from the kiosk's side, exactly once (see ``devices.acquirer.client`` for
the acquirer's side).

The rules, each a test in tests/kiosk/test_card_payments.py:

- One idempotency key per attempt, made when the customer confirms the amount and kept
  through every retry of that attempt. The same key twice (a double tap, a retry after a
  timeout) is answered from the journals: the acquirer's and this one.
- The attempt is journalled before the acquirer sees the card; the approval is journalled
  before the hall is asked to record it.
- After an approval the kiosk keeps asking the hall to record the payment (same key, so the
  hall records it once) until the hall *answers*: recorded → ``confirm``; refused (a 4xx
  refusal) → ``reverse``, so the customer keeps the money. No answer, a 5xx, an unreadable
  answer: ask again — never reverse a payment the hall may have recorded.
- A customer does not wait for ever: after ``wait_s`` the screen says the payment is being
  recorded, and ``settle_pending`` (run by the kiosk's background loop) carries on.
- At start, ``recover`` finishes what a previous run left open, before the first new payment.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from devices.acquirer.client import Approved, Authorisation, PaymentCard, Recovered
from kiosk.payments.journal import KEEP_FINISHED, Entry, PaymentJournal, Step
from kiosk.ports import Hall, Payer
from servicehall.hall.api.kiosk_schemas import CardAuthorisation, CardPaymentIn, PaymentOut
from servicehall.hall.client import HallApiError, HallClientError
from servicehall.hall.kiosk_client import new_idempotency_key

log = logging.getLogger(__name__)

NO_AUTH_CODE = "000000"  # field 38 absent: the RRN identifies the transaction on its own


@dataclass(frozen=True)
class Recorded:
    payment: PaymentOut


@dataclass(frozen=True)
class Refused:
    """The hall refused to record it; the acquirer was told to give the money back."""

    message_zh: str
    message_en: str


@dataclass(frozen=True)
class StillRecording:
    """The hall has not answered yet; the kiosk keeps trying in the background."""

    key: str


RecordOutcome = Recorded | Refused | StillRecording


def refused_for_good(err: HallClientError) -> bool:
    """A 4xx is the hall's answer; anything else (unreachable, 5xx, garbage) is not."""
    return isinstance(err, HallApiError) and 400 <= err.status < 500


class CardPayments:
    def __init__(
        self,
        hall: Hall,
        payer: Payer,
        journal: PaymentJournal,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        pause: Callable[[float], bool] | None = None,
        first_retry_s: float = 0.25,
        max_retry_s: float = 5.0,
    ) -> None:
        """``pause(s)`` waits between tries and returns True when the kiosk is stopping."""
        self._hall = hall
        self._payer = payer
        self._journal = journal
        self._clock = clock
        self._stopping = threading.Event()
        self._pause = pause or self._stopping.wait
        self._first_retry_s = first_retry_s
        self._max_retry_s = max_retry_s
        self._keys = threading.Lock()
        self._recording: dict[str, threading.Lock] = {}

    @property
    def journal(self) -> PaymentJournal:
        return self._journal

    @property
    def payer(self) -> Payer:
        return self._payer

    def stop(self) -> None:
        self._stopping.set()

    # --- one attempt ------------------------------------------------------------------
    def begin(
        self, account_no: str, bill_ids: Sequence[str], amount_fen: int, period: str
    ) -> Entry:
        """A new attempt with its own key, journalled before any card is read."""
        if amount_fen <= 0:
            raise ValueError("nothing to pay")
        return self._journal.put(
            Entry(
                key=new_idempotency_key(),
                account_no=account_no,
                bill_ids=tuple(bill_ids),
                amount_fen=amount_fen,
                period=period,
                started_at=self._clock(),
                step=Step.STARTED,
            )
        )

    def authorise(
        self, key: str, card: PaymentCard, pin_block: bytes | None = None
    ) -> Authorisation:
        """Ask the acquirer; journal an approval before anything else happens."""
        entry = self._require(key)
        if entry.step is not Step.STARTED:
            raise ValueError(f"payment {key} is {entry.step}, not waiting for a card")
        outcome = self._payer.authorise(card, entry.amount_fen, key, pin_block)
        if isinstance(outcome, Approved):
            self._journal.put(
                entry.moved(Step.APPROVED, authorisation=self._authorisation(outcome))
            )
        else:
            self._journal.put(entry.moved(Step.NOT_CHARGED, note=type(outcome).__name__))
        return outcome

    def record(self, key: str, *, wait_s: float) -> RecordOutcome:
        """Record an approved payment with the hall, trying again until it answers or
        ``wait_s`` has passed (then ``StillRecording``; ``settle_pending`` goes on)."""
        deadline = time.monotonic() + wait_s
        delay = self._first_retry_s
        while True:
            outcome = self._record_once(key)
            if not isinstance(outcome, StillRecording):
                return outcome
            left = deadline - time.monotonic()
            if left <= 0 or self._pause(min(delay, left)):
                return outcome
            delay = min(delay * 2, self._max_retry_s)

    def abandon(self, key: str, why: str) -> None:
        """The customer left before any card reached the acquirer (nothing was sent)."""
        entry = self._journal.get(key)
        if entry is not None and entry.step is Step.STARTED:
            self._journal.put(entry.moved(Step.NOT_CHARGED, note=why))

    # --- the background and the start ----------------------------------------------------
    def settle_pending(self) -> list[RecordOutcome]:
        """One try for each approved payment the hall has not yet answered about."""
        return [
            self._record_once(entry.key)
            for entry in self._journal.unfinished()
            if entry.step is Step.APPROVED
        ]

    def recover(self) -> list[Recovered]:
        """At start, before the first payment: finish what a previous run left open."""
        recovered = self._payer.recover(self._was_recorded)
        for entry in self._journal.unfinished():
            if entry.step is Step.STARTED:
                # Never approved as far as this journal knows, so never recorded: the
                # acquirer's recover() has reversed whatever of it reached the bank.
                self._journal.put(entry.moved(Step.NOT_CHARGED, note="interrupted by a restart"))
        self._journal.prune(self._clock() - KEEP_FINISHED)
        return recovered

    # --- inside ---------------------------------------------------------------------------
    def _record_once(self, key: str, *, tell_acquirer: bool = True) -> RecordOutcome:
        """``tell_acquirer=False`` inside the acquirer's ``recover``, which confirms or
        reverses by itself (and holds the acquirer's lock while it asks)."""
        with self._key_lock(key):
            entry = self._require(key)
            if entry.step is Step.RECORDED and entry.payment is not None:
                return Recorded(entry.payment)
            if entry.step is Step.REFUSED:
                return Refused(*_split(entry.note))
            if entry.step is not Step.APPROVED or entry.authorisation is None:
                raise ValueError(f"payment {key} is {entry.step}, not approved")
            try:
                payment = self._hall.record_card_payment(
                    CardPaymentIn(
                        idempotency_key=key,
                        account_no=entry.account_no,
                        bill_ids=[uuid.UUID(b) for b in entry.bill_ids],
                        amount_fen=entry.amount_fen,
                        authorisation=entry.authorisation,
                    )
                )
            except HallClientError as err:
                if not refused_for_good(err):
                    log.warning("payment %s not recorded yet: %s; trying again", key, err)
                    return StillRecording(key)
                assert isinstance(err, HallApiError)  # noqa: S101 - refused_for_good says so
                note = f"{err.error.message_zh}|{err.error.message_en}"
                self._journal.put(entry.moved(Step.REFUSED, note=note))
                log.warning("payment %s refused by the hall (%s); reversing it", key, err)
                if tell_acquirer:
                    self._payer.reverse(key)
                return Refused(err.error.message_zh, err.error.message_en)
            self._journal.put(entry.moved(Step.RECORDED, payment=payment))
            if tell_acquirer:
                self._payer.confirm(key)
            log.info("payment %s recorded as %s", key, payment.receipt_no)
            return Recorded(payment)

    def _was_recorded(self, key: str) -> bool:
        """The acquirer's question at start: is this approved attempt in the hall's ledger?

        Raises when nobody can tell yet (the hall does not answer): the acquirer then leaves
        the attempt as it is, and ``settle_pending`` keeps asking the hall to record it.
        """
        entry = self._journal.get(key)
        if entry is None:
            try:
                self._hall.payment(key)
            except HallApiError as err:
                if err.status == 404:
                    return False
                raise
            return True
        if entry.step is Step.STARTED:
            return False  # the hall is asked only after the approval is journalled
        outcome = (
            self._record_once(key, tell_acquirer=False) if entry.step is Step.APPROVED else None
        )
        if isinstance(outcome, StillRecording):
            raise RuntimeError(f"the hall does not answer about payment {key} yet")
        entry = self._require(key)
        return entry.step is Step.RECORDED

    def _authorisation(self, approved: Approved) -> CardAuthorisation:
        return CardAuthorisation(
            card_masked=approved.masked_pan,
            terminal_id=self._payer.terminal_id,
            merchant_id=self._payer.merchant_id,
            stan=f"{approved.stan:06d}",
            rrn=approved.rrn,
            auth_code=approved.auth_code or NO_AUTH_CODE,
            approved_at=self._clock(),
        )

    def _require(self, key: str) -> Entry:
        entry = self._journal.get(key)
        if entry is None:
            raise KeyError(f"no payment attempt {key}")
        return entry

    def _key_lock(self, key: str) -> threading.Lock:
        with self._keys:
            return self._recording.setdefault(key, threading.Lock())


def _split(note: str | None) -> tuple[str, str]:
    zh, _, en = (note or "").partition("|")
    return (
        zh or "缴费未成功，款项将退回",
        en or "The payment did not go through; it will be returned",
    )
