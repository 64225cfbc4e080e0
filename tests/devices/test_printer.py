"""Receipts: exact ESC/POS bytes, status decoding, and printing through the simulator over a pty and TCP."""

from __future__ import annotations

import contextlib
import os
import shlex
import stat
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from escpos.printer import Dummy
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
    qr_code,
    receipt_bytes,
)
from devices.printer.printer import PrintFailed, ReceiptPrinter
from devices.printer.receipts import (
    FaultReportInfo,
    PaperWidth,
    PaymentInfo,
    Receipt,
    TicketInfo,
    fault_report_receipt,
    mask_name,
    payment_receipt,
    queue_ticket,
)
from devices.printer.receipts import (
    test_page as printer_test_page,
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
    "https://hall.invalid/t/0190d2c4-7c2e-7e11-9a3b-5f0c1d2e3f40",
)
PAYMENT = PaymentInfo(
    "XC000001234",
    "欧阳娜娜",
    "2026-10",
    "¥123.45",
    "411111******1111",
    "PAY1234ABCD",
    "西城营业厅",
    "Xicheng Service Hall",
    datetime(2026, 11, 22, 9, 42),
    "https://hall.invalid/p/PAY1234ABCD",
)
FAULT = FaultReportInfo(
    "WO-20261122-0007",
    "爆管",
    "Burst main",
    "北京市西城区金融大街 7 号",
    "西城营业厅",
    datetime(2026, 11, 22, 10, 5),
    "https://hall.invalid/w/WO-20261122-0007",
)
GOLDEN = Path(__file__).parent.parent / "fixtures" / "receipts"
_BYTES = {"ESC": 0x1B, "GS": 0x1D, "FS": 0x1C, "LF": 0x0A}


def golden(name: str) -> bytes:
    """Assemble a hand-written frame (tests/fixtures/receipts/*.escpos.txt) into bytes."""
    out = bytearray()
    for line in (GOLDEN / f"{name}.escpos.txt").read_text(encoding="utf-8").splitlines():
        lexer = shlex.shlex(line, posix=False)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        for token in lexer:
            if token.startswith('"'):
                out += token[1:-1].encode("gb18030")
            elif token in _BYTES:
                out.append(_BYTES[token])
            elif token[0].isdigit():
                out.append(int(token, 0))
            else:
                out += token.encode("ascii")  # a command letter: a E ! & . ( k V @
    return bytes(out)


TEMPLATES: dict[str, Receipt] = {
    "queue-ticket-80mm": queue_ticket(TICKET),
    "payment-receipt-80mm": payment_receipt(PAYMENT),
    "fault-report-80mm": fault_report_receipt(FAULT),
    "test-page-58mm": printer_test_page(datetime(2026, 11, 22, 8, 0), paper=PaperWidth.MM58),
}


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_each_template_is_its_hand_written_golden_frame(name: str) -> None:
    assert receipt_bytes(TEMPLATES[name]) == golden(name)


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_chinese_run_is_printable_by_a_gbk_only_printer(name: str) -> None:
    data = receipt_bytes(TEMPLATES[name])
    runs = [part.split(CHINESE_OFF)[0] for part in data.split(CHINESE_ON)[1:]]
    assert runs
    for run in runs:
        run.decode("gbk")  # strict: a GB18030-only code (¥ as 81 30 84 36) would fail here
    assert b"\x81\x30\x84\x36" not in data


@pytest.mark.unit
def test_the_yuan_sign_goes_as_fullwidth_a3a4() -> None:
    data = receipt_bytes(payment_receipt(PAYMENT))
    assert CHINESE_ON + "金额 Amount: ".encode("gbk") + b"\xa3\xa4123.45" + CHINESE_OFF in data


@pytest.mark.unit
def test_the_qr_code_is_what_python_escpos_sends_for_a_native_qr() -> None:
    printer = Dummy()
    printer.qr(TICKET.track_url, native=True, size=6)
    assert qr_code(TICKET.track_url) == printer.output


@pytest.mark.unit
@pytest.mark.parametrize(("paper", "columns"), [(PaperWidth.MM58, 32), (PaperWidth.MM80, 48)])
def test_rules_span_the_paper(paper: PaperWidth, columns: int) -> None:
    rules = [
        line.text for line in queue_ticket(TICKET, paper=paper).lines if set(line.text) == {"-"}
    ]
    assert rules == ["-" * columns] * 2


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "shown"),
    [("王伟", "王*"), ("欧阳娜娜", "欧***"), ("Wang Wei", "W*** ***"), ("李", "李"), ("", "")],
)
def test_names_are_masked(name: str, shown: str) -> None:
    assert mask_name(name) == shown


