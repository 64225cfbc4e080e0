"""Card payments from the kiosk, exactly once: the real acquirer client against its simulator
over TCP, the kiosk's journals on disk, and the in-memory hall at the edge.

Every way a payment can go wrong is here, each asking the same two questions at the end:
how much did the bank take (``charged_fen``) and how much did the hall's ledger record.
"""

from __future__ import annotations

from functools import partial

import pytest

from devices.acquirer.simulator import Fault, FaultKind
from devices.cardreader.errors import CardExpired
from devices.cardreader.simulator import MASTERCARD, VISA
from kiosk.payments.card import Recorded, Refused, StillRecording
from kiosk.payments.journal import PaymentJournal, Step
from kiosk.presenters.card import Phase
from kiosk.screens import Purpose, ScreenName
from tests.kiosk.fakes import ACCOUNT
from tests.kiosk.rig import UNIONPAY_PIN, Rig, customer_card, on, swipe_of

pytestmark = pytest.mark.integration
DUE = 9_400  # the fake account's two bills


def at_card_screen(rig: Rig) -> None:
    core = rig.core
    core.beat()  # the first heartbeat: printer status, the hall's name
    core.tap(ScreenName.HOME, lambda: core.p.account.open(Purpose.PAY))
    for key in ACCOUNT[2:]:
        core.press(ScreenName.ACCOUNT, partial(core.p.account.key, key))
    core.tap(ScreenName.ACCOUNT, core.p.account.submit)
    assert on(core, ScreenName.BILL)
    core.press(ScreenName.BILL, core.p.card.open)
    assert on(core, ScreenName.CARD) and core.p.card.phase is Phase.SWIPE


def recorded_fen(rig: Rig) -> int:
    return sum(p.amount_fen for p in rig.hall.ledger.values())


def test_a_payment_from_swipe_to_receipt(rig: Rig) -> None:
    at_card_screen(rig)
    key = rig.core.p.card.key
    rig.core.swiped(swipe_of(VISA))
    assert on(rig.core, ScreenName.PAID)
    view = rig.core.p.paid.view()
    assert (view.amount, view.card, view.printed) == ("¥94.00", "411111******1111", True)
    assert rig.acquirer_sim.charged_fen() == DUE and recorded_fen(rig) == DUE
    assert key is not None and rig.hall.ledger[key].card_masked == "411111******1111"
    entry = rig.payments.journal.get(key)
    assert entry is not None and entry.step is Step.RECORDED
    assert rig.printer_sim.wait_for_receipts(1)
    receipt = (rig.tmp / "paper" / "receipt-001.txt").read_text(encoding="utf-8")
    assert "411111******1111" in receipt and "￥94.00" in receipt and "王*" in receipt
    assert "西城营业厅" in receipt


def test_a_second_swipe_or_tap_charges_nothing_more(rig: Rig) -> None:
    at_card_screen(rig)
    rig.core.swiped(swipe_of(VISA))
    rig.core.swiped(swipe_of(VISA))  # the card goes through again on the receipt screen
    assert not rig.core.press(ScreenName.BILL, rig.core.p.card.open)  # a late tap from before
    assert rig.acquirer_sim.charged_fen() == DUE and len(rig.hall.ledger) == 1


