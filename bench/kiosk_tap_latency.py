"""Tap-to-screen latency of the kiosk (goal ≤ 100 ms), and "take a ticket" tap to the
ticket's last byte on the printer's serial line (goal p95 ≤ 1 s).

    .venv/bin/python bench/kiosk_tap_latency.py [--taps N] [--panel 1080x1920]

The real app on SDL2's offscreen driver (software rendering, the slow case), at 30 frames
a second as a kiosk runs, against a real hall on a real port in a process of its own (as
on another machine); the printer simulator sits on a pty. A tap is a touch put into Kivy's input queue at the button's centre; the time runs
from the finger lifting to the first frame flipped that shows the result. Cases:

- home → account entry: no hall call;
- a keypad digit: a local change on the same screen;
- home → services: the hall's queue over HTTP on the way;
- "take a ticket": from the finger lifting on a service to the partial cut (the receipt's
  last bytes) arriving at the printer's end of the pty.

Baselines, measured in the same run and window: a bare ScreenManager of two screens with
one button each, switched by a tap (for the screens); and, for the
ticket, the same hall call and the same receipt printed straight from Python, no screen.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from kiosk_common import figures, hall_process

from kiosk.config import KioskConfig, Panel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--taps", type=int, default=20)
    parser.add_argument("--panel", default="1080x1920")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-tap-"))
    config = KioskConfig("http://hall.invalid", "t", tmp / "state", panel=Panel.parse(args.panel))
    from kiosk.ui.boot import boot

    boot(config, headless=True, max_fps=30)
    from kivy.core.window import Window

    flips = Flips()
    Window.bind(on_flip=flips.on_flip)
    with hall_process(tmp / "hall") as (url, token):
        results = measure_kiosk(url, token, config, flips, args.taps, tmp)
    baseline = measure_bare(flips, args.taps)
    print(f"tap to screen, {args.taps} taps each, panel {args.panel}, 30 fps, software rendering")
    print(figures("bare screen switch (baseline)", baseline))
    for name in ("home → account entry", "keypad digit", "home → services (hall call)"):
        print(figures(name, results[name], baseline))
    print('"take a ticket" tap to the last byte on the printer (goal p95 ≤ 1 s)')
    print(figures("ticket straight from Python (baseline)", results["direct ticket"]))
    print(figures("take a ticket by tap", results["ticket"], results["direct ticket"]))


class Flips:
    """The first flipped frame at which a condition holds: what is on the glass."""

    def __init__(self) -> None:
        self.condition: Callable[[], bool] | None = None
        self.seen: float | None = None

    def on_flip(self, *_: Any) -> None:
        if self.condition is not None and self.seen is None and self.condition():
            self.seen = time.perf_counter()

    def wait(self, since: float, condition: Callable[[], bool], pump: Callable[[], None]) -> float:
        self.condition, self.seen = condition, None
        deadline = time.monotonic() + 20
        try:
            while self.seen is None:
                if time.monotonic() > deadline:
                    raise TimeoutError("the screen never showed the tap's result")
                pump()
            return self.seen - since
        finally:
            self.condition = None


def tap_and_time(driver: Any, widget: Any, flips: Flips, condition: Callable[[], bool]) -> float:
    from kivy.base import EventLoop

    from kiosk.ui.driver import Finger

    x, y = widget.to_window(*widget.center)
    finger = Finger(x, y)
    EventLoop._dispatch_input("begin", finger)
    driver.frames(1)
    lifted = time.perf_counter()
    EventLoop._dispatch_input("end", finger)
    return flips.wait(lifted, condition, lambda: driver.frames(1))


def text_changed(label: Any) -> Callable[[], bool]:
    before = label.text
    return lambda: bool(label.text != before)


def ticket_by_tap(driver: Any, printer_sim: Any, count: int) -> float:
    """From the finger lifting on a service to the ticket's cut arriving at the printer."""
    from kivy.base import EventLoop

    from kiosk.ui.driver import Finger

    widget = driver.find("category-payment")
    finger = Finger(*widget.to_window(*widget.center))
    EventLoop._dispatch_input("begin", finger)
    driver.frames(1)
    done = threading.Event()
    arrived: list[float] = []

    def watch() -> None:
        if printer_sim.wait_for_receipts(count, 20):
            arrived.append(time.perf_counter())
        done.set()

    threading.Thread(target=watch, daemon=True).start()
    lifted = time.perf_counter()
    EventLoop._dispatch_input("end", finger)
    while not done.is_set():
        driver.frames(1)
    if not arrived:
        raise TimeoutError("the ticket never reached the printer")
    return arrived[0] - lifted


