"""Receipts: exact ESC/POS bytes, status decoding, and printing through the simulator over a pty and TCP."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import ProtocolError
from devices.printer.connection import open_connection
from devices.printer.decode import Cut, EscPosDecoder, Qr, Text
from devices.printer.escpos_bytes import (
    CHINESE_OFF,
    CHINESE_ON,
    INIT,
    PARTIAL_CUT_WITH_FEED,
    receipt_bytes,
)
from devices.printer.printer import PrintFailed, ReceiptPrinter
from devices.printer.receipts import (
    FaultReportInfo,
    PaymentInfo,
    TicketInfo,
    fault_report_receipt,
    payment_receipt,
    queue_ticket,
)
from devices.printer.simulator import PrinterSimulator
from devices.printer.status import Paper, PrinterStatus, encode_status, parse_status

TICKET = TicketInfo(
    "A023",
    "缴费",
    "Bill payment",
    5,
    12,
    "西城营业厅",
    "Xicheng Service Hall",
    datetime(2026, 11, 22, 9, 30),
    "https://hall.invalid/t/A023",
)
PAYMENT = PaymentInfo(
    "XC000001234",
    "王伟",
    "2026-10",
    "¥123.45",
    "411111******1111",
    "PAY1234ABCD",
    "西城营业厅",
    "Xicheng Service Hall",
    datetime(2026, 11, 22, 9, 42),
    "https://hall.invalid/p/1",
)


@pytest.mark.unit
def test_ticket_bytes_frame_and_chinese() -> None:
    data = receipt_bytes(queue_ticket(TICKET))
    assert data.startswith(INIT)
    assert data.endswith(PARTIAL_CUT_WITH_FEED)  # GS V 66 0
    # Chinese goes as GB18030 inside the printer's Chinese mode.
    assert CHINESE_ON + "西城营业厅".encode("gb18030") + CHINESE_OFF in data
    assert b"\x1d(k" in data  # native QR (GS ( k)


@pytest.mark.unit
def test_decoder_reads_back_what_we_print() -> None:
    events = EscPosDecoder().feed(receipt_bytes(queue_ticket(TICKET)))
    texts = [e for e in events if isinstance(e, Text)]
    assert any(t.text == "A023" and t.size == 4 and t.bold and t.align == "center" for t in texts)
    assert any("您前面还有 5 人" in t.text for t in texts)
    assert [e.data for e in events if isinstance(e, Qr)] == ["https://hall.invalid/t/A023"]
    assert isinstance(events[-1], Cut)


@pytest.mark.unit
def test_decoder_handles_any_split_of_the_stream() -> None:
    data = receipt_bytes(payment_receipt(PAYMENT))
    whole = EscPosDecoder().feed(data)
    for cut in (1, 7, 100, len(data) - 3):
        decoder = EscPosDecoder()
        decoder.feed(data[:cut])
        decoder.feed(data[cut:])
        assert decoder.events == whole


@pytest.mark.unit
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_decoder_never_crashes_on_random_bytes(data: bytes) -> None:
    EscPosDecoder().feed(data)


@pytest.mark.unit
def test_payment_receipt_refuses_an_unmasked_card() -> None:
    with pytest.raises(ValueError, match="masked"):
        payment_receipt(PaymentInfo(**{**PAYMENT.__dict__, "card_masked": "4111111111111111"}))


@pytest.mark.unit
@pytest.mark.parametrize(
    "status",
    [
        PrinterStatus(True, False, Paper.OK, False),
        PrinterStatus(True, False, Paper.NEAR_END, False),
        PrinterStatus(True, False, Paper.OUT, False),
        PrinterStatus(False, True, Paper.OK, False),
        PrinterStatus(True, False, Paper.OK, True),
    ],
)
def test_status_bytes_round_trip(status: PrinterStatus) -> None:
    assert parse_status(*encode_status(status)) == status


@pytest.mark.unit
def test_status_health_states_are_distinct() -> None:
    reasons = {
        parse_status(*encode_status(s)).health
        for s in (
            PrinterStatus(True, False, Paper.OUT, False),
            PrinterStatus(True, False, Paper.NEAR_END, False),
            PrinterStatus(True, True, Paper.OK, False),
            PrinterStatus(False, False, Paper.OK, False),
        )
    }
    assert {r for _, r in reasons} == {
        "paper out",
        "paper near end",
        "cover open",
        "printer offline",
    }


@pytest.mark.unit
@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
def test_status_bytes_fuzz(a: int, b: int, c: int) -> None:
    with contextlib.suppress(ProtocolError):
        parse_status(a, b, c)


@pytest.fixture(params=["pty", "tcp"])
def rig(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[PrinterSimulator, ReceiptPrinter]]:
    simulator = PrinterSimulator(tmp_path / "paper", transport=request.param)
    printer = ReceiptPrinter(open_connection(simulator.url), spool_dir=tmp_path / "spool")
    yield simulator, printer
    printer.close()
    simulator.close()


@pytest.mark.integration
def test_receipts_print_and_render(rig: tuple[PrinterSimulator, ReceiptPrinter]) -> None:
    simulator, printer = rig
    printer.print_receipt(queue_ticket(TICKET))
    printer.print_receipt(
        fault_report_receipt(
            FaultReportInfo(
                "WO-20261122-0007",
                "爆管",
                "Burst main",
                "北京市西城区金融大街 7 号",
                "西城营业厅",
                datetime(2026, 11, 22, 10, 5),
                "https://hall.invalid/w/7",
            )
        )
    )
    assert simulator.wait_for_receipts(2)
    text = (simulator.out_dir / "receipt-001.txt").read_text(encoding="utf-8")
    assert (
        "A023" in text and "您前面还有 5 人" in text and "[QR https://hall.invalid/t/A023]" in text
    )
    assert (simulator.out_dir / "receipt-001.png").stat().st_size > 1000
    assert "WO-20261122-0007" in (simulator.out_dir / "receipt-002.txt").read_text(encoding="utf-8")


@pytest.mark.integration
def test_paper_out_is_reported_kept_and_retried(
    rig: tuple[PrinterSimulator, ReceiptPrinter],
) -> None:
    simulator, printer = rig
    simulator.paper_out()
    with pytest.raises(PrintFailed) as caught:
        printer.print_receipt(payment_receipt(PAYMENT))
    assert caught.value.reason == "paper out" and "缺纸" in caught.value.message_zh
    assert printer.health.state.value == "fault"
    assert len(printer.pending) == 1
    assert not simulator.wait_for_receipts(1, timeout_s=0.3)  # nothing was printed
    simulator.refill_paper()
    printer.retry(caught.value.job_id)
    assert simulator.wait_for_receipts(1)
    assert printer.pending == []


@pytest.mark.integration
def test_cover_open_and_near_end(rig: tuple[PrinterSimulator, ReceiptPrinter]) -> None:
    simulator, printer = rig
    simulator.open_cover()
    with pytest.raises(PrintFailed, match="cover open"):
        printer.print_receipt(queue_ticket(TICKET))
    simulator.open_cover(False)
    simulator.paper_near_end()
    printer.print_receipt(queue_ticket(TICKET))  # still prints, but says so
    assert printer.health.state.value == "degraded" and printer.health.reason == "paper near end"


@pytest.mark.integration
def test_failed_jobs_survive_a_restart(tmp_path: Path) -> None:
    simulator = PrinterSimulator(tmp_path / "paper")
    simulator.paper_out()
    printer = ReceiptPrinter(open_connection(simulator.url), spool_dir=tmp_path / "spool")
    with pytest.raises(PrintFailed):
        printer.print_receipt(queue_ticket(TICKET))
    printer.close()
    simulator.refill_paper()
    again = ReceiptPrinter(open_connection(simulator.url), spool_dir=tmp_path / "spool")
    assert [job.kind for job in again.pending] == ["ticket"]
    again.retry_all()
    assert simulator.wait_for_receipts(1)
    again.close()
    simulator.close()


@pytest.mark.integration
def test_silent_printer_is_degraded_not_a_hang(tmp_path: Path) -> None:
    simulator = PrinterSimulator(tmp_path / "paper")
    simulator.answers_status = False
    printer = ReceiptPrinter(open_connection(simulator.url), status_timeout_s=0.2)
    printer.print_receipt(queue_ticket(TICKET))
    assert printer.health.reason == "printer does not answer status queries"
    assert simulator.wait_for_receipts(1)
    printer.close()
    simulator.close()


@pytest.mark.integration
def test_unplugged_printer_keeps_the_job(tmp_path: Path) -> None:
    simulator = PrinterSimulator(tmp_path / "paper")
    printer = ReceiptPrinter(open_connection(simulator.url))
    printer.status()
    simulator.unplug()
    with pytest.raises(PrintFailed):
        printer.print_receipt(queue_ticket(TICKET))
    assert len(printer.pending) == 1 and printer.health.state.value == "fault"
    printer.close()
    simulator.close()


@pytest.mark.integration
def test_file_printer_writes_bytes(tmp_path: Path) -> None:
    out = tmp_path / "lp0"
    printer = ReceiptPrinter(open_connection(f"file://{out}"))
    printer.print_receipt(queue_ticket(TICKET))
    assert out.read_bytes() == receipt_bytes(queue_ticket(TICKET))
    assert printer.health.state.value == "degraded"  # cannot report paper status


@pytest.mark.integration
@pytest.mark.parametrize("transport", ["pty", "tcp"])
def test_a_slow_printer_is_degraded_and_its_late_answers_are_not_misread(
    tmp_path: Path, transport: str
) -> None:
    simulator = PrinterSimulator(tmp_path / "paper", transport=transport)
    printer = ReceiptPrinter(open_connection(simulator.url), status_timeout_s=0.2)
    try:
        simulator.answer_delay_s = 0.5
        assert printer.status() is None
        assert printer.health.reason == "printer does not answer status queries"
        simulator.answer_delay_s = 0.0
        simulator.paper_out()
        time.sleep(1.0)  # the late answers (paper OK) have arrived by now
        status = printer.status()
        assert status is not None and status.paper is Paper.OUT  # its own answer, not a stale one
    finally:
        printer.close()
        simulator.close()


@pytest.mark.integration
def test_garbage_status_is_a_protocol_error_and_the_job_is_kept(tmp_path: Path) -> None:
    simulator = PrinterSimulator(tmp_path / "paper")
    simulator.garbage_status = True
    printer = ReceiptPrinter(open_connection(simulator.url), status_timeout_s=0.3)
    try:
        with pytest.raises(PrintFailed):
            printer.print_receipt(queue_ticket(TICKET))
        assert len(printer.pending) == 1 and printer.health.state.value == "fault"
    finally:
        printer.close()
        simulator.close()
