"""The terminal against the acquirer simulator over real TCP: outcomes, faults, exactly once."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from devices.acquirer.client import (
    Acquirer,
    Approved,
    Declined,
    Problem,
    ReversalState,
    Unavailable,
)
from devices.acquirer.connection import FrameConnection
from devices.acquirer.journal import Stage
from devices.acquirer.keys import DEMO_KEYS
from devices.acquirer.protocol import (
    CHINA_TIME,
    FinancialRequest,
    FinancialResponse,
    OriginalData,
    ReversalRequest,
    ReversalResponse,
    Stamp,
    decode,
    encode,
)
from devices.acquirer.settlement import RecordType, parse
from devices.acquirer.simulator import AcquirerSimulator, Fault, FaultKind
from devices.cardreader.card import CardSummary, SwipedCard
from devices.cardreader.protocol import parse_swipe
from devices.cardreader.simulator import MASTERCARD, VISA, SimCard
from devices.pinpad.pinblock import pan_field_digits
from devices.pinpad.pinpad import PinPrompt
from devices.pinpad.simulator import SimulatedPinPad

pytestmark = pytest.mark.integration

TID, MID = "KIOSK001", "898110048160001"
UNIONPAY = SimCard("6222021000000000017", name="WANG/FANG")  # the simulator wants PIN 123456
UNKNOWN = SimCard("4000000000000002")
TODAY = date(2026, 11, 23)
SHORT = 0.3  # answer timeout in these tests: faults make the terminal wait this long


def swipe(card: SimCard, today: date = TODAY) -> SwipedCard:
    """Through the real card-reader parser, as the kiosk gets it."""
    return parse_swipe((card.track1() + card.track2()).encode("ascii"), today=today)


@dataclass
class TrackCard:
    """A reader that keeps track 2 for the authorisation (an EMV reader's track 2 equivalent)."""

    card: SimCard
    summary: CardSummary

    def pan_for_payment(self) -> str:
        return self.card.pan

    def track2_for_payment(self) -> str:
        return self.card.track2()[1:-1]


@pytest.fixture
def sim() -> Iterator[AcquirerSimulator]:
    simulator = AcquirerSimulator()
    yield simulator
    simulator.close()


@pytest.fixture
def make_acquirer(sim: AcquirerSimulator, tmp_path: Path) -> Callable[..., Acquirer]:
    def make(state_dir: Path | None = None, **options: object) -> Acquirer:
        settings: dict[str, object] = {
            "answer_timeout_s": SHORT,
            "reversal_pause_s": 0.0,
            "reversal_sends": 2,
        }
        settings.update(options)
        return Acquirer(
            sim.host,
            sim.port,
            terminal_id=TID,
            merchant_id=MID,
            keys=DEMO_KEYS,
            state_dir=state_dir or tmp_path / "terminal",
            **settings,  # type: ignore[arg-type]
        )

    return make


def china_day(sim: AcquirerSimulator) -> date:
    return max(b.at for b in sim.bookings()).astimezone(CHINA_TIME).date()


# --- outcomes ----------------------------------------------------------------------------


def test_an_approval_is_charged_once_and_settled(
    sim: AcquirerSimulator, make_acquirer: Callable[..., Acquirer], tmp_path: Path
) -> None:
    acquirer = make_acquirer()
    outcome = acquirer.authorise(swipe(VISA), 12345, "pay-1")
    assert isinstance(outcome, Approved)
    assert (outcome.amount_fen, outcome.masked_pan) == (12345, "411111******1111")
    assert len(outcome.rrn) == 12 and outcome.auth_code
    assert sim.charged_fen(TID) == 12345
    assert sim.received == ["0200"]
    assert acquirer.health.state.value == "connected"
    settlement = parse(sim.write_settlement(tmp_path / "settle", china_day(sim)).read_bytes())
    (record,) = settlement.records
    assert (record.kind, record.stan, record.rrn) == (RecordType.SALE, outcome.stan, outcome.rrn)
    assert record.masked_pan == "411111******1111"


def test_track_2_and_a_pin_block_reach_the_acquirer(
    sim: AcquirerSimulator, make_acquirer: Callable[..., Acquirer]
) -> None:
    pad = SimulatedPinPad(DEMO_KEYS.pin_key)
    pad.will_type("123456")
    card = TrackCard(UNIONPAY, swipe(UNIONPAY).summary)
    block = pad.request_pin(pan_field_digits(card.pan_for_payment()), PinPrompt(8800))
    outcome = make_acquirer().authorise(card, 8800, "pay-pin", block)
    assert isinstance(outcome, Approved)
    assert sim.charged_fen() == 8800


def expired() -> SwipedCard:
    return swipe(SimCard("4111111111111111", expiry="2001"), today=date(2019, 6, 1))


@pytest.mark.parametrize(
    ("setup", "card", "amount", "pin", "code"),
    [
        (Fault(FaultKind.DECLINE, response_code="05"), lambda: swipe(VISA), 100, None, "05"),
        (None, lambda: swipe(MASTERCARD), 60_000, None, "51"),  # ¥600 on a ¥500 balance
        (None, expired, 100, None, "54"),
        (None, lambda: swipe(UNIONPAY), 100, "111111", "55"),
        (None, lambda: swipe(UNIONPAY), 100, None, "55"),  # the issuer wants a PIN
        (None, lambda: swipe(UNKNOWN), 100, None, "14"),
        (Fault(FaultKind.DECLINE, response_code="91"), lambda: swipe(VISA), 100, None, "91"),
    ],
)
def test_declines_are_typed_and_charge_nothing(
    sim: AcquirerSimulator,
    make_acquirer: Callable[..., Acquirer],
    setup: Fault | None,
    card: Callable[[], SwipedCard],
    amount: int,
    pin: str | None,
    code: str,
) -> None:
    if setup is not None:
        sim.inject(setup)
    block = None
    if pin is not None:
        pad = SimulatedPinPad(DEMO_KEYS.pin_key)
        pad.will_type(pin)
        block = pad.request_pin(pan_field_digits(UNIONPAY.pan), PinPrompt(amount))
    outcome = make_acquirer().authorise(card(), amount, f"pay-{code}", block)
    assert isinstance(outcome, Declined)
    assert outcome.response_code == code
    assert outcome.message_zh and outcome.message_en
    assert sim.charged_fen() == 0
    assert sim.received == ["0200"]  # a decline is an answer: nothing to reverse


# --- faults: anything unsure is reversed --------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "problem"),
    [
        (Fault(FaultKind.TIMEOUT), Problem.TIMEOUT),
        (Fault(FaultKind.SLOW, delay_s=3 * SHORT), Problem.TIMEOUT),
        (Fault(FaultKind.CUT), Problem.CUT),
        (Fault(FaultKind.CUT, booked=False), Problem.CUT),
        (Fault(FaultKind.WRONG_MAC), Problem.BAD_MAC),
        (Fault(FaultKind.GARBAGE), Problem.GARBAGE),
    ],
)
def test_no_usable_answer_is_reversed_to_net_zero(
    sim: AcquirerSimulator,
    make_acquirer: Callable[..., Acquirer],
    tmp_path: Path,
    fault: Fault,
    problem: Problem,
) -> None:
    sim.inject(fault)
    outcome = make_acquirer().authorise(swipe(VISA), 5000, "pay-fault")
    assert outcome == Unavailable(
        "pay-fault", 1, 5000, "411111******1111", problem, ReversalState.REVERSED
    )
    assert "未扣款" in outcome.message_zh or "退回" in outcome.message_zh
    assert sim.received == ["0200", "0400"]
    assert sim.charged_fen() == 0
    if fault.booked:
        # The acquirer had approved it: its file shows the sale and the reversal.
        settlement = parse(sim.write_settlement(tmp_path / "s", china_day(sim)).read_bytes())
        assert [r.kind for r in settlement.records] == [RecordType.SALE, RecordType.REVERSAL]
        assert settlement.net_fen == 0


