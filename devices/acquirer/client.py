"""The terminal side: authorise a card payment exactly once per idempotency key.

``Acquirer.authorise`` sends a 0200 and turns the answer into ``Approved``, ``Declined`` or
``Unavailable``. Whatever leaves it unsure whether money was taken — no answer in time, a cut
connection, an answer that does not parse, a wrong MAC, an answer to another request — makes
it reverse the request (0400, repeated as 0401) before it returns; a reversal that cannot be
completed stays in the journal and is retried by ``recover()`` on the next start.

Exactly once, step by step:

- The kiosk makes one idempotency key per payment attempt. ``authorise`` with a key it has
  seen returns that attempt's outcome and sends nothing (a double tap, a retry of the kiosk's
  own request after a timeout). Calls are serialised, so duplicates racing in from several
  threads wait for the first and get its answer.
- The attempt (STAN, amount, masked card, key) is journalled before the 0200 leaves, and every
  change after that is journalled before anything else happens.
- An approval is final for the acquirer but not yet for the hall. The hall records the
  payment in its ledger, then calls ``confirm(key)``. If it cannot record it, it calls
  ``reverse(key)``.
- After a restart, the composition root calls ``recover(was_recorded)`` before taking new
  payments. ``was_recorded(key)`` is the seam to the hall's ledger: it answers whether a
  payment with that idempotency key is in the ledger. An approved attempt that was recorded is
  confirmed; one that was not is reversed (the customer keeps the money, the bill stays open —
  nothing is lost, nothing is taken twice); an attempt still in flight is reversed; pending
  reversals are sent again. When ``was_recorded`` raises, the attempt is left as it is and
  asked about again next time: a guess either way could cost a customer money.

The PAN and track data are read from the card for the request and never stored here; the
caller ``forget()``s the card after the call.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from devices.acquirer import codes
from devices.acquirer.connection import FrameConnection
from devices.acquirer.errors import AcquirerUnreachable, AnswerTimeout, ConnectionCut
from devices.acquirer.journal import (
    KEEP_FINISHED,
    Attempt,
    AttemptJournal,
    Stage,
    StanCounter,
    check_key,
)
from devices.acquirer.keys import TerminalKeys
from devices.acquirer.protocol import (
    TERMINAL_TPDU,
    EchoRequest,
    EchoResponse,
    FinancialRequest,
    FinancialResponse,
    MessageRefused,
    OriginalData,
    RefusalReason,
    ReversalRequest,
    ReversalResponse,
    Stamp,
    decode,
    encode,
    mask,
)
from devices.cardreader.card import CardSummary
from devices.errors import DeviceError
from devices.health import DeviceHealth, HealthState, HealthTracker

log = logging.getLogger(__name__)


class PaymentCard(Protocol):
    """What ``authorise`` needs from a card: ``devices.cardreader.card.SwipedCard`` fits."""

    summary: CardSummary

    def pan_for_payment(self) -> str: ...


@runtime_checkable
class CarriesTrack2(Protocol):
    """A card that can also give its track 2 (PAN=YYMM…) for field 35, in memory only."""

    def track2_for_payment(self) -> str: ...


class Problem(enum.StrEnum):
    """Why there was no usable answer."""

    UNREACHABLE = "unreachable"  # no connection: nothing was sent
    TIMEOUT = "timeout"
    CUT = "cut"  # the connection closed before a whole answer
    GARBAGE = "garbage"  # an answer that does not parse, or answers another request
    BAD_MAC = "bad_mac"
    RESTART = "restart"  # the terminal restarted with the attempt in flight
    NOT_RECORDED = "not_recorded"  # approved, but the hall did not record it


class ReversalState(enum.StrEnum):
    NOT_NEEDED = "not_needed"  # nothing reached the acquirer
    REVERSED = "reversed"  # the acquirer confirmed nothing of it stands
    PENDING = "pending"  # to be sent again; any charge will be given back


@dataclass(frozen=True)
class Approved:
    idempotency_key: str
    stan: int
    rrn: str
    auth_code: str | None
    amount_fen: int
    masked_pan: str


@dataclass(frozen=True)
class Declined:
    idempotency_key: str
    stan: int
    response_code: str
    rrn: str | None
    amount_fen: int
    masked_pan: str

    @property
    def message_zh(self) -> str:
        return codes.meaning(self.response_code).message_zh

    @property
    def message_en(self) -> str:
        return codes.meaning(self.response_code).message_en


@dataclass(frozen=True)
class Unavailable:
    idempotency_key: str
    stan: int
    amount_fen: int
    masked_pan: str
    problem: Problem
    reversal: ReversalState

    @property
    def message_zh(self) -> str:
        if self.reversal is ReversalState.PENDING:
            return "银行暂时无应答，本次交易已取消；如已扣款，将自动退回"
        return "暂时无法连接银行，本次未扣款，请稍后再试"

    @property
    def message_en(self) -> str:
        if self.reversal is ReversalState.PENDING:
            return (
                "The bank did not answer; the payment was cancelled and any charge will be returned"
            )
        return "The bank cannot be reached; you were not charged. Please try again later"


Authorisation = Approved | Declined | Unavailable


@dataclass(frozen=True)
class Recovered:
    """What ``recover()`` did with one unfinished attempt."""

    idempotency_key: str
    masked_pan: str
    amount_fen: int
    before: Stage
    after: Stage


class _NoAnswer(Exception):
    def __init__(self, problem: Problem, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem


class Acquirer:
    """One terminal (terminal id + merchant id) talking to its acquirer over TCP.

    ``state_dir`` holds the STAN counter and the attempt journal; give each terminal its own.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        terminal_id: str,
        merchant_id: str,
        keys: TerminalKeys,
        state_dir: Path,
        answer_timeout_s: float = 30.0,
        connect_timeout_s: float = 5.0,
        reversal_sends: int = 3,
        reversal_pause_s: float = 1.0,
        tpdu: bytes = TERMINAL_TPDU,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.host = host
        self.port = port
        self.terminal_id = terminal_id
        self.merchant_id = merchant_id
        self._keys = keys
        self._answer_timeout_s = answer_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._reversal_sends = max(1, reversal_sends)
        self._reversal_pause_s = reversal_pause_s
        self._tpdu = tpdu
        self._clock = clock
        self._stans = StanCounter(state_dir / "stan.json")
        self._journal = AttemptJournal(state_dir / "attempts")
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._health = HealthTracker(f"acquirer {host}:{port}")

    @property
    def health(self) -> DeviceHealth:
        return self._health.current

    def echo(self) -> DeviceHealth:
        """Ask the acquirer whether it is there (0800 echo test) and update ``health``.

        Needs no lock: it uses its own connection and STAN and touches no attempt.
        """
        request = EchoRequest(
            stan=self._stans.next(),
            terminal_id=self.terminal_id,
            merchant_id=self.merchant_id,
            transmitted=Stamp.at(self._clock()).transmitted,
        )
        try:
            answer = self._exchange(encode(request, self._keys.mac_key, tpdu=self._tpdu))
        except AcquirerUnreachable as err:
            return self._health.set(HealthState.FAULT, str(err))
        except _NoAnswer as err:
            return self._health.set(HealthState.FAULT, f"echo test: {err.problem.value}")
        if not (isinstance(answer, EchoResponse) and answer.stan == request.stan):
            return self._health.set(HealthState.FAULT, "echo test: not an answer to it")
        if answer.response_code != codes.APPROVED:
            return self._health.set(HealthState.FAULT, f"echo test: code {answer.response_code}")
        if self.pending_reversals():
            return self._health.set(HealthState.DEGRADED, "reversals waiting to be sent again")
        return self._health.set(HealthState.CONNECTED, "echo test answered")

    def pending_reversals(self) -> list[Attempt]:
        return [a for a in self._journal.unfinished() if a.stage is Stage.REVERSAL_PENDING]

    # --- payments ---------------------------------------------------------------------------
    def authorise(
        self,
        card: PaymentCard,
        amount_fen: int,
        idempotency_key: str,
        pin_block: bytes | None = None,
    ) -> Authorisation:
        check_key(idempotency_key)
        with self._lock:
            seen = self._journal.get(idempotency_key)
            if seen is not None:
                if seen.amount_fen != amount_fen:
                    raise ValueError("this idempotency key was used for another amount")
                log.info("authorise %s again: answering from the journal", idempotency_key)
                return _outcome(seen)
            request, payload = self._financial_request(card, amount_fen, pin_block)
            attempt = self._journal.put(
                Attempt(
                    idempotency_key=idempotency_key,
                    stan=request.stan,
                    amount_fen=amount_fen,
                    masked_pan=request.masked_pan,
                    transmitted=request.stamp.transmitted,
                    started_at=self._clock(),
                    stage=Stage.IN_FLIGHT,
                )
            )
            return _outcome(self._send_financial(request, payload, attempt))

    def confirm(self, idempotency_key: str) -> None:
        """The hall has recorded this approved payment: the attempt is finished."""
        with self._lock:
            attempt = self._require(idempotency_key)
            if attempt.stage is Stage.APPROVED:
                self._journal.put(attempt.moved(Stage.CONFIRMED))
            elif attempt.stage is not Stage.CONFIRMED:
                raise ValueError(f"attempt {idempotency_key} is {attempt.stage}, not approved")

    def reverse(self, idempotency_key: str) -> ReversalState:
        """Give back an approved payment the hall could not record (field 39 = 06)."""
        with self._lock:
            attempt = self._require(idempotency_key)
            if attempt.stage is Stage.CONFIRMED:
                raise ValueError("a payment recorded in the ledger is refunded, not reversed")
            if attempt.stage in (Stage.APPROVED, Stage.IN_FLIGHT):
                attempt = self._journal.put(
                    attempt.moved(
                        Stage.REVERSAL_PENDING,
                        problem=Problem.NOT_RECORDED.value,
                        reversal_reason=codes.REVERSAL_TERMINAL,
                    )
                )
            if attempt.stage is Stage.REVERSAL_PENDING:
                attempt = self._send_reversal(attempt)
            return _reversal_state(attempt)

    def recover(self, was_recorded: Callable[[str], bool]) -> list[Recovered]:
        """Finish every attempt a previous run left open (see the module docstring).

        Call it once at start, before the first ``authorise``: an approval the hall is still
        recording would otherwise look unrecorded and be reversed under it.
        """
        done: list[Recovered] = []
        with self._lock:
            for attempt in self._journal.unfinished():
                before = attempt.stage
                if attempt.stage is Stage.APPROVED:
                    try:
                        recorded = was_recorded(attempt.idempotency_key)
                    except Exception:
                        log.exception(
                            "cannot tell whether %s was recorded; asking again next start",
                            attempt.idempotency_key,
                        )
                        continue
                    if recorded:
                        attempt = self._journal.put(attempt.moved(Stage.CONFIRMED))
                    else:
                        attempt = self._journal.put(
                            attempt.moved(
                                Stage.REVERSAL_PENDING,
                                problem=Problem.NOT_RECORDED.value,
                                reversal_reason=codes.REVERSAL_TERMINAL,
                            )
                        )
                elif attempt.stage is Stage.IN_FLIGHT:
                    # The 0200 may have been approved; the hall cannot have recorded a payment
                    # that authorise() never returned, so it is reversed.
                    attempt = self._journal.put(
                        attempt.moved(
                            Stage.REVERSAL_PENDING,
                            problem=Problem.RESTART.value,
                            reversal_reason=codes.REVERSAL_NO_ANSWER,
                        )
                    )
                if attempt.stage is Stage.REVERSAL_PENDING:
                    attempt = self._send_reversal(attempt)
                done.append(
                    Recovered(
                        attempt.idempotency_key,
                        attempt.masked_pan,
                        attempt.amount_fen,
                        before,
                        attempt.stage,
                    )
                )
            self._journal.prune(self._clock() - KEEP_FINISHED)
        return done

    def close(self) -> None:
        self._closed.set()

    # --- the exchanges ----------------------------------------------------------------------
    def _financial_request(
        self, card: PaymentCard, amount_fen: int, pin_block: bytes | None
    ) -> tuple[FinancialRequest, bytes]:
        summary = card.summary
        expiry = None
        if summary.expiry_year is not None and summary.expiry_month is not None:
            expiry = f"{summary.expiry_year % 100:02d}{summary.expiry_month:02d}"
        track2 = card.track2_for_payment() if isinstance(card, CarriesTrack2) else None
        request = FinancialRequest(
            stan=self._stans.next(),
            amount_fen=amount_fen,
            terminal_id=self.terminal_id,
            merchant_id=self.merchant_id,
            stamp=Stamp.at(self._clock()),
            pan=card.pan_for_payment(),
            expiry=expiry,
            track2=track2,
            pin_block=pin_block,
        )
        # Encoded before the attempt is journalled, so bad input is refused with nothing sent.
        return request, encode(request, self._keys.mac_key, tpdu=self._tpdu)

    def _send_financial(
        self, request: FinancialRequest, payload: bytes, attempt: Attempt
    ) -> Attempt:
        log.info(
            "0200 stan %06d, %d fen, card %s", request.stan, request.amount_fen, request.masked_pan
        )
        try:
            answer = self._exchange(payload)
        except AcquirerUnreachable as err:
            self._health.set(HealthState.FAULT, str(err))
            return self._journal.put(
                attempt.moved(Stage.NOT_SENT, problem=Problem.UNREACHABLE.value)
            )
        except _NoAnswer as err:
            log.warning("0200 stan %06d: %s; reversing", request.stan, err)
            self._health.set(HealthState.DEGRADED, f"no usable answer: {err.problem.value}")
            reason = (
                codes.REVERSAL_BAD_MAC
                if err.problem is Problem.BAD_MAC
                else codes.REVERSAL_NO_ANSWER
            )
            attempt = self._journal.put(
                attempt.moved(
                    Stage.REVERSAL_PENDING, problem=err.problem.value, reversal_reason=reason
                )
            )
            return self._send_reversal(attempt)
        if not (isinstance(answer, FinancialResponse) and _answers(answer, request)):
            log.warning(
                "0200 stan %06d: the answer is for another request; reversing", request.stan
            )
            attempt = self._journal.put(
                attempt.moved(
                    Stage.REVERSAL_PENDING,
                    problem=Problem.GARBAGE.value,
                    reversal_reason=codes.REVERSAL_NO_ANSWER,
                )
            )
            return self._send_reversal(attempt)
        self._health.set(HealthState.CONNECTED, "answered")
        stage = Stage.APPROVED if answer.approved else Stage.DECLINED
        log.info("0210 stan %06d: %s", request.stan, answer.response_code)
        return self._journal.put(
            attempt.moved(
                stage,
                response_code=answer.response_code,
                rrn=answer.rrn,
                auth_code=answer.auth_code,
            )
        )

    def _send_reversal(self, attempt: Attempt) -> Attempt:
        """Send 0400 (then 0401) until a 0410 says nothing of the original stands, or give up
        after ``reversal_sends`` tries and leave it pending for the next ``recover()``."""
        for sent_now in range(self._reversal_sends):
            if sent_now and self._closed.wait(self._reversal_pause_s):
                break
            request = ReversalRequest(
                stan=attempt.stan,
                amount_fen=attempt.amount_fen,
                terminal_id=self.terminal_id,
                merchant_id=self.merchant_id,
                stamp=Stamp.at(self._clock()),
                reason_code=attempt.reversal_reason or codes.REVERSAL_NO_ANSWER,
                original=OriginalData("0200", attempt.stan, attempt.transmitted),
                rrn=attempt.rrn,
                repeat=attempt.reversal_sends > 0,
            )
            # Counted before sending, so after a restart the next one goes as a 0401 repeat.
            attempt = self._journal.put(
                attempt.moved(Stage.REVERSAL_PENDING, reversal_sends=attempt.reversal_sends + 1)
            )
            log.info("%s stan %06d (reason %s)", request.MTI, request.stan, request.reason_code)
            try:
                answer = self._exchange(encode(request, self._keys.mac_key, tpdu=self._tpdu))
            except (AcquirerUnreachable, _NoAnswer) as err:
                log.warning("%s stan %06d: %s", request.MTI, request.stan, err)
                continue
            if (
                isinstance(answer, ReversalResponse)
                and answer.stan == attempt.stan
                and answer.terminal_id == self.terminal_id
                and answer.amount_fen == attempt.amount_fen
                and answer.response_code in codes.REVERSAL_DONE
            ):
                self._health.set(HealthState.CONNECTED, "answered")
                return self._journal.put(attempt.moved(Stage.REVERSED))
        log.warning("stan %06d: reversal not confirmed; kept for the next start", attempt.stan)
        self._health.set(HealthState.DEGRADED, "reversals waiting to be sent again")
        return attempt

    def _exchange(self, payload: bytes) -> object:
        connection = FrameConnection(
            self.host, self.port, connect_timeout_s=self._connect_timeout_s
        )
        connection.open()
        try:
            connection.send(payload)
            raw = connection.receive(self._answer_timeout_s)
            return decode(raw, self._keys.mac_key)
        except AnswerTimeout as err:
            raise _NoAnswer(Problem.TIMEOUT, str(err)) from None
        except ConnectionCut as err:
            raise _NoAnswer(Problem.CUT, str(err)) from None
        except MessageRefused as err:
            problem = Problem.BAD_MAC if err.reason is RefusalReason.BAD_MAC else Problem.GARBAGE
            raise _NoAnswer(problem, str(err)) from None
        except DeviceError as err:
            raise _NoAnswer(Problem.CUT, str(err)) from None
        finally:
            connection.close()

    def _require(self, idempotency_key: str) -> Attempt:
        attempt = self._journal.get(check_key(idempotency_key))
        if attempt is None:
            raise KeyError(f"no attempt with idempotency key {idempotency_key}")
        return attempt