def measure_kiosk(
    url: str, token: str, config: KioskConfig, flips: Flips, taps: int, tmp: Path
) -> dict[str, list[float]]:
    from dataclasses import replace

    from devices.printer.connection import open_connection
    from devices.printer.printer import ReceiptPrinter
    from devices.printer.simulator import PrinterSimulator
    from kiosk.core import Devices, KioskCore
    from kiosk.receipts import ticket_receipt
    from kiosk.screens import ScreenName
    from kiosk.text import T
    from kiosk.ui.app import KioskApp
    from kiosk.ui.driver import Driver
    from servicehall.hall.kiosk_client import KioskClient

    printer_sim = PrinterSimulator(tmp / "paper", render_png=False)
    printer = ReceiptPrinter(open_connection(printer_sim.url))
    client = KioskClient(url, token)
    core = KioskCore(client, replace(config, hall_url=url), Devices(printer=printer))
    driver = Driver.start(KioskApp(core))
    manager = driver.app.root.ids.manager
    results: dict[str, list[float]] = {
        k: []
        for k in (
            "home → account entry",
            "keypad digit",
            "home → services (hall call)",
            "ticket",
            "direct ticket",
        )
    }
    printed = [0]

    def printer_done(count: int) -> Callable[[], bool]:
        return lambda: len(printer_sim.receipts) >= count

    try:
        core.beat()
        driver.wait_until(lambda: not driver.app._to_build, 30, "every screen built")
        driver.settle()
        for _ in range(taps):
            results["home → account entry"].append(
                tap_and_time(
                    driver, driver.find("tile-pay"), flips, lambda: manager.current == "account"
                )
            )
            driver.settle()
            results["keypad digit"].append(
                tap_and_time(
                    driver,
                    driver.find("key-4"),
                    flips,
                    text_changed(manager.current_screen.ids.entry),
                )
            )
            core.reset()
            driver.settle()
            results["home → services (hall call)"].append(
                tap_and_time(
                    driver, driver.find("tile-ticket"), flips, lambda: manager.current == "ticket"
                )
            )
            driver.settle()
            # The ticket: from the finger lifting to the cut arriving at the printer.
            printed[0] += 1
            results["ticket"].append(ticket_by_tap(driver, printer_sim, printed[0]))
            driver.wait_for(ScreenName.TICKET_DONE)
            core.reset()
            driver.settle()
            # Baseline: the same call and receipt, from Python.
            started = time.perf_counter()
            ticket = client.take_ticket("payment")
            printer.print_receipt(
                ticket_receipt(
                    ticket, T("缴费", "Bill payment"), core.hall_name, url, paper=config.paper
                )
            )
            assert printer_sim.wait_for_receipts(printed[0] + 1, 20)
            printed[0] += 1
            results["direct ticket"].append(time.perf_counter() - started)
    finally:
        driver.stop()
        printer.close()
        printer_sim.close()
        client.close()
    return results


def showing(manager: Any, name: str) -> bool:
    return bool(manager.current == name)


def switch(manager: Any, name: str, *_: Any) -> None:
    manager.current = name


def measure_bare(flips: Flips, taps: int) -> list[float]:
    from kivy.base import EventLoop
    from kivy.core.window import Window
    from kivy.uix.button import Button
    from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

    from kiosk.ui.driver import Finger

    manager = ScreenManager(transition=NoTransition())
    for name, other in (("a", "b"), ("b", "a")):
        screen = Screen(name=name)
        button = Button(
            text=f"to {other}", size_hint=(0.5, 0.2), pos_hint={"center_x": 0.5, "center_y": 0.5}
        )
        button.bind(on_release=partial(switch, manager, other))
        screen.add_widget(button)
        manager.add_widget(screen)
    Window.add_widget(manager)
    for _ in range(5):
        EventLoop.idle()  # laid out before the first tap
    took = []
    try:
        for _ in range(taps):
            while manager.transition.is_active:
                EventLoop.idle()
            button = manager.current_screen.children[0]
            target = "b" if manager.current == "a" else "a"
            finger = Finger(*button.to_window(*button.center))
            EventLoop._dispatch_input("begin", finger)
            EventLoop.idle()
            lifted = time.perf_counter()
            EventLoop._dispatch_input("end", finger)
            took.append(flips.wait(lifted, partial(showing, manager, target), EventLoop.idle))
    finally:
        Window.remove_widget(manager)
    return took


if __name__ == "__main__":
    main()
