"""An acquirer on a TCP port that speaks the terminal's bytes, for the demo, tests and bench.

It checks each request's MAC and answers with its own, approves the test cards below, checks
PIN blocks the way an issuer's HSM does, and keeps its own books: a repeated 0200 (same
terminal id + STAN) gets the original answer and is never charged twice; a reversal undoes an
approval once, and answers the same again when repeated; a reversal that arrives before its
0200 leaves a mark so the late 0200 is refused. ``write_settlement`` writes a day's file.

Faults are switched at run time with ``inject``: a decline with a given code, no answer at
all, a slow answer, a wrong MAC, the connection cut after the request was read, or a garbage
answer. ``booked`` says whether the acquirer processed (and perhaps approved) the request
before the answer went wrong — the case that costs customers money if the terminal does not
reverse it.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import itertools
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from devices.acquirer import codes
from devices.acquirer.connection import read_frame
from devices.acquirer.errors import AnswerTimeout, ConnectionCut
from devices.acquirer.journal import write_atomically
from devices.acquirer.keys import DEMO_KEYS, TerminalKeys
from devices.acquirer.protocol import (
    CHINA_TIME,
    TPDU_LENGTH,
    EchoRequest,
    EchoResponse,
    FinancialRequest,
    FinancialResponse,
    Message,
    MessageRefused,
    ReversalRequest,
    ReversalResponse,
    Stamp,
    answer_tpdu,
    decode,
    encode,
    frame,
    mask,
)
from devices.acquirer.settlement import RecordType, SettlementFile, SettlementRecord, render
from devices.pinpad.pinblock import decrypt_block, pan_field_digits, pin_from_format0

log = logging.getLogger(__name__)

IDLE_TIMEOUT_S = 60.0  # a terminal connection with nothing to say is closed after this


@dataclass(frozen=True)
class TestCard:
    """A card the simulated issuer knows. None of these numbers belongs to anyone."""

    __test__ = False  # not a pytest test class

    pan: str
    balance_fen: int
    pin: str | None = None  # the issuer wants this PIN in field 52


TEST_CARDS = (
    TestCard("4111111111111111", balance_fen=100_000_000),
    TestCard("5555555555554444", balance_fen=50_000),  # ¥500: larger payments get 51
    TestCard("6222021000000000017", balance_fen=100_000_000, pin="123456"),  # UnionPay-like BIN
)


class FaultKind(enum.StrEnum):
    DECLINE = "decline"  # answer with ``response_code`` instead of the issuer's decision
    TIMEOUT = "timeout"  # read the request, never answer
    SLOW = "slow"  # answer after ``delay_s``
    WRONG_MAC = "wrong_mac"  # answer with a MAC that does not verify
    CUT = "cut"  # close the connection right after reading the request
    GARBAGE = "garbage"  # answer with a frame of junk


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    response_code: str = "05"
    delay_s: float = 0.0
    # TIMEOUT / CUT: whether the host processed (approved, if the card is good) the request
    # before the answer was lost, or the request itself was lost on the way.
    booked: bool = True
    mtis: frozenset[str] = frozenset({"0200"})
    times: int | None = None  # only the next N matching requests; None = until cleared


@dataclass
class Booking:
    """The acquirer's record of one 0200 (by terminal id + STAN). Never holds the PAN."""

    terminal_id: str
    merchant_id: str
    stan: int
    amount_fen: int
    masked_pan: str
    response_code: str
    rrn: str
    auth_code: str | None
    at: datetime
    stamp: Stamp
    card_tag: str = field(repr=False, default="")  # which balance to give back (SHA-256 of the PAN)
    reversed_at: datetime | None = None
    reversal_before_request: bool = False

    @property
    def charged(self) -> bool:
        return self.response_code == codes.APPROVED and self.reversed_at is None


