"""Drive the real Kivy app with real touch events, frame by frame (UI tests, the demo's
scripted customer, the benches).

A tap is a ``MotionEvent`` put into Kivy's input queue at a button's centre in window
coordinates — the path a finger on the panel takes (provider → event loop → window →
widgets). The driver pumps frames itself (``EventLoop.idle``) instead of ``App.run``, and
waits for conditions (a screen showing, the core idle) rather than for fixed times.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kivy.base import EventLoop
from kivy.core.window import Window
from kivy.input.motionevent import MotionEvent
from kivy.uix.widget import Widget

from kiosk.screens import ScreenName
from kiosk.ui.app import KioskApp

_ids = itertools.count(1)


class Finger(MotionEvent):
    """One touch on the panel at window pixels (x, y)."""

    def __init__(self, x: float, y: float) -> None:
        width, height = Window.size
        super().__init__(
            "kiosk-driver",
            next(_ids),
            {"x": x / max(width - 1, 1), "y": y / max(height - 1, 1)},
            is_touch=True,
            type_id="touch",
        )

    def depack(self, args: dict[str, float]) -> None:
        self.sx, self.sy = args["x"], args["y"]
        self.profile = ["pos"]
        super().depack(args)


class UiTimeout(AssertionError):
    pass


class Driver:
    def __init__(self, app: KioskApp) -> None:
        self.app = app

    # --- starting ------------------------------------------------------------------------
    @classmethod
    def start(cls, app: KioskApp) -> Driver:
        """Build the app into the window without ``App.run``; frames are pumped by us."""
        EventLoop.ensure_window()
        app._run_prepare()
        driver = cls(app)
        driver.frames(3)
        return driver

    def stop(self) -> None:
        self.app.detach()
        self.frames(1)

    # --- time -----------------------------------------------------------------------------
    def frames(self, count: int = 1) -> None:
        for _ in range(count):
            EventLoop.idle()

    def wait_until(
        self, condition: Callable[[], bool], timeout_s: float = 10.0, what: str = ""
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                manager = self.app.root.ids.manager
                state = (
                    f"showing {self.showing}, core on {self.app.core.screen}, busy {self.app.core.busy}, "
                    f"redraw pending {self.app._pending}, transition {manager.transition.is_active}"
                )
                raise UiTimeout(f"waited {timeout_s:g} s for {what or condition}; {state}")
            self.frames(1)

    @property
    def showing(self) -> str:
        return str(self.app.root.ids.manager.current)

    def settled(self) -> bool:
        """Nothing running, nothing to redraw, no screen transition under way."""
        manager = self.app.root.ids.manager
        return (
            not self.app.core.busy
            and not self.app._pending
            and not manager.transition.is_active
            and manager.current == self.app.core.screen.value
        )

    def wait_for(self, screen: ScreenName, timeout_s: float = 10.0) -> None:
        self.wait_until(
            lambda: self.app.core.screen is screen and self.settled(), timeout_s, f"screen {screen}"
        )
        self.frames(2)  # drawn, not only decided

    def settle(self, timeout_s: float = 10.0) -> None:
        self.wait_until(self.settled, timeout_s, "the kiosk to settle")
        self.frames(2)

    # --- finding and tapping ---------------------------------------------------------------
    def widgets(self) -> Iterator[Widget]:
        manager = self.app.root.ids.manager
        roots = [manager.current_screen, self.app.root.ids.top]
        if self.app.idle_overlay.parent is not None:
            roots.insert(0, self.app.idle_overlay)
        for root in roots:
            yield from root.walk(restrict=True)

    def find(self, key: str) -> Widget:
        for widget in self.widgets():
            if getattr(widget, "key", None) == key:
                return widget
        raise LookupError(f"no button {key!r} on {self.showing}")

    def has(self, key: str) -> bool:
        try:
            self.find(key)
        except LookupError:
            return False
        return True

    def tap(self, key: str, *, settle: bool = True) -> None:
        """Put a finger down and up at the centre of the button ``key``."""
        self.tap_widget(self.find(key), settle=settle)

    def tap_widget(self, widget: Widget, *, settle: bool = True) -> None:
        x, y = widget.to_window(*widget.center)
        finger = Finger(x, y)
        EventLoop._dispatch_input("begin", finger)
        self.frames(1)
        EventLoop._dispatch_input("end", finger)
        self.frames(1)
        if settle:
            self.settle()

    def type(self, keys: str) -> None:
        for key in keys:
            self.tap(f"key-{key}")

    # --- pictures ---------------------------------------------------------------------------
    def screenshot(self, path: Path) -> Path:
        """The window's real pixels, as a PNG at ``path``."""
        self.frames(2)
        path.parent.mkdir(parents=True, exist_ok=True)
        made = Path(Window.screenshot(name=str(path)))
        made.replace(path)
        return path


def text_of(widget: Any) -> str:
    return str(getattr(widget, "text", ""))
