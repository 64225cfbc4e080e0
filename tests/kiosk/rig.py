"""A kiosk core on real devices (printer on a pty, acquirer on TCP, PIN pad simulator) and
the in-memory hall: what the presenter tests drive, tap by tap."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from devices.acquirer.client import Acquirer
from devices.acquirer.keys import DEMO_KEYS
from devices.acquirer.simulator import AcquirerSimulator
from devices.cardreader.simulator import SimCard
from devices.health import DeviceHealth, HealthState, HealthTracker
from devices.pinpad.simulator import SimulatedPinPad
from devices.printer.connection import open_connection
from devices.printer.printer import ReceiptPrinter
from devices.printer.simulator import PrinterSimulator
from kiosk.cards import (
    Swipe,
    customer_card_number,
    customer_card_track,
    parse_kiosk_swipe,
    vip_card_track,
)
from kiosk.config import KioskConfig
from kiosk.core import Devices, KioskCore
from kiosk.payments.card import CardPayments
from kiosk.payments.journal import PaymentJournal
from kiosk.screens import ScreenName
from tests.kiosk.fakes import ACCOUNT, NOW, VIP_CARD, FakeHall

TODAY = date(2026, 11, 23)
UNIONPAY_PIN = SimCard("6222021000000000017", name="WANG/WEI")  # the simulator wants PIN 123456


def on(core: KioskCore, screen: ScreenName) -> bool:
    """Whether ``screen`` shows (a call, so mypy does not narrow ``core.screen`` for good)."""
    return core.screen is screen


def swipe_of(card: SimCard) -> Swipe:
    return parse_kiosk_swipe((card.track1() + card.track2()).encode("ascii") + b"\r\n", today=TODAY)


def customer_card(account_no: str = ACCOUNT, issue: int = 1) -> Swipe:
    number = customer_card_number(account_no, issue)
    return parse_kiosk_swipe(customer_card_track(number).encode() + b"\r\n", today=TODAY)


def vip_card(number: str = VIP_CARD) -> Swipe:
    return parse_kiosk_swipe(vip_card_track(number).encode() + b"\r\n", today=TODAY)


class StubReader:
    """The reader's health only: swipes are handed to ``core.swiped`` by the tests."""

    def __init__(self) -> None:
        self._health = HealthTracker("card reader (test)")
        self._health.set(HealthState.CONNECTED, "test")

    @property
    def health(self) -> DeviceHealth:
        return self._health.current

    def unplug(self) -> None:
        self._health.set(HealthState.FAULT, "unplugged")

    def read_swipe(self, timeout_s: float) -> Swipe | None:
        return None

    def close(self) -> None:
        pass


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    tmp: Path
    hall: FakeHall
    core: KioskCore
    printer_sim: PrinterSimulator
    printer: ReceiptPrinter
    acquirer_sim: AcquirerSimulator
    pinpad: SimulatedPinPad
    reader: StubReader
    clock: Clock
    background: list[tuple[str, Callable[[], None]]] = field(default_factory=list)

    @property
    def payments(self) -> CardPayments:
        assert self.core.payments is not None
        return self.core.payments

    def new_acquirer(self, **overrides: object) -> Acquirer:
        settings: dict[str, object] = {"answer_timeout_s": 1.0, "reversal_pause_s": 0.01}
        settings.update(overrides)
        return Acquirer(
            self.acquirer_sim.host,
            self.acquirer_sim.port,
            terminal_id="KIOSK001",
            merchant_id="898110048160001",
            keys=DEMO_KEYS,
            state_dir=self.tmp / "state" / "acquirer",
            **settings,  # type: ignore[arg-type]
        )

    def new_payments(self, **acquirer: object) -> CardPayments:
        """What a restarted kiosk builds from the same state folder."""
        return CardPayments(
            self.hall,
            self.new_acquirer(**acquirer),
            PaymentJournal(self.tmp / "state" / "payments"),
            first_retry_s=0.01,
            max_retry_s=0.05,
        )

    def run_background(self, name: str) -> None:
        for task_name, work in list(self.background):
            if task_name == name:
                self.background.remove((task_name, work))
                work()
                return
        raise AssertionError(f"no background task {name}; have {[n for n, _ in self.background]}")

    def close(self) -> None:
        self.core.stop()
        self.printer.close()
        self.printer_sim.close()
        self.acquirer_sim.close()


def make_rig(tmp: Path, **config: object) -> Iterator[Rig]:
    hall = FakeHall()
    printer_sim = PrinterSimulator(tmp / "paper", render_png=False)
    printer = ReceiptPrinter(open_connection(printer_sim.url), status_timeout_s=1.0)
    acquirer_sim = AcquirerSimulator()
    pinpad = SimulatedPinPad(DEMO_KEYS.pin_key)
    reader = StubReader()
    clock = Clock()
    settings = {
        "hall_url": "http://hall.invalid",
        "token": "t",
        "state_dir": tmp / "state",
        "record_wait_s": 0.2,
        **config,
    }
    rig = Rig(tmp, hall, None, printer_sim, printer, acquirer_sim, pinpad, reader, clock)  # type: ignore[arg-type]
    payments = rig.new_payments()
    rig.core = KioskCore(
        hall,
        KioskConfig(**settings),  # type: ignore[arg-type]
        Devices(printer=printer, reader=reader, pinpad=pinpad),
        payments=payments,
        spawn=lambda name, work: work(),
        background=lambda name, work: rig.background.append((name, work)),
        monotonic=clock,
        clock=lambda: NOW,
    )
    try:
        yield rig
    finally:
        rig.close()