def test_a_slow_answer_within_the_timeout_is_fine(
    sim: AcquirerSimulator, make_acquirer: Callable[..., Acquirer]
) -> None:
    sim.inject(Fault(FaultKind.SLOW, delay_s=0.05))
    assert isinstance(make_acquirer().authorise(swipe(VISA), 100, "pay-slow"), Approved)


def test_an_unreachable_acquirer_sends_nothing_and_needs_no_reversal(
    make_acquirer: Callable[..., Acquirer], sim: AcquirerSimulator
) -> None:
    acquirer = make_acquirer()
    sim.close()
    outcome = acquirer.authorise(swipe(VISA), 100, "pay-down")
    assert isinstance(outcome, Unavailable)
    assert (outcome.problem, outcome.reversal) == (Problem.UNREACHABLE, ReversalState.NOT_NEEDED)
    assert acquirer.pending_reversals() == []
    assert acquirer.health.state.value == "fault"


def test_an_unanswered_reversal_waits_in_the_journal_and_the_next_start_finishes_it(
    sim: AcquirerSimulator, make_acquirer: Callable[..., Acquirer], tmp_path: Path
) -> None:
    sim.inject(Fault(FaultKind.TIMEOUT))
    sim.inject(Fault(FaultKind.TIMEOUT, booked=False, mtis=frozenset({"0400", "0401"})))
    first = make_acquirer()
    outcome = first.authorise(swipe(VISA), 4200, "pay-pending")
    assert isinstance(outcome, Unavailable) and outcome.reversal is ReversalState.PENDING
    assert "退回" in outcome.message_zh
    assert sim.charged_fen() == 4200  # still taken until a reversal gets through
    assert [a.idempotency_key for a in first.pending_reversals()] == ["pay-pending"]
    assert sim.received == ["0200", "0400", "0401"]
    first.close()

    sim.clear_faults()
    restarted = make_acquirer()

    def never_asked(key: str) -> bool:
        raise AssertionError("a pending reversal does not depend on the ledger")

    (done,) = restarted.recover(never_asked)
    assert (done.before, done.after) == (Stage.REVERSAL_PENDING, Stage.REVERSED)
    assert sim.received[-1] == "0401"  # a repeat, since a 0400 already went out
    assert sim.charged_fen() == 0
    assert restarted.pending_reversals() == []
    again = restarted.authorise(swipe(VISA), 4200, "pay-pending")
    assert isinstance(again, Unavailable) and again.reversal is ReversalState.REVERSED