@pytest.mark.unit
def test_the_payment_receipt_masks_the_name_itself() -> None:
    texts = [line.text for line in payment_receipt(PAYMENT).lines]
    assert "户名 Name: 欧***" in texts and not any("娜" in text for text in texts)


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
    assert [e.data for e in events if isinstance(e, Qr)] == [TICKET.track_url]
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
@pytest.mark.parametrize(
    ("card", "accepted"),
    [
        ("411111******1111", True),
        ("622202*********1234", True),  # 19 digits
        ("4111111111111111", False),  # the full PAN
        ("4111111111******11", False),  # more than BIN + last four
        ("411111******11111", False),
        ("4111111*****1111", False),
        ("411111******111", False),
        ("411111 ******1111", False),
        ("", False),
    ],
)
def test_payment_receipt_takes_bin_and_last_four_only(card: str, accepted: bool) -> None:
    info = PaymentInfo(**{**PAYMENT.__dict__, "card_masked": card})
    if accepted:
        payment_receipt(info)
    else:
        with pytest.raises(ValueError, match="masked"):
            payment_receipt(info)


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
    assert "A023" in text and "您前面还有 5 人" in text and f"[QR {TICKET.track_url}]" in text
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
    assert out.read_bytes() == golden("queue-ticket-80mm")
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
        # The one question asked got no answer in time; its late answer (paper OK) is sent.
        assert simulator.wait_for_status_answers(1)
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


class _RacyPrinter:
    """A test transport that holds its first status answer back until some other write
    comes (or a short while passes): without one lock over query and job, another thread's
    bytes land between this thread's status question and its answer."""

    description = "racy test printer"
    can_read = True

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []
        self.reading = threading.Event()
        self._written = threading.Event()
        self._first = True
        self._lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self._lock:
            self.log.append((threading.current_thread().name, "job" if len(data) > 3 else "ask"))
        self._written.set()

    def read(self, size: int, timeout_s: float) -> bytes:
        with self._lock:
            first, self._first = self._first, False
        if first:
            self._written.clear()
            self.reading.set()
            self._written.wait(0.5)  # someone else's write, unless a lock keeps it out
        with self._lock:
            self.log.append((threading.current_thread().name, "answer"))
        return b"\x12"  # DLE EOT answer with only the fixed bits: online, no fault, paper ok

    def close(self) -> None:
        pass


@pytest.mark.unit
def test_one_lock_covers_the_status_query_and_the_write() -> None:
    connection = _RacyPrinter()
    printer = ReceiptPrinter(connection)
    first = threading.Thread(target=printer.print_receipt, args=(queue_ticket(TICKET),), name="a")
    second = threading.Thread(target=printer.print_receipt, args=(queue_ticket(TICKET),), name="b")
    first.start()
    assert connection.reading.wait(5)
    second.start()
    first.join(5)
    second.join(5)
    threads = [name for name, _ in connection.log]
    assert threads == ["a"] * 7 + ["b"] * 7  # 3 questions, 3 answers, the job; never mixed
    assert [what for _, what in connection.log[:7]] == ["ask", "answer"] * 3 + ["job"]


@pytest.mark.unit
def test_the_spool_fsyncs_each_job_and_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        mode = os.fstat(fd).st_mode
        synced.append("folder" if stat.S_ISDIR(mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    printer = ReceiptPrinter(
        open_connection(f"file://{tmp_path / 'lp0'}"), spool_dir=tmp_path / "spool"
    )
    printer.print_receipt(queue_ticket(TICKET))
    # Kept: the job file, then the folder with its new name; printed: the folder again.
    assert synced == ["file", "folder", "folder"]
    assert list((tmp_path / "spool").iterdir()) == []


@pytest.mark.unit
def test_a_job_cut_off_by_a_power_loss_is_not_printed_later(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "0000000000000001--ticket.partial").write_bytes(b"\x1b@half a rece")
    (spool / "0000000000000002--ticket.escpos").write_bytes(golden("queue-ticket-80mm"))
    printer = ReceiptPrinter(open_connection(f"file://{tmp_path / 'lp0'}"), spool_dir=spool)
    assert [job.job_id for job in printer.pending] == ["0000000000000002"]
    assert not list(spool.glob("*.partial"))