def test_the_same_key_is_answered_from_the_journals(rig: Rig) -> None:
    at_card_screen(rig)
    key = rig.core.p.card.key
    assert key is not None
    card = swipe_of(VISA)
    first = rig.payments.authorise(key, card.card)  # type: ignore[union-attr]
    again = rig.payments.payer.authorise(swipe_of(VISA).card, DUE, key)  # type: ignore[union-attr]
    assert first == again and rig.acquirer_sim.received.count("0200") == 1


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (Fault(FaultKind.DECLINE, response_code="51"), "余额不足"),
        (Fault(FaultKind.TIMEOUT), "本次未扣款"),
        (Fault(FaultKind.GARBAGE), "本次未扣款"),
        (Fault(FaultKind.CUT), "本次未扣款"),
    ],
)
def test_decline_timeout_garbage_take_nothing_and_a_retry_is_a_new_attempt(
    rig: Rig, fault: Fault, words: str
) -> None:
    at_card_screen(rig)
    first = rig.core.p.card.key
    rig.acquirer_sim.inject(fault.__class__(**{**fault.__dict__, "times": 1}))
    rig.core.swiped(swipe_of(VISA))
    view = rig.core.p.card.view()
    assert view.phase is Phase.FAILED and words in view.words.zh and view.can_retry
    assert rig.acquirer_sim.charged_fen() == 0 and recorded_fen(rig) == 0
    rig.core.press(ScreenName.CARD, rig.core.p.card.retry)
    assert rig.core.p.card.key not in (None, first)
    rig.core.swiped(swipe_of(VISA))
    assert on(rig.core, ScreenName.PAID)
    assert rig.acquirer_sim.charged_fen() == DUE and recorded_fen(rig) == DUE


def test_the_hall_dying_after_the_approval_loses_nothing(rig: Rig) -> None:
    at_card_screen(rig)
    key = rig.core.p.card.key
    rig.hall.down = True
    rig.core.swiped(swipe_of(VISA))
    # Approved, not yet recorded: the screen says so; the kiosk is not "out of service".
    assert on(rig.core, ScreenName.PAID) and rig.core.p.paid.view().recording
    assert rig.acquirer_sim.charged_fen() == DUE and recorded_fen(rig) == 0
    rig.hall.down = False
    rig.run_background("record")  # the screen's own retries
    assert rig.core.p.paid.view().receipt_no == "KP00000001"
    assert recorded_fen(rig) == DUE and rig.acquirer_sim.charged_fen() == DUE
    assert key is not None and rig.payments.journal.get(key).step is Step.RECORDED  # type: ignore[union-attr]


def test_a_lost_answer_is_asked_again_with_the_same_key(rig: Rig) -> None:
    at_card_screen(rig)
    rig.hall.fail_payment_answers = 2  # recorded each time, the answer lost twice
    rig.core.swiped(swipe_of(VISA))
    assert on(rig.core, ScreenName.PAID) and rig.core.p.paid.view().receipt_no
    assert rig.hall.calls.count("record_card_payment") == 3
    assert len(rig.hall.ledger) == 1 and rig.acquirer_sim.charged_fen() == DUE


def test_a_refusal_from_the_hall_gives_the_money_back(rig: Rig) -> None:
    at_card_screen(rig)
    rig.hall.refuse_payments = True
    rig.core.swiped(swipe_of(VISA))
    view = rig.core.p.card.view()
    assert view.phase is Phase.FAILED and "该户已销户" in view.words.zh
    assert rig.acquirer_sim.wait_for(lambda sim: sim.charged_fen() == 0)
    assert recorded_fen(rig) == 0 and "0400" in rig.acquirer_sim.received


def test_restart_after_approval_records_it_once(rig: Rig) -> None:
    at_card_screen(rig)
    key = rig.core.p.card.key
    assert key is not None
    rig.payments.authorise(key, swipe_of(VISA).card)  # type: ignore[union-attr]
    # The kiosk dies here: approved by the bank, never sent to the hall.
    restarted = rig.new_payments()
    recovered = restarted.recover()
    assert [(r.before, r.after) for r in recovered] == [("approved", "confirmed")]
    assert recorded_fen(rig) == DUE and rig.acquirer_sim.charged_fen() == DUE
    assert restarted.journal.get(key).step is Step.RECORDED  # type: ignore[union-attr]