def test_the_echo_test_tells_the_health(
    sim: AcquirerSimulator, make_acquirer: Callable[..., Acquirer]
) -> None:
    acquirer = make_acquirer()
    assert acquirer.echo().state.value == "connected"
    sim.inject(Fault(FaultKind.DECLINE, response_code="96", mtis=frozenset({"0800"}), times=1))
    assert "96" in acquirer.echo().reason
    sim.inject(Fault(FaultKind.WRONG_MAC, mtis=frozenset({"0800"}), times=1))
    assert acquirer.echo().reason == "echo test: bad_mac"
    assert acquirer.echo().state.value == "connected"
    sim.close()
    health = acquirer.echo()
    assert (health.state.value, "cannot connect" in health.reason) == ("fault", True)
    assert sim.received == ["0800"] * 4


# --- exactly once ------------------------------------------------------------------------


def test_a_thousand_duplicates_from_many_threads_charge_once(
    sim: AcquirerSimulator, make_acquirer: Callable[..., Acquirer]
) -> None:
    acquirer = make_acquirer()
    card = swipe(VISA)
    outcomes: list[object] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def tap() -> None:
        start.wait()
        for _ in range(125):
            result = acquirer.authorise(card, 2500, "pay-double-tap")
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=tap) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 1000
    assert all(isinstance(o, Approved) for o in outcomes)
    assert len(set(outcomes)) == 1  # the same approval, STAN and RRN for every tap
    assert sim.received == ["0200"]
    assert len(sim.bookings()) == 1
    assert sim.charged_fen() == 2500


def test_a_key_reused_for_another_amount_is_refused(make_acquirer: Callable[..., Acquirer]) -> None:
    acquirer = make_acquirer()
    acquirer.authorise(swipe(VISA), 100, "pay-x")
    with pytest.raises(ValueError, match="another amount"):
        acquirer.authorise(swipe(VISA), 200, "pay-x")


