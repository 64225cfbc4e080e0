"""The demo's scripted customer at the kiosk: real taps on the real Kivy app (offscreen when
headless) against the demo hall — takes a ticket, pays a bill by card and by QR, reports a
burst pipe, looks up outages — keeping a screenshot of every screen it sees.

It runs inside the kiosk process (``servicehall kiosk … --walkthrough DIR``): Kivy wants its
own main thread, and the demo's main thread serves the hall. ``kiosk_command`` builds that
command line for the demo; ``start_kiosk`` starts it.

DIR afterwards: ``screens/NN-<screen>.png`` and, with the simulated printer,
``receipts/receipt-NNN.png|txt``; ``walkthrough.txt`` says what each errand did.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from devices.cardreader.simulator import VISA
from kiosk.ports import Hall
from kiosk.process import KioskParts
from kiosk.screens import ScreenName
from servicedb.models import QrOrder, QrOrderState
from servicehall.hall.client import HallApiError, HallClientError
from servicehall.hall.wallet import WalletSimulator

log = logging.getLogger(__name__)

QR_WAIT_S = 20.0  # how long the scripted customer waits for someone to pay the QR order
PHONE = "13800138000"


def kiosk_command(
    hall_url: str,
    token_env: str,
    out_dir: Path,
    *,
    headless: bool,
    state_dir: Path,
    panel: str = "1080x1920",
) -> tuple[list[str], dict[str, str]]:
    """The command (and environment) that runs the kiosk with the scripted customer; with a
    display and not headless, the kiosk opens in a window beside the hall instead."""
    command = [
        sys.executable,
        "-m",
        "servicehall",
        "kiosk",
        "--hall",
        hall_url,
        "--state-dir",
        str(state_dir),
        "--panel",
        panel,
    ]
    if headless:
        command += ["--headless", "--walkthrough", str(out_dir)]
    else:
        command += ["--windowed"]
    env = {**os.environ, "KIOSK_TOKEN": token_env, "KIVY_NO_ARGS": "1"}
    return command, env


def start_kiosk(
    hall_url: str, token: str, out_dir: Path, *, headless: bool, state_dir: Path
) -> subprocess.Popen[bytes]:
    """For ``servicehall.demo.run``: the kiosk beside the hall (see ``kiosk_command``)."""
    command, env = kiosk_command(hall_url, token, out_dir, headless=headless, state_dir=state_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    log_file = (out_dir / "kiosk.log").open("ab")
    return subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)  # noqa: S603


class QrPhone:
    """The scripted customer's phone, in the demo's (or a test's) hall process: it pays each
    QR order the hall has waiting through the wallet simulator — what a wallet app does after
    scanning the kiosk's QR — after a short pause, as a person would.

    ``servicehall.demo.run`` starts one beside the kiosk: ``QrPhone(hall.engine,
    hall.parts.kiosk.wallet_simulator).start()`` (and ``stop()`` at the end).
    """

    def __init__(self, engine: Engine, wallet: WalletSimulator, *, pause_s: float = 2.0) -> None:
        self._engine = engine
        self._wallet = wallet
        self._pause_s = pause_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qr-phone", daemon=True)
        self.paid: list[str] = []

    def start(self) -> QrPhone:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            with Session(self._engine) as session:
                waiting = session.scalars(
                    select(QrOrder.order_id).where(QrOrder.state == QrOrderState.PENDING)
                ).all()
            for order_id in waiting:
                if order_id in self.paid or self._stop.wait(self._pause_s):
                    continue
                try:
                    self._wallet.pay(order_id)
                except KeyError:
                    continue  # the provider has not heard of it (yet)
                self.paid.append(order_id)
                log.info("the customer's phone paid QR order %s", order_id)


class Customer:
    """One person at the kiosk, tapping through it; every screen they see is photographed."""

    def __init__(self, driver: Any, parts: KioskParts, out: Path) -> None:
        self.d = driver
        self.parts = parts
        self.out = out
        self.shots = 0
        self.story: list[str] = []

    def shot(self, name: str) -> None:
        self.shots += 1
        self.d.screenshot(self.out / "screens" / f"{self.shots:02d}-{name}.png")

    def see(self, screen: ScreenName, name: str | None = None) -> None:
        """The screen a tap led to (taps that ask the hall are done once the kiosk settles)."""
        self.d.settle(30.0)
        core = self.parts.core
        if core.screen is not screen:
            said = core.notice.en if core.notice else "nothing"
            raise RuntimeError(f"expected the {screen} screen, got {core.screen} (it says: {said})")
        self.shot(name or screen.value)

    def tap(self, key: str) -> None:
        self.d.tap(key)

    def tap_first(self, prefix: str) -> str:
        """Tap the first button whose key starts with ``prefix``; returns the key."""
        for widget in self.d.widgets():
            key = str(getattr(widget, "key", ""))
            if key.startswith(prefix) and not widget.disabled:
                self.d.tap_widget(widget)
                return key
        raise LookupError(f"no {prefix}… button on {self.d.showing}")

    def home(self) -> None:
        self.parts.core.reset()
        self.d.wait_for(ScreenName.HOME)

    def note(self, line: str) -> None:
        log.info("walkthrough: %s", line)
        self.story.append(line)

    # --- the errands ------------------------------------------------------------------------
    def take_ticket(self) -> None:
        self.tap("tile-ticket")
        self.see(ScreenName.TICKET)
        key = self.tap_first("category-")
        self.see(ScreenName.TICKET_DONE)
        number = self.d.app.root.ids.manager.current_screen.ids.number.text
        self.note(f"took ticket {number} ({key.removeprefix('category-')})")
        self.tap("done")

    def pay_by_card(self, account_no: str) -> None:
        self.tap("tile-pay")
        self.see(ScreenName.ACCOUNT)
        self.d.type(account_no[2:])
        self.tap("confirm")
        self.see(ScreenName.BILL)
        self.tap("pay-card")
        self.see(ScreenName.CARD)
        reader = self.parts.reader_sim
        if reader is None:
            self.note("card payment skipped: the card reader is not simulated")
            self.home()
            return
        reader.swipe(VISA)
        self.d.wait_until(
            lambda: (
                self.parts.core.screen is ScreenName.PAID
                or self.parts.core.p.card.phase.value == "failed"
            ),
            30.0,
            "the card payment",
        )
        self.d.settle()
        self.shot(self.parts.core.screen.value)
        paid = self.parts.core.p.paid.view()
        self.note(f"paid {paid.amount} by card for {account_no}: receipt {paid.receipt_no}")
        self.home()

    def pay_by_qr(self, account_no: str) -> None:
        self.tap("tile-pay")
        self.see(ScreenName.ACCOUNT)
        self.d.type(account_no[2:])
        self.tap("confirm")
        self.see(ScreenName.BILL)
        self.tap("pay-qr")
        self.see(ScreenName.QR)
        try:
            self.d.wait_until(
                lambda: self.parts.core.screen is ScreenName.PAID, QR_WAIT_S, "the QR order paid"
            )
        except AssertionError:
            self.note(f"nobody paid the QR order for {account_no} within {QR_WAIT_S:g} s")
            self.home()
            return
        self.see(ScreenName.PAID, "paid-qr")
        self.note(f"paid {self.parts.core.p.paid.view().amount} by QR for {account_no}")
        self.home()

    def report_burst_pipe(self) -> None:
        self.tap("tile-report")
        self.see(ScreenName.REPORT)
        self.tap("category-burst_main")
        self.see(ScreenName.PLACE)
        self.tap_first("district-")
        self.shot("place-district")
        self.tap_first("street-")
        self.see(ScreenName.PHONE)
        self.d.type(PHONE)
        self.tap("confirm")
        self.see(ScreenName.DETAILS)
        self.tap("detail-spraying")
        self.tap("submit")
        self.see(ScreenName.REPORT_DONE)
        done = self.parts.core.p.report.done_view()
        self.note(f"reported a burst pipe: order {done.order_no if done else '?'}")
        self.tap("done")

    def outages(self) -> None:
        self.tap("tile-outages")
        self.see(ScreenName.PLACE, "place-outages")
        self.tap_first("district-")
        self.tap_first("street-")
        self.see(ScreenName.OUTAGES)
        view = self.parts.core.p.outages.view()
        self.note(f"outages near {view.where.en}: {len(view.rows)}")
        self.tap("done")


def accounts_owing(hall: Hall, wanted: int, *, prefix: str = "XC", tries: int = 60) -> list[str]:
    """Demo accounts with something due (the scripted customers know their numbers)."""
    found: list[str] = []
    for number in range(1, tries + 1):
        account_no = f"{prefix}{number:09d}"
        try:
            summary = hall.account(account_no)
        except HallApiError:
            continue
        if summary.status == "active" and summary.due_fen > 0:
            found.append(account_no)
            if len(found) == wanted:
                break
    return found


def walk(driver: Any, parts: KioskParts, out: Path) -> None:
    """The whole visit; each errand stands on its own (one failing does not stop the rest)."""
    out.mkdir(parents=True, exist_ok=True)
    customer = Customer(driver, parts, out)
    parts.core.beat()
    customer.see(ScreenName.HOME)
    owing: list[str] = []

    def pay(method: str) -> None:
        if not owing:
            owing.extend(accounts_owing(parts.client, 2))
        if not owing:
            customer.note(f"pay by {method} skipped: no demo account with something due was found")
        elif method == "card":
            customer.pay_by_card(owing[0])
        else:
            customer.pay_by_qr(owing[-1])

    errands: list[tuple[str, Callable[[], None]]] = [
        ("take a ticket", customer.take_ticket),
        ("pay by card", lambda: pay("card")),
        ("pay by QR", lambda: pay("QR")),
        ("report a burst pipe", customer.report_burst_pipe),
        ("outages", customer.outages),
    ]
    started = time.monotonic()
    for name, errand in errands:
        try:
            errand()
        except (HallClientError, LookupError, RuntimeError, AssertionError) as err:
            # The demo goes on with the next errand; the story says what went wrong.
            log.warning("walkthrough: %s failed: %s", name, err)
            customer.note(f"{name} failed: {err}")
            customer.home()
    customer.note(f"{customer.shots} screens in {time.monotonic() - started:.0f} s")
    (out / "walkthrough.txt").write_text("\n".join(customer.story) + "\n", encoding="utf-8")