def test_restart_with_the_hall_down_keeps_asking_then_records(rig: Rig) -> None:
    at_card_screen(rig)
    key = rig.core.p.card.key
    assert key is not None
    rig.payments.authorise(key, swipe_of(VISA).card)  # type: ignore[union-attr]
    rig.hall.down = True
    restarted = rig.new_payments()
    assert [(r.before, r.after) for r in restarted.recover()] == []  # left as it is
    assert rig.acquirer_sim.charged_fen() == DUE  # not reversed on a guess
    rig.hall.down = False
    assert restarted.settle_pending() == [Recorded(rig.hall.ledger[key])]
    assert recorded_fen(rig) == DUE and rig.acquirer_sim.charged_fen() == DUE


def test_restart_with_the_hall_refusing_reverses(rig: Rig) -> None:
    at_card_screen(rig)
    key = rig.core.p.card.key
    assert key is not None
    rig.payments.authorise(key, swipe_of(VISA).card)  # type: ignore[union-attr]
    rig.hall.refuse_payments = True
    restarted = rig.new_payments()
    assert [(r.before, r.after) for r in restarted.recover()] == [("approved", "reversed")]
    assert rig.acquirer_sim.charged_fen() == 0 and recorded_fen(rig) == 0
    assert restarted.journal.get(key).step is Step.REFUSED  # type: ignore[union-attr]


def test_restart_sends_the_reversal_a_dying_kiosk_could_not(rig: Rig) -> None:
    at_card_screen(rig)
    key = rig.core.p.card.key
    assert key is not None
    # The 0200 reaches the bank and is approved, but the answer never comes and the kiosk
    # dies before it can reverse (the simulator refuses the reversals of this run).
    rig.acquirer_sim.inject(Fault(FaultKind.TIMEOUT, times=1))
    rig.acquirer_sim.inject(Fault(FaultKind.CUT, booked=False, mtis=frozenset({"0400", "0401"})))
    dying = rig.new_payments(reversal_sends=1)
    outcome = dying.authorise(key, swipe_of(VISA).card)  # type: ignore[union-attr]
    assert type(outcome).__name__ == "Unavailable"
    assert rig.acquirer_sim.charged_fen() == DUE  # booked at the bank, reversal pending
    rig.acquirer_sim.clear_faults()
    restarted = rig.new_payments()
    restarted.recover()
    assert rig.acquirer_sim.charged_fen() == 0 and recorded_fen(rig) == 0


def test_restart_with_an_attempt_that_never_reached_the_bank(rig: Rig) -> None:
    at_card_screen(rig)
    key = rig.core.p.card.key
    restarted = rig.new_payments()
    assert restarted.recover() == []
    assert restarted.journal.get(key).step is Step.NOT_CHARGED  # type: ignore[arg-type, union-attr]


def test_pin_entry_through_the_pin_pad(rig: Rig) -> None:
    at_card_screen(rig)
    rig.pinpad.will_cancel()
    rig.core.swiped(swipe_of(UNIONPAY_PIN))
    assert rig.core.p.card.phase is Phase.SWIPE and rig.core.notice is not None
    assert "取消" in rig.core.notice.zh and "0200" not in rig.acquirer_sim.received
    rig.pinpad.will_type("123456")
    rig.core.swiped(swipe_of(UNIONPAY_PIN))
    assert on(rig.core, ScreenName.PAID)
    assert rig.pinpad.prompts[-1].amount_fen == DUE
    assert rig.acquirer_sim.charged_fen() == DUE


def test_a_wrong_pin_is_a_decline(rig: Rig) -> None:
    at_card_screen(rig)
    rig.pinpad.will_type("000000")
    rig.core.swiped(swipe_of(UNIONPAY_PIN))
    view = rig.core.p.card.view()
    assert view.phase is Phase.FAILED and "密码错误" in view.words.zh
    assert rig.acquirer_sim.charged_fen() == 0