def test_stans_are_not_reused_after_a_restart(
    sim: AcquirerSimulator, make_acquirer: Callable[..., Acquirer]
) -> None:
    first = make_acquirer().authorise(swipe(VISA), 100, "pay-a")
    second = make_acquirer().authorise(swipe(VISA), 100, "pay-b")
    assert isinstance(first, Approved) and isinstance(second, Approved)
    assert second.stan == first.stan + 1
    assert sim.charged_fen() == 200


def test_the_simulator_answers_a_repeated_0200_and_0400_without_charging_twice(
    sim: AcquirerSimulator,
) -> None:
    stamp = Stamp.at(datetime.now(UTC))
    request = FinancialRequest(
        stan=77, amount_fen=990, terminal_id=TID, merchant_id=MID, stamp=stamp, pan=VISA.pan
    )
    reversal = ReversalRequest(
        stan=77,
        amount_fen=990,
        terminal_id=TID,
        merchant_id=MID,
        stamp=stamp,
        reason_code="98",
        original=OriginalData("0200", 77, stamp.transmitted),
    )

    def exchange(message: FinancialRequest | ReversalRequest) -> object:
        with FrameConnection(sim.host, sim.port) as connection:
            connection.send(encode(message, DEMO_KEYS.mac_key))
            return decode(connection.receive(5), DEMO_KEYS.mac_key)

    first, repeat = exchange(request), exchange(request)
    assert isinstance(first, FinancialResponse) and first.approved
    assert repeat == first
    assert sim.duplicates == 1
    assert sim.charged_fen() == 990
    undo, undo_again = exchange(reversal), exchange(reversal)
    assert isinstance(undo, ReversalResponse) and undo.response_code == "00"
    assert isinstance(undo_again, ReversalResponse) and undo_again.response_code == "00"
    assert sim.charged_fen() == 0


def test_a_0200_arriving_after_its_reversal_is_refused(sim: AcquirerSimulator) -> None:
    stamp = Stamp.at(datetime.now(UTC))
    reversal = ReversalRequest(
        stan=5,
        amount_fen=300,
        terminal_id=TID,
        merchant_id=MID,
        stamp=stamp,
        reason_code="98",
        original=OriginalData("0200", 5, stamp.transmitted),
    )
    late = FinancialRequest(
        stan=5, amount_fen=300, terminal_id=TID, merchant_id=MID, stamp=stamp, pan=VISA.pan
    )
    answers = []
    for message in (reversal, late):
        with FrameConnection(sim.host, sim.port) as connection:
            connection.send(encode(message, DEMO_KEYS.mac_key))
            answers.append(decode(connection.receive(5), DEMO_KEYS.mac_key))
    assert [getattr(a, "response_code", None) for a in answers] == ["25", "94"]
    assert sim.charged_fen() == 0


CRASHING_KIOSK = """
import sys
from datetime import date
from pathlib import Path
from devices.acquirer.client import Acquirer
from devices.acquirer.keys import DEMO_KEYS
from devices.cardreader.protocol import parse_swipe
from devices.cardreader.simulator import VISA

card = parse_swipe(VISA.track2().encode("ascii"), today=date(2026, 1, 1))
acquirer = Acquirer(
    "127.0.0.1", int(sys.argv[1]), terminal_id="KIOSK001", merchant_id="898110048160001",
    keys=DEMO_KEYS, state_dir=Path(sys.argv[2]), answer_timeout_s=120,
)
acquirer.authorise(card, 777, "pay-crash")
"""


