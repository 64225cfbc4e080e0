"""After swipes and a payment-receipt print, no full PAN or track data is in any log or file."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from devices.cardreader.errors import CardReadError
from devices.cardreader.reader import MagstripeSerialReader
from devices.cardreader.simulator import EXPIRED, MASTERCARD, VISA, CardReaderSimulator, SimCard
from devices.printer.connection import open_connection
from devices.printer.printer import ReceiptPrinter
from devices.printer.receipts import PaymentInfo, payment_receipt
from devices.printer.simulator import PrinterSimulator

pytestmark = pytest.mark.integration

SECRETS = [
    VISA.pan,
    MASTERCARD.pan,
    VISA.track1(),
    VISA.track2(),
    MASTERCARD.track2(),
    VISA.track2()[1:-1],
    f"{VISA.pan}={VISA.expiry}",
    f"{VISA.pan}^",
]


def test_no_pan_or_track_data_in_logs_or_files(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log_file = tmp_path / "run.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        reader_sim = CardReaderSimulator(tmp_path)
        reader = MagstripeSerialReader(reader_sim.path, today=lambda: date(2026, 11, 22))
        reader.open()
        cards = []
        swipes: list[tuple[SimCard, dict[str, Any]]] = [
            (VISA, {}),
            (MASTERCARD, {"tracks": (2,)}),
            (VISA, {"bad_lrc": True}),
            (EXPIRED, {}),
        ]
        for card, kwargs in swipes:
            reader_sim.swipe(card, **kwargs)
            try:
                swiped = reader.read_card(timeout_s=3)
            except CardReadError as err:
                logging.getLogger("test").warning("swipe refused: %s", err)
                continue
            assert swiped is not None
            logging.getLogger("test").info("paying with %s", swiped)
            cards.append(swiped)
        reader.close()
        reader_sim.close()
        assert len(cards) == 2

        printer_sim = PrinterSimulator(tmp_path / "paper")
        printer = ReceiptPrinter(open_connection(printer_sim.url), spool_dir=tmp_path / "spool")
        summary = cards[0].summary
        printer.print_receipt(
            payment_receipt(
                PaymentInfo(
                    "XC000001234",
                    "王伟",
                    "2026-10",
                    "¥123.45",
                    summary.masked_pan,
                    "PAY1",
                    "西城营业厅",
                    "Xicheng Service Hall",
                    datetime(2026, 11, 22, 9, 42),
                    "https://hall.invalid/p/1",
                )
            )
        )
        assert printer_sim.wait_for_receipts(1)
        printer.close()
        printer_sim.close()
    finally:
        root.removeHandler(handler)
        handler.close()

    receipt = (tmp_path / "paper" / "receipt-001.txt").read_text(encoding="utf-8")
    assert "411111******1111" in receipt  # the masked form is what is printed
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert log_file in written and any(p.suffix == ".png" for p in written)
    for path in written:
        content = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in content, f"{secret[:6]}… found in {path.name}"
    for secret in SECRETS:
        assert secret not in caplog.text