def test_wrong_cards_and_a_lost_reader_at_the_card_screen(rig: Rig) -> None:
    at_card_screen(rig)
    rig.core.swiped(customer_card())
    assert rig.core.notice is not None and "不是银行卡" in rig.core.notice.zh
    rig.core.swipe_failed(CardExpired("expired at the end of 01/2020"))
    assert rig.core.notice is not None and "已过期" in rig.core.notice.zh
    rig.core.reader_lost()
    assert rig.core.notice is not None and "读卡器" in rig.core.notice.zh
    rig.core.reader_back()  # plugged back in: the words go, the screen still waits
    assert rig.core.notice is None and rig.core.p.card.phase is Phase.SWIPE
    rig.core.swiped(swipe_of(VISA))
    assert on(rig.core, ScreenName.PAID) and rig.acquirer_sim.charged_fen() == DUE


def test_leaving_before_swiping_abandons_the_attempt(rig: Rig) -> None:
    at_card_screen(rig)
    key = rig.core.p.card.key
    rig.core.press(ScreenName.CARD, rig.core.p.card.cancel)
    assert on(rig.core, ScreenName.BILL)
    assert rig.payments.journal.get(key).step is Step.NOT_CHARGED  # type: ignore[arg-type, union-attr]
    rig.core.press(ScreenName.BILL, rig.core.p.card.open)
    rig.core.swiped(swipe_of(MASTERCARD))
    assert rig.acquirer_sim.charged_fen() == DUE and recorded_fen(rig) == DUE


def test_paper_out_in_the_middle_of_the_receipt(rig: Rig) -> None:
    at_card_screen(rig)
    # The receipt's bytes go out, then the roll ends: the printer says "paper out" after.
    connection = rig.printer._connection
    original = connection.write

    def write(data: bytes) -> None:
        original(data)
        if len(data) > 100:  # the receipt, not a status query
            rig.printer_sim.paper_out()

    connection.write = write  # type: ignore[method-assign]
    rig.core.swiped(swipe_of(VISA))
    view = rig.core.p.paid.view()
    assert on(rig.core, ScreenName.PAID) and view.receipt_no  # the payment stands
    assert not view.printed and view.can_reprint and view.qr
    assert view.problem is not None and "缺纸" in view.problem.zh
    connection.write = original  # type: ignore[method-assign]
    rig.printer_sim.refill_paper()
    rig.core.tap(ScreenName.PAID, rig.core.p.paid.reprint)
    assert rig.core.p.paid.view().printed
    assert rig.printer_sim.wait_for_receipts(2)


def test_paper_out_before_the_receipt_keeps_the_job_for_a_reprint(rig: Rig) -> None:
    at_card_screen(rig)
    rig.printer_sim.paper_out()
    rig.core.swiped(swipe_of(VISA))
    view = rig.core.p.paid.view()
    assert view.receipt_no and not view.printed and view.qr
    assert len(rig.printer.pending) == 1
    rig.printer_sim.refill_paper()
    rig.core.tap(ScreenName.PAID, rig.core.p.paid.reprint)
    assert rig.core.p.paid.view().printed and rig.printer.pending == []
    assert rig.printer_sim.wait_for_receipts(1)


def test_the_journal_survives_a_restart_and_is_refused_when_corrupt(rig: Rig) -> None:
    at_card_screen(rig)
    rig.core.swiped(swipe_of(VISA))
    folder = rig.tmp / "state" / "payments"
    again = PaymentJournal(folder)
    assert [e.step for e in again.unfinished()] == []
    (folder / "0123456789abcdef.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(Exception, match="0123456789abcdef"):
        PaymentJournal(folder)


def test_record_gives_up_waiting_but_not_recording(rig: Rig) -> None:
    at_card_screen(rig)
    key = rig.core.p.card.key
    assert key is not None
    rig.payments.authorise(key, swipe_of(VISA).card)  # type: ignore[union-attr]
    rig.hall.down = True
    assert rig.payments.record(key, wait_s=0.05) == StillRecording(key)
    rig.hall.down = False
    rig.hall.refuse_payments = True
    outcome = rig.payments.record(key, wait_s=0.05)
    assert isinstance(outcome, Refused) and "销户" in outcome.message_zh
    assert rig.acquirer_sim.wait_for(lambda sim: sim.charged_fen() == 0)
