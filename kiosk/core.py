"""The kiosk without its glass: which screen shows, who may tap, what is forgotten when.

``KioskCore`` owns the presenters (one per screen, in ``kiosk.presenters``), the customer's
short-lived state, the idle watch, and the background loops (card reader, heartbeat). The
Kivy layer only draws ``view()``s and calls ``tap`` / ``press``; everything else is here and
is tested without a window.

Taps: ``tap`` runs an action that talks to the hall off the UI thread; ``press`` runs a
local one (a keypad key) at once. Either is dropped when it comes from a screen that is no
longer showing, or while an action is still running — a double tap or a tap during a screen
change does nothing twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from devices.cardreader.card import SwipedCard
from devices.cardreader.errors import CardReadError
from devices.errors import DeviceConnectionError, DeviceError
from devices.health import DeviceHealth, HealthState
from devices.pinpad.pinpad import PinPad
from devices.printer.printer import PrintFailed
from devices.printer.receipts import Receipt
from kiosk.card_reader import SwipeReader
from kiosk.cards import BankSwipe, Swipe
from kiosk.config import APP_VERSION, KioskConfig
from kiosk.idle import IdleState, IdleWatch
from kiosk.payments.card import CardPayments
from kiosk.ports import Hall, Printer
from kiosk.receipts import HallName
from kiosk.screens import ScreenName
from kiosk.speech import Speaker
from kiosk.text import Lang, T
from servicehall.hall.api.kiosk_schemas import DeviceState, HeartbeatIn, KioskDeviceHealth
from servicehall.hall.api.schemas import QueueOut
from servicehall.hall.client import HallApiError, HallClientError, HallUnreachable

log = logging.getLogger(__name__)

Spawn = Callable[[str, Callable[[], None]], None]


def thread_spawn(name: str, work: Callable[[], None]) -> None:
    threading.Thread(target=work, name=f"kiosk-{name}", daemon=True).start()


PRINTER_WORDS = {
    "paper out": T("打印机缺纸", "The printer is out of paper"),
    "cover open": T("打印机盖未关好", "The printer cover is open"),
    "printer offline": T("打印机离线", "The printer is offline"),
}
PAPER_NEAR_END = "paper near end"  # devices.printer.status.PrinterStatus.health's reason
NO_PRINTER = T("本机暂不能打印", "This kiosk cannot print at the moment")
READER_GONE = T(
    "读卡器暂时不能使用，请联系工作人员，或扫码缴费",
    "The card reader is not working: ask a member of staff, or pay by QR code",
)
HALL_REFUSED = T("服务暂时不可用，请稍后再试", "The service is not available; please try again")


@dataclass(frozen=True)
class PrintResult:
    """What became of a receipt. ``problem`` set: show its QR on screen instead."""

    printed: bool
    problem: T | None = None
    kept_job: str | None = None  # the printer kept the job: a reprint retries it


@dataclass
class Devices:
    printer: Printer | None = None
    reader: SwipeReader | None = None
    pinpad: PinPad | None = None


@dataclass(frozen=True)
class Chrome:
    """What every screen shows around its own content."""

    screen: ScreenName
    lang: Lang
    elderly: bool
    busy: bool
    notice: T | None
    idle_seconds_left: int | None  # the countdown, while the idle warning shows
    hall: HallName


@dataclass
class _Loops:
    stop: threading.Event = field(default_factory=threading.Event)
    screen_tasks: list[threading.Event] = field(default_factory=list)


class KioskCore:
    def __init__(
        self,
        hall: Hall,
        config: KioskConfig,
        devices: Devices,
        *,
        payments: CardPayments | None = None,
        spawn: Spawn = thread_spawn,
        background: Spawn = thread_spawn,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        speaker: Speaker | None = None,
    ) -> None:
        """``spawn`` runs taps' actions (a worker thread; tests pass one that runs at once);
        ``background`` runs the long loops (reader, heartbeat, QR polling)."""
        from kiosk.presenters import Presenters  # the presenters import this module

        self.hall = hall
        self.config = config
        self.devices = devices
        self.payments = payments
        self.monotonic = monotonic
        self.clock = clock
        self.speaker = speaker
        self._spawn = spawn
        self._background = background
        self._lock = threading.RLock()
        self._listeners: list[Callable[[], None]] = []
        self._loops = _Loops()
        self.screen = ScreenName.HOME
        self.lang = Lang.ZH
        self.elderly = False
        self.busy = False
        self.notice: T | None = None
        self.hall_name = HallName("营业厅", "Service hall")
        self._hall_named = False
        self.hall_reachable = True
        self.last_error: str | None = None
        self.idle = IdleWatch(config.idle_s, config.warn_s)
        self._idle_left: int | None = None
        self.p = Presenters(self)

    # --- what the UI reads ------------------------------------------------------------
    def chrome(self) -> Chrome:
        with self._lock:
            return Chrome(
                self.screen,
                self.lang,
                self.elderly,
                self.busy,
                self.notice,
                self._idle_left,
                self.hall_name,
            )

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("a screen listener failed")

    # --- taps -------------------------------------------------------------------------
    def tap(self, on: ScreenName, action: Callable[[], None]) -> bool:
        """An action that may talk to the hall; False when the tap was dropped."""
        with self._lock:
            if not self._accepts(on):
                return False
            self.busy = True
            self.notice = None
        self.changed()
        self._spawn("action", lambda: self._run(action))
        return True

    def press(self, on: ScreenName, action: Callable[[], None]) -> bool:
        """A local action (a keypad key, a toggle), run at once."""
        with self._lock:
            if not self._accepts(on):
                return False
            action()
        self.changed()
        return True

    def _accepts(self, on: ScreenName) -> bool:
        self.idle.touch(self.monotonic())
        self._idle_left = None
        if self.busy or on is not self.screen:
            log.debug("tap on %s dropped (showing %s, busy %s)", on, self.screen, self.busy)
            return False
        return True

    def _run(self, action: Callable[[], None]) -> None:
        try:
            self.guarded(action)
        finally:
            with self._lock:
                self.busy = False
                self.idle.touch(self.monotonic())
            self.changed()

    def guarded(self, action: Callable[[], None]) -> None:
        """Run ``action``; turn the hall's refusals into words on the screen."""
        try:
            action()
        except HallUnreachable as err:
            self.hall_lost(str(err))
        except HallApiError as err:
            self.say(T(err.error.message_zh, err.error.message_en))
        except HallClientError as err:
            log.warning("the hall answered something unexpected: %s", err)
            self.last_error = str(err)[:300]
            self.say(HALL_REFUSED)

    # --- navigation ---------------------------------------------------------------------
    def go(self, screen: ScreenName, notice: T | None = None) -> None:
        with self._lock:
            self._cancel_screen_tasks()
            self.screen = screen
            self.notice = notice
            self.idle.touch(self.monotonic())
            self._idle_left = None
        prompt = self.p.prompt(screen)
        if prompt is not None and self.speaker is not None:
            self.speaker.say(prompt, self.lang)
        self.changed()

    def say(self, notice: T | None) -> None:
        with self._lock:
            self.notice = notice
        self.changed()

    def set_lang(self, lang: Lang) -> None:
        with self._lock:
            self.lang = lang

    def toggle_elderly(self) -> None:
        with self._lock:
            self.elderly = not self.elderly

    def reset(self) -> None:
        """Home, and nothing of the last customer left anywhere in memory."""
        with self._lock:
            self._cancel_screen_tasks()
            self.p.forget()
            self.lang = Lang.ZH
            self.elderly = False
            self.notice = None
            self._idle_left = None
            self.screen = ScreenName.HOME if self.hall_reachable else ScreenName.OUT_OF_SERVICE
        self.changed()

    def screen_task(self, name: str, work: Callable[[threading.Event], None]) -> None:
        """A loop that belongs to the current screen (QR polling); stopped when it changes."""
        cancel = threading.Event()
        with self._lock:
            self._loops.screen_tasks.append(cancel)
        self._background(name, lambda: work(cancel))

    def _cancel_screen_tasks(self) -> None:
        for cancel in self._loops.screen_tasks:
            cancel.set()
        self._loops.screen_tasks.clear()

    # --- idle -------------------------------------------------------------------------
    def tick(self) -> None:
        """Called every second by the UI: the idle warning, then back home."""
        with self._lock:
            if self.screen in (ScreenName.HOME, ScreenName.OUT_OF_SERVICE) or self.busy:
                self._idle_left = None
                return
            check = self.idle.check(self.monotonic())
            left = check.seconds_left if check.state is IdleState.WARNING else None
            changed = left != self._idle_left
            self._idle_left = left
        if check.state is IdleState.EXPIRED:
            log.info("idle on %s: back home, customer forgotten", self.screen)
            self.reset()
        elif changed:
            self.changed()

    def still_here(self) -> None:
        """The customer answered the idle warning."""
        with self._lock:
            self.idle.touch(self.monotonic())
            self._idle_left = None
        self.changed()

    def hold_idle(self, held: bool) -> None:
        """No timeout while the kiosk itself works for the customer (at the bank)."""
        with self._lock:
            self.idle.pause(held, self.monotonic())

    # --- the hall -----------------------------------------------------------------------
    def learn_hall(self, queue: QueueOut) -> None:
        """The hall's name for receipts and the screen's title, from its queue overview."""
        self.hall_name = HallName(queue.name_zh, queue.name_en)
        self._hall_named = True

    def hall_lost(self, why: str, *, noticed_by_heartbeat: bool = False) -> None:
        """The hall does not answer: out of service — at once when a customer's own step
        failed or nobody is here; when the heartbeat noticed it under a customer, as soon as
        they finish (a QR order they are paying, say, keeps its own retries)."""
        log.warning("hall unreachable: %s", why)
        with self._lock:
            self.last_error = f"hall unreachable: {why}"[:300]
            self.hall_reachable = False
            if self.p.card.money_in_flight():
                return  # the payment's own retries carry on; its screen says what happens
            if noticed_by_heartbeat and self.screen not in (
                ScreenName.HOME,
                ScreenName.OUT_OF_SERVICE,
            ):
                return
        self.reset()  # the next person at the kiosk starts afresh, whatever the last one did

    def hall_back(self) -> None:
        with self._lock:
            was_out = not self.hall_reachable
            self.hall_reachable = True
            if was_out and self.screen is ScreenName.OUT_OF_SERVICE:
                self.screen = ScreenName.HOME
        if was_out:
            log.info("hall reachable again")
            self.changed()

    def beat(self) -> None:
        """One heartbeat: refresh the devices' health, tell the hall, settle payments."""
        self.refresh_printer()
        reader = self.devices.reader
        if reader is not None and hasattr(reader, "probe"):
            reader.probe()
        beat = HeartbeatIn(
            app_version=APP_VERSION,
            screen=self.screen.value,
            devices=self.device_health(),
            last_error=self.last_error,
        )
        try:
            self.hall.heartbeat(beat)
            if not self._hall_named:
                self.learn_hall(self.hall.queue())
        except HallUnreachable as err:
            self.hall_lost(str(err), noticed_by_heartbeat=True)
            return
        except HallClientError as err:
            log.warning("heartbeat refused: %s", err)
            return
        self.hall_back()
        if self.payments is not None:
            self.payments.settle_pending()
        self.changed()  # devices' health and the hall's name show on the screens

    def device_health(self) -> list[KioskDeviceHealth]:
        found: list[tuple[str, DeviceHealth]] = []
        if self.devices.printer is not None:
            found.append(("printer", self.devices.printer.health))
        if self.devices.reader is not None:
            found.append(("card_reader", self.devices.reader.health))
        if self.devices.pinpad is not None:
            found.append(("pin_pad", self.devices.pinpad.health))
        payer = self.p.card.payer
        if payer is not None:
            found.append(("acquirer", payer.health))
        return [
            KioskDeviceHealth(
                device=name,
                state=DeviceState(health.state.value),
                reason=health.reason[:200],
                since=health.since,
            )
            for name, health in found
        ]

    # --- the kiosk's devices ------------------------------------------------------------
    def refresh_printer(self) -> None:
        printer = self.devices.printer
        if printer is None:
            return
        try:
            printer.status()
        except DeviceError as err:
            log.info("printer status: %s", err)

    def printer_problem(self) -> T | None:
        """Why a receipt cannot be printed now (said before the customer chooses), or None."""
        printer = self.devices.printer
        if printer is None:
            return NO_PRINTER
        health = printer.health
        if health.state is not HealthState.FAULT:
            return None
        return PRINTER_WORDS.get(health.reason, NO_PRINTER)

    def paper_low(self) -> bool:
        printer = self.devices.printer
        return printer is not None and printer.health.reason == PAPER_NEAR_END

    def print(self, receipt: Receipt) -> PrintResult:
        """Print; check the printer again afterwards (paper can run out mid-receipt)."""
        printer = self.devices.printer
        if printer is None:
            return PrintResult(False, NO_PRINTER)
        try:
            printer.print_receipt(receipt)
        except PrintFailed as err:
            return PrintResult(False, T(err.message_zh, err.message_en), err.job_id)
        return self._after_print()

    def reprint(self, receipt: Receipt, before: PrintResult) -> PrintResult:
        """Print again what did not come out whole (the kept job, or the receipt anew)."""
        printer = self.devices.printer
        if printer is None:
            return PrintResult(False, NO_PRINTER)
        if before.kept_job is None:
            return self.print(receipt)
        try:
            printer.retry(before.kept_job)
        except PrintFailed as err:
            return PrintResult(False, T(err.message_zh, err.message_en), err.job_id)
        except KeyError:
            return self.print(receipt)
        return self._after_print()

    def _after_print(self) -> PrintResult:
        self.refresh_printer()
        problem = self.printer_problem()
        if problem is not None:
            # Written, but the printer stopped: the end of the receipt may be missing.
            return PrintResult(
                False, problem + T("，凭证可能不完整", "; the receipt may be incomplete")
            )
        return PrintResult(True)

    def card_payment_possible(self) -> bool:
        reader = self.devices.reader
        return (
            reader is not None
            and reader.health.state is not HealthState.FAULT
            and self.payments is not None
            and self.p.card.payer is not None
        )

    # --- the loops ----------------------------------------------------------------------
    def start(self) -> None:
        """Recover unfinished payments, then run the reader and heartbeat loops."""
        self.refresh_printer()
        if self.payments is not None:
            try:
                done = self.payments.recover()
            except Exception:
                log.exception("payment recovery failed; it runs again at the next start")
            else:
                for item in done:
                    log.info(
                        "recovered payment %s: %s → %s",
                        item.idempotency_key,
                        item.before,
                        item.after,
                    )
        if self.devices.reader is not None:
            self._background("reader", self._reader_loop)
        self._background("heartbeat", self._heartbeat_loop)

    def stop(self) -> None:
        self._loops.stop.set()
        self._cancel_screen_tasks()
        if self.payments is not None:
            self.payments.stop()

    @property
    def stopping(self) -> threading.Event:
        return self._loops.stop

    def _heartbeat_loop(self) -> None:
        while not self._loops.stop.is_set():
            try:
                self.beat()
            except Exception:
                log.exception("heartbeat failed")
            wait = self.config.heartbeat_s if self.hall_reachable else self.config.retry_hall_s
            if self._loops.stop.wait(wait):
                return

    def _reader_loop(self) -> None:
        reader = self.devices.reader
        assert reader is not None  # noqa: S101 - started only with a reader
        while not self._loops.stop.is_set():
            try:
                swipe = reader.read_swipe(0.5)
            except CardReadError as err:
                self.swipe_failed(err)
                continue
            except DeviceConnectionError as err:
                log.debug("card reader: %s", err)
                self.reader_lost()
                if self._loops.stop.wait(0.5):
                    return
                continue
            self.reader_back()
            if swipe is not None:
                self.swiped(swipe)

    def reader_lost(self) -> None:
        """Said once on a screen waiting for a card; the reader reopens by itself."""
        if self.p.wants_swipe(self.screen) and self.notice is not READER_GONE:
            self.say(READER_GONE)

    def reader_back(self) -> None:
        if self.notice is READER_GONE:
            self.say(None)

    def swiped(self, swipe: Swipe) -> None:
        """A card went through the reader: the screen showing decides what it means."""
        self.idle.touch(self.monotonic())
        try:
            taken = self.p.swiped(self.screen, swipe)
        finally:
            if isinstance(swipe, BankSwipe):
                _forget(swipe.card)
        if not taken:
            log.info("swipe on %s ignored", self.screen)

    def swipe_failed(self, err: CardReadError) -> None:
        if self.p.wants_swipe(self.screen):
            self.say(T(err.message_zh, err.message_en))


def _forget(card: SwipedCard) -> None:
    card.forget()
