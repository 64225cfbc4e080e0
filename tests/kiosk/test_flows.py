"""The kiosk's errands, screen by screen, through the presenters (no window): tickets,
check-in, accounts, QR payments, proof and records, reports, outages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial

import pytest

from devices.cardreader.simulator import VISA
from kiosk.presenters.records import Tab
from kiosk.presenters.ticket import CheckinMode
from kiosk.screens import Purpose, ScreenName
from servicehall.hall.api.kiosk_schemas import ReportCategory, ReportIn, ReportKind, ReportOut
from servicehall.hall.api.schemas import PriorityReason
from servicehall.hall.client import HallClientError
from tests.kiosk.fakes import ACCOUNT, APPOINTMENT, NOW, SMS_CODE
from tests.kiosk.rig import Rig, customer_card, on, swipe_of, vip_card

pytestmark = pytest.mark.integration  # the printer is a simulator on a pty


def type_keys(rig: Rig, screen: ScreenName, keys: str, press: Callable[[str], None]) -> None:
    for key in keys:
        assert rig.core.press(screen, partial(press, key))


def receipt(rig: Rig, number: int) -> str:
    assert rig.printer_sim.wait_for_receipts(number)
    return (rig.tmp / "paper" / f"receipt-{number:03d}.txt").read_text(encoding="utf-8")


# --- tickets ----------------------------------------------------------------------------
def test_take_a_ticket_and_get_it_printed_with_its_qr(rig: Rig) -> None:
    core = rig.core
    core.beat()
    core.tap(ScreenName.HOME, lambda: core.p.home.choose("ticket"))
    view = core.p.ticket.view()
    assert [(c.code, c.waiting.zh, c.wait.zh) for c in view.categories][:2] == [
        ("payment", "等候 3 人", "约 9 分钟"),
        ("repair_complaint", "等候 1 人", "约 3 分钟"),
    ]
    assert view.printer_problem is None
    core.tap(ScreenName.TICKET, lambda: core.p.ticket.choose("payment"))
    done = core.p.ticket_done.view()
    assert done is not None and done.number == "A001" and done.printed
    ticket = rig.hall.tickets[0]
    assert done.qr == f"http://hall.invalid/t/{ticket.ticket_id}"
    text = receipt(rig, 1)
    assert "A001" in text and f"[QR http://hall.invalid/t/{ticket.ticket_id}]" in text
    assert "西城营业厅" in text and "您前面还有 3 人" in text


def test_out_of_paper_is_said_before_choosing_and_the_ticket_shown_as_a_qr(rig: Rig) -> None:
    core = rig.core
    rig.printer_sim.paper_out()
    core.beat()
    assert any("缺纸" in b.zh for b in core.p.home.view().banners)
    core.tap(ScreenName.HOME, lambda: core.p.home.choose("ticket"))
    problem = core.p.ticket.view().printer_problem
    assert problem is not None and "缺纸" in problem.zh and "QR" in problem.en
    core.tap(ScreenName.TICKET, lambda: core.p.ticket.choose("payment"))
    done = core.p.ticket_done.view()
    assert (
        done is not None
        and not done.printed
        and done.qr.endswith(str(rig.hall.tickets[0].ticket_id))
    )
    assert rig.printer_sim.receipts == []


def test_appointment_check_in_on_the_letter_keypad(rig: Rig) -> None:
    core = rig.core
    core.tap(ScreenName.HOME, lambda: core.p.home.choose("ticket"))
    core.press(ScreenName.TICKET, lambda: core.p.checkin.open(CheckinMode.APPOINTMENT))
    type_keys(rig, ScreenName.CHECKIN, APPOINTMENT, core.p.checkin.key)
    assert core.p.checkin.view().entry == APPOINTMENT
    core.press(ScreenName.CHECKIN, core.p.checkin.submit)
    priority = core.p.ticket.view().priority
    assert on(core, ScreenName.TICKET) and priority is not None and APPOINTMENT in priority.zh
    core.tap(ScreenName.TICKET, lambda: core.p.ticket.choose("payment"))
    assert on(core, ScreenName.TICKET_DONE) and rig.hall.tickets[-1].people_ahead == 0


def test_a_wrong_appointment_code_is_refused_in_words(rig: Rig) -> None:
    core = rig.core
    core.tap(ScreenName.HOME, lambda: core.p.home.choose("ticket"))
    core.p.ticket.set_priority(PriorityReason.APPOINTMENT, "ZZZZ99")
    core.tap(ScreenName.TICKET, lambda: core.p.ticket.choose("payment"))
    assert on(core, ScreenName.TICKET) and core.notice is not None
    assert core.notice.zh == "预约码无效" and core.p.ticket.view().priority is None


def test_a_vip_card_swiped_at_check_in(rig: Rig) -> None:
    core = rig.core
    core.tap(ScreenName.HOME, lambda: core.p.home.choose("ticket"))
    core.press(ScreenName.TICKET, lambda: core.p.checkin.open(CheckinMode.VIP))
    core.swiped(swipe_of(VISA))
    assert on(core, ScreenName.CHECKIN) and core.notice is not None and "贵宾卡" in core.notice.zh
    core.swiped(vip_card())
    assert on(core, ScreenName.TICKET)
    core.tap(ScreenName.TICKET, lambda: core.p.ticket.choose("vip"))
    assert on(core, ScreenName.TICKET_DONE)


def test_elderly_priority_is_declared(rig: Rig) -> None:
    core = rig.core
    core.tap(ScreenName.HOME, lambda: core.p.home.choose("ticket"))
    core.press(ScreenName.TICKET, core.p.ticket.toggle_elderly)
    assert core.p.ticket.view().elderly_priority
    core.tap(ScreenName.TICKET, lambda: core.p.ticket.choose("payment"))
    assert rig.hall.tickets[-1].people_ahead == 0


# --- accounts and bills -------------------------------------------------------------------
def enter_account(rig: Rig, purpose: Purpose, number: str = ACCOUNT) -> None:
    core = rig.core
    core.tap(ScreenName.HOME, lambda: core.p.account.open(purpose))
    type_keys(rig, ScreenName.ACCOUNT, number[2:], core.p.account.key)
    core.tap(ScreenName.ACCOUNT, core.p.account.submit)


def test_a_non_existent_account_is_said_so(rig: Rig) -> None:
    enter_account(rig, Purpose.PAY, "XC999999999")
    notice = rig.core.notice
    assert on(rig.core, ScreenName.ACCOUNT) and notice is not None
    assert notice.zh == "未找到户号 XC999999999，请核对后重新输入"


def test_the_bill_shows_the_name_masked_and_the_address_partly_hidden(rig: Rig) -> None:
    enter_account(rig, Purpose.PAY)
    view = rig.core.p.bill.view()
    assert (view.holder, view.address, view.due) == ("王*", "北京市西城区阜成门内大街***", "¥94.00")
    assert [(b.period, b.due) for b in view.bills] == [("2026-09", "¥42.30"), ("2026-10", "¥51.70")]
    rig.reader.unplug()
    assert not rig.core.p.bill.view().can_card
    assert rig.core.p.bill.view().card_unavailable is not None


def test_no_countdown_when_the_clocks_disagree(rig: Rig) -> None:
    enter_account(rig, Purpose.PAY)
    rig.core.clock = lambda: NOW - timedelta(hours=9)  # the kiosk's clock is off by hours
    rig.core.tap(ScreenName.BILL, rig.core.p.qr.open)
    view = rig.core.p.qr.view()
    assert view.seconds_left is None and view.qr is not None  # the hall decides expiry


def test_pay_by_qr(rig: Rig) -> None:
    enter_account(rig, Purpose.PAY)
    core = rig.core
    core.tap(ScreenName.BILL, core.p.qr.open)
    view = core.p.qr.view()
    order_id = next(iter(rig.hall.qr_orders))
    assert on(core, ScreenName.QR) and view.qr is not None and view.amount == "¥94.00"
    assert view.seconds_left == 300  # the order's five minutes, counted on the kiosk
    rig.clock.now += 301
    assert core.p.qr.view().state.value == "expired" and core.p.qr.view().qr is None
    rig.clock.now -= 301
    assert core.p.qr.poll_once()  # still pending
    rig.hall.pay_qr(order_id)
    assert not core.p.qr.poll_once()
    paid = core.p.paid.view()
    assert on(core, ScreenName.PAID) and paid.receipt_no == "QP000001" and paid.printed
    text = receipt(rig, 1)
    assert "扫码支付 QR payment" in text and "￥94.00" in text


# --- proof and records --------------------------------------------------------------------
def test_bills_after_an_sms_code_which_is_never_kept(rig: Rig) -> None:
    enter_account(rig, Purpose.RECORDS)
    core = rig.core
    assert on(core, ScreenName.PROOF)
    core.tap(ScreenName.PROOF, core.p.proof.send_code)
    assert core.p.proof.view().phone == "138****8000"
    type_keys(rig, ScreenName.PROOF, "111111", core.p.proof.key)
    core.tap(ScreenName.PROOF, core.p.proof.submit)
    assert on(core, ScreenName.PROOF) and core.notice is not None
    assert core.p.proof.view().entry == ""  # a wrong code is not left on the screen
    type_keys(rig, ScreenName.PROOF, SMS_CODE, core.p.proof.key)
    assert core.p.proof.view().entry == "••••••"
    core.tap(ScreenName.PROOF, core.p.proof.submit)
    assert on(core, ScreenName.RECORDS) and core.p.proof.buffer.value == ""


def test_a_customer_card_is_account_and_proof_at_once(rig: Rig) -> None:
    core = rig.core
    core.tap(ScreenName.HOME, lambda: core.p.account.open(Purpose.RECORDS))
    core.swiped(swipe_of(VISA))
    assert core.notice is not None and "用户卡" in core.notice.zh
    core.swiped(customer_card())
    assert on(core, ScreenName.RECORDS)
    assert rig.hall.calls[-4:] == ["account", "verify", "bills", "payments"]


def test_a_customer_card_of_another_account_at_the_proof_screen(rig: Rig) -> None:
    enter_account(rig, Purpose.RECORDS)
    rig.core.swiped(customer_card(account_no="XC000000043"))
    assert on(rig.core, ScreenName.PROOF) and rig.core.notice is not None


def test_records_show_usage_tiers_payments_and_arrears(rig: Rig) -> None:
    core = rig.core
    core.tap(ScreenName.HOME, lambda: core.p.account.open(Purpose.RECORDS))
    core.swiped(customer_card())
    bills = core.p.records.view()
    assert len(bills.bars) == 12 and len(bills.rows) == 12
    assert [b.label.en for b in bills.bars][-2:] == ["Sep", "Oct"]  # oldest first
    assert max(b.share for b in bills.bars) == 1.0
    assert bills.holder == "王伟"
    core.press(ScreenName.RECORDS, lambda: core.p.records.show(Tab.TIERS))
    tiers = core.p.records.view()
    assert next(r.cells[1] for r in tiers.rows).zh == "0.0–180.0 m³"  # type: ignore[union-attr]
    assert "第 1 阶梯" in tiers.summary.zh
    core.press(ScreenName.RECORDS, lambda: core.p.records.show(Tab.ARREARS))
    arrears = core.p.records.view()
    assert len(arrears.rows) == 2 and "¥94.00" in arrears.summary.zh
    core.press(ScreenName.RECORDS, lambda: core.p.records.show(Tab.PAYMENTS))
    assert core.p.records.view().summary.en == "No payments yet"


# --- reports and outages ------------------------------------------------------------------
def test_a_burst_pipe_at_a_street_while_the_hall_goes_down(rig: Rig) -> None:
    core = rig.core
    core.beat()
    core.tap(ScreenName.HOME, lambda: core.p.home.choose("report"))
    core.press(ScreenName.REPORT, lambda: core.p.report.set_kind(ReportKind.REPAIR))
    core.tap(ScreenName.REPORT, lambda: core.p.report.choose(ReportCategory.BURST_MAIN))
    assert on(core, ScreenName.PLACE)
    core.press(ScreenName.PLACE, lambda: core.p.place.pick_district("DMA-01"))
    assert [s for s, _ in core.p.place.view().streets] == ["ST-0101", "ST-0102"]
    core.tap(ScreenName.PLACE, lambda: core.p.place.pick_street("ST-0101"))
    assert on(core, ScreenName.PHONE)
    type_keys(rig, ScreenName.PHONE, "1380013800", core.p.report.key_phone)
    core.press(ScreenName.PHONE, core.p.report.phone_done)
    assert on(core, ScreenName.PHONE) and core.notice is not None  # ten digits
    type_keys(rig, ScreenName.PHONE, "0", core.p.report.key_phone)
    core.press(ScreenName.PHONE, core.p.report.phone_done)
    assert on(core, ScreenName.DETAILS)
    core.press(ScreenName.DETAILS, lambda: core.p.report.toggle_detail("spraying"))
    details = core.p.report.details_view()
    assert details.summary[2][1] == "138****8000"
    assert ("spraying", details.options[0][1], True) == details.options[0]
    rig.hall.down = True
    core.tap(ScreenName.DETAILS, core.p.report.send)
    assert on(core, ScreenName.OUT_OF_SERVICE) and rig.hall.reports == {}
    # The hall comes back; the customer starts again and the report goes through once.
    rig.hall.down = False
    core.beat()
    assert on(core, ScreenName.HOME)


def test_a_report_retried_after_a_lost_answer_opens_one_order(rig: Rig) -> None:
    core = rig.core
    core.tap(ScreenName.HOME, lambda: core.p.home.choose("report"))
    core.tap(ScreenName.REPORT, lambda: core.p.report.choose(ReportCategory.LEAK))
    core.tap(ScreenName.PLACE, core.p.place.my_account)
    type_keys(rig, ScreenName.ACCOUNT, ACCOUNT[2:], core.p.account.key)
    core.tap(ScreenName.ACCOUNT, core.p.account.submit)
    assert on(core, ScreenName.PHONE)
    type_keys(rig, ScreenName.PHONE, "13800138000", core.p.report.key_phone)
    core.press(ScreenName.PHONE, core.p.report.phone_done)
    key_before = core.p.report.key
    original = rig.hall.report

    def lose_answer(report: ReportIn) -> ReportOut:
        original(report)
        raise HallClientError("POST /kiosk/reports: unexpected answer: garbled")

    rig.hall.report = lose_answer  # type: ignore[method-assign]
    core.tap(ScreenName.DETAILS, core.p.report.send)
    assert on(core, ScreenName.DETAILS) and key_before is None and core.p.report.key
    rig.hall.report = original  # type: ignore[method-assign]
    core.tap(ScreenName.DETAILS, core.p.report.send)
    done = core.p.report.done_view()
    assert on(core, ScreenName.REPORT_DONE) and done is not None
    assert len(rig.hall.reports) == 1 and done.order_no == "WO202611230001"
    text = receipt(rig, 1)
    assert "报修回执" in text and "WO202611230001" in text and "漏水 Leak" in text


def test_outages_near_a_street_and_near_my_address(rig: Rig) -> None:
    core = rig.core
    core.tap(ScreenName.HOME, lambda: core.p.home.choose("outages"))
    core.press(ScreenName.PLACE, lambda: core.p.place.pick_district("DMA-01"))
    core.tap(ScreenName.PLACE, lambda: core.p.place.pick_street("ST-0101"))
    view = core.p.outages.view()
    assert on(core, ScreenName.OUTAGES) and view.where.zh == "金融大街"
    row = view.rows[0]
    assert row.kind.zh == "停水" and row.restore.zh == "预计 11-23 14:00 恢复"
    core.reset()
    core.tap(ScreenName.HOME, lambda: core.p.home.choose("outages"))
    core.tap(ScreenName.PLACE, core.p.place.my_account)
    type_keys(rig, ScreenName.ACCOUNT, ACCOUNT[2:], core.p.account.key)
    core.tap(ScreenName.ACCOUNT, core.p.account.submit)
    assert on(core, ScreenName.OUTAGES) and core.p.outages.view().where.en == "your address"
