"""The kiosk process (``servicehall kiosk``): its devices, its hall client, its app.

Devices are real ports or simulators that speak the same bytes (``simulated``): the
printer and card reader simulators sit on ptys, the acquirer simulator on a TCP port, so
the kiosk's drivers are the ones a real kiosk runs. Nothing about a customer outlives a
visit except the payment journal in ``state_dir``.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from devices.acquirer.client import Acquirer
from devices.acquirer.keys import DEMO_KEYS
from devices.acquirer.simulator import AcquirerSimulator
from devices.cardreader.simulator import CardReaderSimulator
from devices.pinpad.simulator import SimulatedPinPad
from devices.printer.connection import open_connection
from devices.printer.printer import ReceiptPrinter
from devices.printer.receipts import PaperWidth
from devices.printer.simulator import PrinterSimulator
from kiosk.card_reader import KioskCardReader
from kiosk.config import KioskConfig, Panel
from kiosk.core import Devices, KioskCore
from kiosk.payments.card import CardPayments
from kiosk.payments.journal import PaymentJournal
from kiosk.speech import Speaker
from servicehall.hall.kiosk_client import KioskClient

log = logging.getLogger(__name__)

SIMULATED = "simulated"
DEMO_PIN = "123456"  # what the simulated customer types on the simulated PIN pad
STARTED = time.monotonic()


@dataclass(frozen=True)
class KioskOptions:
    hall_url: str
    token: str
    state_dir: Path
    printer: str | None = SIMULATED  # simulated, a device path or URL, or None
    card_reader: str | None = SIMULATED
    acquirer: str | None = SIMULATED  # simulated or host:port
    pinpad: str | None = SIMULATED
    terminal_id: str = "KIOSK001"
    merchant_id: str = "898110048160001"
    panel: Panel = field(default_factory=lambda: Panel(1080, 1920))
    kiosk_mode: bool = True
    headless: bool = False
    speak: bool = False
    paper: PaperWidth = PaperWidth.MM80
    account_prefix: str = "XC"
    heartbeat_s: float = 30.0
    idle_s: float = 60.0
    out_dir: Path | None = None  # where simulated devices keep what they print
    max_fps: int = 30

    def config(self) -> KioskConfig:
        return KioskConfig(
            hall_url=self.hall_url,
            token=self.token,
            state_dir=self.state_dir,
            panel=self.panel,
            kiosk_mode=self.kiosk_mode,
            paper=self.paper,
            account_prefix=self.account_prefix,
            heartbeat_s=self.heartbeat_s,
            idle_s=self.idle_s,
            warn_s=min(15.0, self.idle_s / 2),
            speak=self.speak,
        )


@dataclass
class KioskParts:
    """Everything the process opened, closed in reverse order."""

    core: KioskCore
    client: KioskClient
    printer: ReceiptPrinter | None = None
    reader: KioskCardReader | None = None
    acquirer: Acquirer | None = None
    pinpad: SimulatedPinPad | None = None
    printer_sim: PrinterSimulator | None = None
    reader_sim: CardReaderSimulator | None = None
    acquirer_sim: AcquirerSimulator | None = None
    speaker: Speaker | None = None

    def close(self) -> None:
        self.core.stop()
        for part in (
            self.speaker,
            self.reader,
            self.printer,
            self.acquirer,
            self.pinpad,
            self.reader_sim,
            self.printer_sim,
            self.acquirer_sim,
        ):
            if part is not None:
                try:
                    part.close()
                except Exception:
                    log.exception("closing %s failed", type(part).__name__)
        self.client.close()


def build(options: KioskOptions) -> KioskParts:
    config = options.config()
    options.state_dir.mkdir(parents=True, exist_ok=True)
    out = options.out_dir or options.state_dir / "devices"
    client = KioskClient(options.hall_url, options.token, timeout_s=5.0)
    printer_sim = reader_sim = acquirer_sim = None
    printer = reader = acquirer = pinpad = None

    if options.printer == SIMULATED:
        printer_sim = PrinterSimulator(out / "receipts")
        printer = ReceiptPrinter(open_connection(printer_sim.url))
    elif options.printer:
        printer = ReceiptPrinter(open_connection(options.printer))

    if options.card_reader == SIMULATED:
        reader_sim = CardReaderSimulator(out)
        reader = KioskCardReader(
            reader_sim.path, account_prefix=options.account_prefix, today=date.today
        )
    elif options.card_reader:
        reader = KioskCardReader(options.card_reader, account_prefix=options.account_prefix)

    if options.acquirer:
        if options.acquirer == SIMULATED:
            acquirer_sim = AcquirerSimulator()
            host, port = acquirer_sim.host, acquirer_sim.port
        else:
            host, _, port_text = options.acquirer.rpartition(":")
            port = int(port_text)
        # Working keys come from key injection in production (see devices.acquirer.keys);
        # the published demo keys are what the simulator and the demo use.
        acquirer = Acquirer(
            host,
            port,
            terminal_id=options.terminal_id,
            merchant_id=options.merchant_id,
            keys=DEMO_KEYS,
            state_dir=options.state_dir / "acquirer",
            answer_timeout_s=15.0,
        )

    if options.pinpad == SIMULATED:
        pinpad = SimulatedPinPad(DEMO_KEYS.pin_key, default_pin=DEMO_PIN)
    elif options.pinpad:
        log.warning(
            "PIN pad %s: no driver for real PIN pads yet; PIN cards are refused", options.pinpad
        )

    payments = (
        CardPayments(client, acquirer, PaymentJournal(options.state_dir / "payments"))
        if acquirer is not None
        else None
    )
    speaker = Speaker() if options.speak else None
    core = KioskCore(
        client,
        config,
        Devices(printer=printer, reader=reader, pinpad=pinpad),
        payments=payments,
        speaker=speaker,
    )
    return KioskParts(
        core,
        client,
        printer,
        reader,
        acquirer,
        pinpad,
        printer_sim,
        reader_sim,
        acquirer_sim,
        speaker,
    )


Script = Callable[[Any, KioskParts], None]


def run_kiosk(
    options: KioskOptions,
    *,
    script: Script | None = None,
    announce: Callable[[str], None] = print,
) -> None:
    """Run the kiosk until its window closes (a kiosk: until the service stops it), or run
    ``script(driver, parts)`` against the real app and return (the demo's scripted customer)."""
    from kiosk.ui.boot import boot

    boot(options.config(), headless=options.headless, max_fps=options.max_fps)
    parts = build(options)
    try:
        from kivy.core.window import Window

        from kiosk.ui.app import KioskApp

        app = KioskApp(parts.core, kiosk_mode=options.kiosk_mode)

        def first_frame(*_: Any) -> None:
            Window.unbind(on_flip=first_frame)
            announce(
                f"kiosk ready: home screen drawn {time.monotonic() - STARTED:.2f} s after start"
            )

        Window.bind(on_flip=first_frame)
        parts.core.on_change(_screen_logger(parts.core))
        if script is None:
            _stop_on_signals(app)
            app.run()
            return
        from kiosk.ui.driver import Driver

        driver = Driver.start(app)
        try:
            script(driver, parts)
        finally:
            driver.stop()
    finally:
        parts.close()
        sys.stdout.flush()


def _stop_on_signals(app: Any) -> None:
    """SIGTERM (the service manager) and SIGINT stop the app on its own thread, cleanly."""
    from kivy.clock import Clock

    def stop(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping", signum)
        Clock.schedule_once(lambda _dt: app.stop(), 0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def _screen_logger(core: KioskCore) -> Callable[[], None]:
    shown: list[str] = [""]

    def changed() -> None:
        screen = core.screen.value
        if screen != shown[0]:
            shown[0] = screen
            log.info("screen: %s", screen)

    return changed
