"""A card payment at the kiosk end to end, minus the acquirer simulator's own delay
(goal p95 ≤ 1 s).

    .venv/bin/python bench/kiosk_card_payment.py [--payments N] [--delay-ms D]

The real app (SDL2 offscreen, 30 frames a second) on the bill screen of an account that
owes; the clock starts when the card's track bytes are written into the card reader's pty
and stops when both the "paid" screen has been flipped onto the glass and the receipt's
last byte (its cut) has reached the printer's end of its pty. In between: the kiosk's
reader parses the swipe, journals the attempt (fsync), the acquirer simulator answers the
0200 over TCP after ``--delay-ms`` (subtracted), the approval is journalled, the hall — a
real one, in a process of its own — records the payment over HTTP, the acquirer attempt is
confirmed, the receipt is printed (status query first) and the screen changes.

Baseline, measured in the same run: the acquirer alone, as bench/card_payment.py does it —
parse the swipe, authorise, confirm — against the same simulator with the same delay
(subtracted too). The ratio is what the kiosk and the hall add to the bank's part.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from kiosk_common import figures, hall_process

from kiosk.config import KioskConfig, Panel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--payments", type=int, default=20)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    args = parser.parse_args()
    delay_s = args.delay_ms / 1000
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-pay-"))
    config = KioskConfig("http://hall.invalid", "t", tmp / "state", panel=Panel(1080, 1920))
    from kiosk.ui.boot import boot

    boot(config, headless=True, max_fps=30)
    with hall_process(tmp / "hall", premises=max(60, args.payments * 6)) as (url, token):
        kiosk_s, charged, recorded = measure_kiosk(url, token, config, args.payments, delay_s, tmp)
    baseline = measure_acquirer_alone(args.payments, delay_s, tmp / "baseline")
    print(
        f"card payment end to end, {len(kiosk_s)} payments, acquirer delay {args.delay_ms:g} ms subtracted"
    )
    print(figures("acquirer alone: swipe, 0200/0210, confirm (baseline)", baseline))
    print(figures("kiosk: swipe to paid screen and receipt", kiosk_s, baseline))
    print(f"charged by the acquirer {charged} fen; recorded by the hall {recorded} fen")


def measure_kiosk(
    url: str, token: str, config: KioskConfig, payments: int, delay_s: float, tmp: Path
) -> tuple[list[float], int, int]:
    from dataclasses import replace

    from kivy.core.window import Window

    from devices.acquirer.client import Acquirer
    from devices.acquirer.keys import DEMO_KEYS
    from devices.acquirer.simulator import AcquirerSimulator
    from devices.cardreader.simulator import VISA, CardReaderSimulator
    from devices.printer.connection import open_connection
    from devices.printer.printer import ReceiptPrinter
    from devices.printer.simulator import PrinterSimulator
    from kiosk.card_reader import KioskCardReader
    from kiosk.core import Devices, KioskCore
    from kiosk.payments.card import CardPayments
    from kiosk.payments.journal import PaymentJournal
    from kiosk.screens import ScreenName
    from kiosk.ui.app import KioskApp
    from kiosk.ui.driver import Driver
    from servicehall.demo.kiosk_walkthrough import accounts_owing
    from servicehall.hall.kiosk_client import KioskClient

    printer_sim = PrinterSimulator(tmp / "paper", render_png=False)
    reader_sim = CardReaderSimulator(tmp / "reader")
    acquirer_sim = AcquirerSimulator(delay_s=delay_s)
    client = KioskClient(url, token)
    printer = ReceiptPrinter(open_connection(printer_sim.url))
    reader = KioskCardReader(reader_sim.path)
    acquirer = Acquirer(
        acquirer_sim.host,
        acquirer_sim.port,
        terminal_id="KIOSK001",
        merchant_id="898110048160001",
        keys=DEMO_KEYS,
        state_dir=tmp / "state" / "acquirer",
    )
    payments_ = CardPayments(client, acquirer, PaymentJournal(tmp / "state" / "payments"))
    core = KioskCore(
        client,
        replace(config, hall_url=url),
        Devices(printer=printer, reader=reader),
        payments=payments_,
    )
    paid_on_glass: list[float] = []

    def flipped(*_: Any) -> None:
        on_glass = driver.app.root.ids.manager.current == "paid"
        if core.screen is ScreenName.PAID and on_glass and not paid_on_glass:
            paid_on_glass.append(time.perf_counter())

    driver = Driver.start(KioskApp(core))
    Window.bind(on_flip=flipped)
    took: list[float] = []
    recorded = 0
    try:
        core.beat()
        driver.wait_until(lambda: not driver.app._to_build, 30, "every screen built")
        owing = accounts_owing(client, payments + 1, tries=payments * 6)
        for number, account_no in enumerate(owing):
            core.reset()
            driver.wait_for(ScreenName.HOME)
            driver.tap("tile-pay")
            driver.wait_for(ScreenName.ACCOUNT)
            driver.type(account_no[2:])
            driver.tap("confirm")
            driver.wait_for(ScreenName.BILL)
            driver.tap("pay-card")
            driver.wait_for(ScreenName.CARD)
            paid_on_glass.clear()
            printed = threading.Event()
            cut: list[float] = []

            def watch(
                count: int = number + 1, printed: threading.Event = printed, cut: list[float] = cut
            ) -> None:
                if printer_sim.wait_for_receipts(count, 30):
                    cut.append(time.perf_counter())
                printed.set()

            threading.Thread(target=watch, daemon=True).start()
            started = time.perf_counter()
            reader_sim.swipe(VISA)
            try:
                driver.wait_until(partial(both, paid_on_glass, printed), 30, "paid and printed")
            except AssertionError:
                said = core.p.card.view().words.en
                raise RuntimeError(
                    f"payment {number} for {account_no} did not go through: {said}"
                ) from None
            if not cut:
                raise RuntimeError("the receipt never reached the printer")
            view = core.p.paid.view()
            recorded += int(view.amount.lstrip("¥").replace(",", "").replace(".", ""))
            if number > 0:  # the first one warms the connections and the journal folders
                took.append(max(paid_on_glass[0], cut[0]) - started - delay_s)
    finally:
        Window.unbind(on_flip=flipped)
        driver.stop()
        charged = acquirer_sim.charged_fen()
        for part in (reader, printer, acquirer, client, reader_sim, printer_sim, acquirer_sim):
            part.close()
    return took, charged, recorded


def both(paid_on_glass: list[float], printed: threading.Event) -> bool:
    return bool(paid_on_glass) and printed.is_set()


def measure_acquirer_alone(payments: int, delay_s: float, state: Path) -> list[float]:
    from devices.acquirer.client import Acquirer, Approved
    from devices.acquirer.keys import DEMO_KEYS
    from devices.acquirer.simulator import AcquirerSimulator
    from devices.cardreader.protocol import parse_swipe
    from devices.cardreader.simulator import VISA

    simulator = AcquirerSimulator(delay_s=delay_s)
    acquirer = Acquirer(
        simulator.host,
        simulator.port,
        terminal_id="BENCH001",
        merchant_id="898110048160001",
        keys=DEMO_KEYS,
        state_dir=state,
    )
    swipe = (VISA.track1() + VISA.track2()).encode("ascii")
    took = []
    try:
        for number in range(payments + 1):
            started = time.perf_counter()
            card = parse_swipe(swipe, today=date.today())
            outcome = acquirer.authorise(card, 100 + number, f"bench-{number:04d}")
            card.forget()
            assert isinstance(outcome, Approved)
            acquirer.confirm(outcome.idempotency_key)
            if number > 0:
                took.append(time.perf_counter() - started - delay_s)
    finally:
        simulator.close()
    return took


if __name__ == "__main__":
    main()