class AcquirerSimulator:
    def __init__(
        self,
        *,
        keys: TerminalKeys = DEMO_KEYS,
        cards: tuple[TestCard, ...] = TEST_CARDS,
        host: str = "127.0.0.1",
        port: int = 0,
        delay_s: float = 0.0,
        acquirer_id: str = "48020000000",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.keys = keys
        self.delay_s = delay_s  # the acquirer's own think time, on every answer
        self.acquirer_id = acquirer_id
        self._clock = clock
        self._cards = {card.pan: card for card in cards}
        self._balances = {_tag(card.pan): card.balance_fen for card in cards}
        self._bookings: dict[tuple[str, int], Booking] = {}
        self._faults: list[Fault] = []
        # Re-entrant: ``wait_for`` predicates call the locked accessors while the lock is held.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._sequence = itertools.count(1)
        self.received: list[str] = []  # MTIs in arrival order
        self.refused: list[str] = []  # refusal reasons of frames it could not accept
        self.duplicates = 0
        self._stop = threading.Event()
        self._server = socket.create_server((host, port))
        self.host, self.port = self._server.getsockname()[:2]
        self._connections: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, name="acquirer-sim", daemon=True)
        self._thread.start()

    # --- faults -------------------------------------------------------------------------
    def inject(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # --- what the acquirer knows ----------------------------------------------------------
    def bookings(self) -> list[Booking]:
        with self._lock:
            return list(self._bookings.values())

    def charged_fen(self, terminal_id: str | None = None) -> int:
        """Money taken and not given back, for one terminal or all."""
        with self._lock:
            return sum(
                b.amount_fen
                for b in self._bookings.values()
                if b.charged and terminal_id in (None, b.terminal_id)
            )

    def wait_for(
        self, predicate: Callable[[AcquirerSimulator], bool], timeout_s: float = 5.0
    ) -> bool:
        """Wait until ``predicate(self)`` holds (checked after each message), for tests."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout_s)

    def settlement(self, day: date) -> SettlementFile:
        """The day's movements (China time): approvals as SALE, reversed approvals as RVSL."""
        records: list[SettlementRecord] = []
        with self._lock:
            bookings = sorted(self._bookings.values(), key=lambda b: (b.at, b.stan))
        for b in bookings:
            if b.response_code != codes.APPROVED:
                continue
            moves = [(RecordType.SALE, b.at)]
            if b.reversed_at is not None:
                moves.append((RecordType.REVERSAL, b.reversed_at))
            for kind, at in moves:
                local = at.astimezone(CHINA_TIME)
                if local.date() == day:
                    records.append(
                        SettlementRecord(
                            day,
                            b.terminal_id,
                            b.merchant_id,
                            b.stan,
                            b.rrn,
                            b.auth_code,
                            kind,
                            b.amount_fen,
                            b.masked_pan,
                            local,
                        )
                    )
        records.sort(key=lambda r: r.at)
        return SettlementFile(day, self.acquirer_id, self._clock(), tuple(records))

    def write_settlement(self, directory: Path, day: date) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"settlement-{self.acquirer_id}-{day:%Y%m%d}.txt"
        write_atomically(path, render(self.settlement(day)).decode("ascii"))
        return path

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the accept() below on Linux
        with contextlib.suppress(OSError):
            self._server.close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._thread.join(2)

    def __enter__(self) -> AcquirerSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the host -----------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except OSError:
                return  # closed
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._connections.add(connection)
            threading.Thread(
                target=self._serve, args=(connection,), name="acquirer-sim-conn", daemon=True
            ).start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                try:
                    payload = read_frame(connection, IDLE_TIMEOUT_S)
                except (AnswerTimeout, ConnectionCut):
                    return
                except MessageRefused as err:
                    self._refuse(err.reason.value)
                    return
                if not self._handle(connection, payload):
                    return
        finally:
            with self._lock:
                self._connections.discard(connection)
            connection.close()

    def _refuse(self, reason: str) -> None:
        with self._changed:
            self.refused.append(reason)
            self._changed.notify_all()

    def _handle(self, connection: socket.socket, payload: bytes) -> bool:
        """Answer one message; False when the connection is to be closed."""
        try:
            message = decode(payload, self.keys.mac_key)
        except MessageRefused as err:
            # A host drops what it cannot authenticate or parse: the terminal will reverse.
            self._refuse(err.reason.value)
            return False
        fault = self._take_fault(message.MTI)
        lost = (
            fault is not None
            and not fault.booked
            and fault.kind in (FaultKind.TIMEOUT, FaultKind.CUT)
        )
        if lost:
            answer: Message | None = None  # the request never reached the host's books
            self._note(message.MTI)
        else:
            answer = self._process(message, fault)
        if fault is not None and fault.kind is FaultKind.CUT:
            return False
        if fault is not None and fault.kind is FaultKind.TIMEOUT:
            return True  # keep reading; never answer this one
        if answer is None:
            return False
        wait = self.delay_s + (fault.delay_s if fault and fault.kind is FaultKind.SLOW else 0)
        if wait and self._stop.wait(wait):
            return False
        raw = encode(answer, self.keys.mac_key, tpdu=answer_tpdu(payload[:TPDU_LENGTH]))
        if fault is not None and fault.kind is FaultKind.WRONG_MAC:
            raw = raw[:-1] + bytes([raw[-1] ^ 0x01])
        elif fault is not None and fault.kind is FaultKind.GARBAGE:
            raw = payload[:TPDU_LENGTH] + bytes(range(0x30, 0x30 + 40))
        try:
            connection.sendall(frame(raw))
        except OSError:
            return False
        return True

    def _take_fault(self, mti: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if mti in fault.mtis:
                    if fault.times is not None:
                        left = fault.times - 1
                        if left <= 0:
                            del self._faults[index]
                        else:
                            self._faults[index] = Fault(
                                fault.kind,
                                fault.response_code,
                                fault.delay_s,
                                fault.booked,
                                fault.mtis,
                                left,
                            )
                    return fault
        return None

    def _note(self, mti: str) -> None:
        with self._changed:
            self.received.append(mti)
            self._changed.notify_all()

    def _process(self, message: Message, fault: Fault | None) -> Message | None:
        with self._changed:
            self.received.append(message.MTI)
            try:
                if isinstance(message, FinancialRequest):
                    return self._purchase(message, fault)
                if isinstance(message, ReversalRequest):
                    return self._reversal(message, fault)
                if isinstance(message, EchoRequest):
                    code = (
                        fault.response_code if fault and fault.kind is FaultKind.DECLINE else "00"
                    )
                    return EchoResponse(
                        message.stan,
                        message.terminal_id,
                        message.merchant_id,
                        message.transmitted,
                        code,
                        message.code,
                    )
                return None  # a terminal does not send answers
            finally:
                self._changed.notify_all()

    def _purchase(self, request: FinancialRequest, fault: Fault | None) -> FinancialResponse:
        key = (request.terminal_id, request.stan)
        booking = self._bookings.get(key)
        if booking is not None:
            if booking.amount_fen == request.amount_fen and not booking.reversal_before_request:
                self.duplicates += 1
                return self._response_for(booking)
            # The same STAN for another amount, or a 0200 that arrives after its reversal.
            return self._response(request, "94", rrn=booking.rrn, auth=None)
        now = self._clock()
        sequence = next(self._sequence)
        code = self._decide(request, now)
        if fault is not None and fault.kind is FaultKind.DECLINE:
            code = fault.response_code
        approved = code == codes.APPROVED
        if approved:
            self._balances[_tag(request.pan)] -= request.amount_fen
        booking = Booking(
            terminal_id=request.terminal_id,
            merchant_id=request.merchant_id,
            stan=request.stan,
            amount_fen=request.amount_fen,
            masked_pan=mask(request.pan),
            response_code=code,
            rrn=f"{now.astimezone(CHINA_TIME):%y%m%d}{sequence:06d}",
            auth_code=f"{(sequence * 7919) % 1_000_000:06d}" if approved else None,
            at=now,
            stamp=request.stamp,
            card_tag=_tag(request.pan) if approved else "",
        )
        self._bookings[key] = booking
        log.info("acquirer: 0200 %s stan %06d → %s", booking.masked_pan, request.stan, code)
        return self._response_for(booking)

    def _decide(self, request: FinancialRequest, now: datetime) -> str:
        card = self._cards.get(request.pan)
        if card is None:
            return "14"
        if request.expiry is not None:
            local = now.astimezone(CHINA_TIME)
            if request.expiry < f"{local:%y%m}":
                return "54"
        if card.pin is not None or request.pin_block is not None:
            if request.pin_block is None:
                return "55"
            try:
                clear = decrypt_block(request.pin_block, self.keys.pin_key)
                pin = pin_from_format0(clear, pan_field_digits(request.pan))
            except ValueError:
                return "55"
            if pin != card.pin:
                return "55"
        if self._balances[_tag(request.pan)] < request.amount_fen:
            return "51"
        return codes.APPROVED

    def _response_for(self, booking: Booking) -> FinancialResponse:
        return FinancialResponse(
            stan=booking.stan,
            amount_fen=booking.amount_fen,
            terminal_id=booking.terminal_id,
            merchant_id=booking.merchant_id,
            stamp=booking.stamp,
            response_code=booking.response_code,
            rrn=booking.rrn,
            auth_code=booking.auth_code,
        )

    def _response(
        self, request: FinancialRequest, code: str, *, rrn: str, auth: str | None
    ) -> FinancialResponse:
        return FinancialResponse(
            stan=request.stan,
            amount_fen=request.amount_fen,
            terminal_id=request.terminal_id,
            merchant_id=request.merchant_id,
            stamp=request.stamp,
            response_code=code,
            rrn=rrn,
            auth_code=auth,
        )

    def _reversal(self, request: ReversalRequest, fault: Fault | None) -> ReversalResponse:
        key = (request.terminal_id, request.original.stan)
        booking = self._bookings.get(key)
        now = self._clock()
        if fault is not None and fault.kind is FaultKind.DECLINE:
            code = fault.response_code  # e.g. 96: the host could not process it; nothing changes
        elif booking is None:
            # Nothing to undo yet; remember it so the 0200, should it still arrive, is refused.
            self._bookings[key] = Booking(
                terminal_id=request.terminal_id,
                merchant_id=request.merchant_id,
                stan=request.original.stan,
                amount_fen=request.amount_fen,
                masked_pan="000000******0000",
                response_code="25",
                rrn=f"{now.astimezone(CHINA_TIME):%y%m%d}{next(self._sequence):06d}",
                auth_code=None,
                at=now,
                stamp=request.stamp,
                reversed_at=now,
                reversal_before_request=True,
            )
            code = "25"
        elif booking.response_code != codes.APPROVED:
            code = "25"  # declined: nothing was taken
        elif booking.amount_fen != request.amount_fen:
            code = "13"  # not the original's amount: refuse, change nothing
        else:
            if booking.reversed_at is None:
                booking.reversed_at = now
                self._balances[booking.card_tag] += booking.amount_fen
            code = codes.APPROVED
        log.info("acquirer: %s stan %06d → %s", request.MTI, request.original.stan, code)
        return ReversalResponse(
            stan=request.stan,
            amount_fen=request.amount_fen,
            terminal_id=request.terminal_id,
            merchant_id=request.merchant_id,
            stamp=request.stamp,
            response_code=code,
            rrn=booking.rrn if booking is not None else None,
        )


def _tag(pan: str) -> str:
    return hashlib.sha256(pan.encode("ascii")).hexdigest()


def main(argv: list[str] | None = None) -> None:
    """``python -m devices.acquirer.simulator``: an acquirer for the demo, until Ctrl-C."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(description="ISO 8583 acquirer simulator (demo keys)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="think time per answer")
    parser.add_argument("--settlement-dir", type=Path, help="write today's file here on exit")
    args = parser.parse_args(argv)
    simulator = AcquirerSimulator(host=args.host, port=args.port, delay_s=args.delay_ms / 1000)
    print(f"acquirer simulator listening on {simulator.host}:{simulator.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        simulator.close()
        if args.settlement_dir is not None:
            day = datetime.now(CHINA_TIME).date()
            print(f"settlement file: {simulator.write_settlement(args.settlement_dir, day)}")


if __name__ == "__main__":
    main()