def test_a_kiosk_killed_mid_flight_is_reversed_by_recover(
    sim: AcquirerSimulator, make_acquirer: Callable[..., Acquirer], tmp_path: Path
) -> None:
    sim.inject(Fault(FaultKind.TIMEOUT))  # approve, then hold the answer back
    state = tmp_path / "terminal"
    kiosk = subprocess.Popen(
        [sys.executable, "-c", CRASHING_KIOSK, str(sim.port), str(state)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        charged = sim.wait_for(lambda s: s.charged_fen() == 777, timeout_s=60)
    finally:
        kiosk.kill()
        _, stderr = kiosk.communicate()
    assert charged, stderr.decode(errors="replace")

    restarted = make_acquirer(state)
    (done,) = restarted.recover(lambda key: pytest.fail("in-flight attempts are not asked about"))
    assert (done.idempotency_key, done.before, done.after) == (
        "pay-crash",
        Stage.IN_FLIGHT,
        Stage.REVERSED,
    )
    assert sim.charged_fen() == 0


def test_after_a_restart_an_approval_stands_only_if_the_hall_recorded_it(
    sim: AcquirerSimulator, make_acquirer: Callable[..., Acquirer]
) -> None:
    before = make_acquirer()
    for key in ("pay-recorded", "pay-lost", "pay-unknown"):
        assert isinstance(before.authorise(swipe(VISA), 1000, key), Approved)
    before.close()  # the hall dies before any confirm()
    assert sim.charged_fen() == 3000

    def was_recorded(key: str) -> bool:
        if key == "pay-unknown":
            raise ConnectionError("the hall database is not up yet")
        return key == "pay-recorded"

    after = make_acquirer()
    done = {r.idempotency_key: r.after for r in after.recover(was_recorded)}
    assert done == {"pay-recorded": Stage.CONFIRMED, "pay-lost": Stage.REVERSED}
    assert sim.charged_fen() == 2000  # recorded + still undecided
    # The next start asks again about the one it could not decide.
    done = {r.idempotency_key: r.after for r in after.recover(lambda key: True)}
    assert done == {"pay-unknown": Stage.CONFIRMED}
    assert sim.charged_fen() == 2000


def test_the_hall_reverses_a_payment_it_could_not_record(
    sim: AcquirerSimulator, make_acquirer: Callable[..., Acquirer]
) -> None:
    acquirer = make_acquirer()
    acquirer.authorise(swipe(VISA), 700, "pay-ledger-failed")
    assert acquirer.reverse("pay-ledger-failed") is ReversalState.REVERSED
    assert sim.charged_fen() == 0
    acquirer.authorise(swipe(VISA), 700, "pay-ok")
    acquirer.confirm("pay-ok")
    with pytest.raises(ValueError, match="refunded"):
        acquirer.reverse("pay-ok")
    assert sim.charged_fen() == 700


# --- card data ---------------------------------------------------------------------------


def test_no_pan_track_or_pin_in_any_file_or_log(
    sim: AcquirerSimulator,
    make_acquirer: Callable[..., Acquirer],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    acquirer = make_acquirer()
    pad = SimulatedPinPad(DEMO_KEYS.pin_key)
    pad.will_type("123456")
    union = TrackCard(UNIONPAY, swipe(UNIONPAY).summary)
    block = pad.request_pin(pan_field_digits(UNIONPAY.pan), PinPrompt(300))
    acquirer.authorise(union, 300, "pay-1", block)
    acquirer.authorise(swipe(VISA), 400, "pay-2")
    sim.inject(Fault(FaultKind.TIMEOUT, times=1))
    acquirer.authorise(swipe(MASTERCARD), 500, "pay-3")
    sim.inject(Fault(FaultKind.CUT, mtis=frozenset({"0400", "0401"})))
    sim.inject(Fault(FaultKind.GARBAGE))
    acquirer.authorise(swipe(VISA), 600, "pay-4")  # leaves a pending reversal in the journal
    sim.write_settlement(tmp_path / "settlement", china_day(sim))

    texts = [VISA.pan, MASTERCARD.pan, UNIONPAY.pan, block.hex(), block.hex().upper()]
    texts += [c.track2()[1:-1] for c in (VISA, MASTERCARD, UNIONPAY)]
    # The same data as it travels: BCD card numbers and the PIN block's bytes.
    binary = [block, bytes.fromhex(VISA.pan), bytes.fromhex(UNIONPAY.pan + "0")]
    secrets = [t.encode("ascii") for t in texts] + binary
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.parent.name == "attempts" for p in files)
    assert any(p.parent.name == "settlement" for p in files)
    for path in files:
        content = path.read_bytes()
        for secret in secrets:
            assert secret not in content, f"card data in {path.name}"
    for text in texts:
        assert text not in caplog.text