def _answers(answer: FinancialResponse, request: FinancialRequest) -> bool:
    return (
        answer.stan == request.stan
        and answer.amount_fen == request.amount_fen
        and answer.terminal_id == request.terminal_id
        and answer.merchant_id == request.merchant_id
    )


def _reversal_state(attempt: Attempt) -> ReversalState:
    if attempt.stage is Stage.REVERSED:
        return ReversalState.REVERSED
    if attempt.stage in (Stage.REVERSAL_PENDING, Stage.IN_FLIGHT):
        return ReversalState.PENDING  # in flight after a crash: recover() will reverse it
    return ReversalState.NOT_NEEDED


def _outcome(attempt: Attempt) -> Authorisation:
    if attempt.stage in (Stage.APPROVED, Stage.CONFIRMED):
        assert attempt.rrn is not None  # noqa: S101 - an approval always carries field 37
        return Approved(
            attempt.idempotency_key,
            attempt.stan,
            attempt.rrn,
            attempt.auth_code,
            attempt.amount_fen,
            attempt.masked_pan,
        )
    if attempt.stage is Stage.DECLINED:
        assert attempt.response_code is not None  # noqa: S101 - a decline has a code
        return Declined(
            attempt.idempotency_key,
            attempt.stan,
            attempt.response_code,
            attempt.rrn,
            attempt.amount_fen,
            attempt.masked_pan,
        )
    return Unavailable(
        attempt.idempotency_key,
        attempt.stan,
        attempt.amount_fen,
        attempt.masked_pan,
        Problem(attempt.problem or Problem.RESTART),
        _reversal_state(attempt),
    )


__all__ = [
    "Acquirer",
    "Approved",
    "Authorisation",
    "CarriesTrack2",
    "Declined",
    "PaymentCard",
    "Problem",
    "Recovered",
    "ReversalState",
    "Unavailable",
    "mask",
]
