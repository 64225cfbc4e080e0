"""The Kivy app: the root layout (top bar with the language and large-type switches, the
screens, the notice line, the busy and idle overlays) over a ``KioskCore``.

The core may change from any thread (a worker running a tap, the card reader, the
heartbeat); ``_changed`` only schedules one redraw on Kivy's thread, which reads the
current screen's ``view()`` and fills its widgets.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import FadeTransition

from kiosk.core import KioskCore
from kiosk.screens import ScreenName
from kiosk.text import Lang, T
from kiosk.ui.screens import SCREENS, KioskScreen, load_layout

log = logging.getLogger(__name__)

LAYOUTS = ("widgets", "root", *(s.key.value for s in SCREENS))
ELDERLY_SCALE = 1.3
TRANSITION_S = 0.12
KEY_ESCAPE, KEY_BACK = 27, 1001  # Esc, and Android's back button: both do nothing


_loaded: list[str] = []


def load_layouts() -> None:
    """Each ``.kv`` once per process (loading a file twice would apply its rules twice)."""
    for name in LAYOUTS:
        if name not in _loaded:
            load_layout(name)
            _loaded.append(name)


class KioskRoot(FloatLayout):
    pass


def _screens_follow(manager: Any, pos: Any) -> None:
    for screen in manager.screens:
        screen.pos = pos


class BusyOverlay(FloatLayout):
    def on_touch_down(self, touch: Any) -> bool:
        return True  # taps while the kiosk works go nowhere

    def on_touch_up(self, touch: Any) -> bool:
        return True


class IdleOverlay(FloatLayout):
    def on_touch_down(self, touch: Any) -> bool:
        super().on_touch_down(touch)
        return True


class KioskApp(App):
    fs = NumericProperty(36.0)  # the base font size in pixels, from the panel's size
    portrait = BooleanProperty(True)

    def __init__(self, core: KioskCore, *, kiosk_mode: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.core = core
        self.kiosk_mode = kiosk_mode
        self.title = "servicehall kiosk"
        self.use_kivy_settings = False
        self._pending = False
        self._ticker: Any = None
        self._base_fs = 36.0
        self.refreshes = 0  # how many redraws happened (the driver waits on this)

    # --- building -----------------------------------------------------------------------
    def build(self) -> KioskRoot:
        load_layouts()
        self._size(Window, Window.size)
        root = KioskRoot()
        self.busy_overlay = BusyOverlay()
        self.idle_overlay = IdleOverlay()
        manager = root.ids.manager
        manager.transition = FadeTransition(duration=TRANSITION_S)
        # A screen that is not showing keeps the position it had when it last showed; the
        # notice line moves the screens' area, so every screen follows it (a fade moves none).
        manager.bind(pos=_screens_follow)
        for screen_class in SCREENS:
            manager.add_widget(screen_class(name=screen_class.key.value))
        ids = root.ids
        ids.lang.bind(on_release=lambda *_: self._switch_language())
        ids.large.bind(
            on_release=lambda *_: self.core.press(self.core.screen, self.core.toggle_elderly)
        )
        ids.home.bind(on_release=lambda *_: self.core.press(self.core.screen, self.core.reset))
        self.idle_overlay.ids.still_here.bind(on_release=lambda *_: self.core.still_here())
        Window.bind(on_keyboard=self._key, on_request_close=self._close, size=self._size)
        self.core.on_change(self._changed)
        self._ticker = Clock.schedule_interval(self._second, 1.0)
        self.root = root
        self.refresh()
        return root

    def on_start(self) -> None:
        self.core.start()

    def detach(self) -> None:
        """Take this app off the window (tests and benches build several in one process)."""
        self._ticker.cancel()
        # on_stop also clears kv's cached ``app`` (kivy.lang.parser.ProxyApp), so the next
        # app's layouts bind to that app rather than to this one.
        self.dispatch("on_stop")
        Window.unbind(on_keyboard=self._key, on_request_close=self._close, size=self._size)
        if self.root is not None and self.root.parent is not None:
            Window.remove_widget(self.root)

    def on_stop(self) -> None:
        self.core.stop()

    def open_settings(self, *args: Any) -> bool:
        return False  # F1 opens Kivy's settings elsewhere; never on a kiosk

    # --- the window ---------------------------------------------------------------------
    def _size(self, _window: Any, size: tuple[int, int]) -> None:
        width, height = size
        self.portrait = height > width
        self._base_fs = max(18.0, min(width, height) / 28)
        self.fs = self._base_fs * (ELDERLY_SCALE if self.core.elderly else 1.0)

    def _key(self, _window: Any, key: int, *args: Any) -> bool:
        # Esc (and a back button) must not close or leave the kiosk; nothing else is typed.
        return key in (KEY_ESCAPE, KEY_BACK) or self.kiosk_mode

    def _close(self, *args: Any, **kwargs: Any) -> bool:
        return self.kiosk_mode  # True: the window stays (a kiosk is stopped by its service)

    def _switch_language(self) -> None:
        self.core.press(self.core.screen, lambda: self.core.set_lang(self.core.lang.other))

    # --- redrawing ----------------------------------------------------------------------
    def _changed(self) -> None:
        if not self._pending:
            self._pending = True
            Clock.schedule_once(self.refresh, 0)

    def _second(self, _dt: float) -> None:
        self.core.tick()
        if self.core.screen is ScreenName.QR:
            self._changed()  # the QR's countdown

    def refresh(self, *_: Any) -> None:
        self._pending = False
        core, root = self.core, self.root
        if root is None:
            return
        chrome = core.chrome()
        self.fs = self._base_fs * (ELDERLY_SCALE if chrome.elderly else 1.0)
        lang = chrome.lang
        ids = root.ids
        ids.hall.text = f"{chrome.hall.zh if lang is Lang.ZH else chrome.hall.en}"
        ids.lang.text = "English" if lang is Lang.ZH else "中文"
        ids.large.text = (
            T("大字", "Large text")(lang)
            if not chrome.elderly
            else T("标准字", "Normal text")(lang)
        )
        at_home = chrome.screen in (ScreenName.HOME, ScreenName.OUT_OF_SERVICE)
        ids.home.text = T("首页", "Home")(lang)
        ids.home.opacity = 0 if at_home else 1
        ids.home.disabled = at_home
        manager = ids.manager
        screen: KioskScreen = manager.get_screen(chrome.screen.value)
        try:
            screen.refresh(chrome)
        except Exception:
            log.exception("drawing %s failed", chrome.screen)
        if manager.current != chrome.screen.value:
            manager.current = chrome.screen.value
        ids.notice.text = chrome.notice(lang) if chrome.notice else ""
        self._overlay(self.busy_overlay, chrome.busy)
        self.busy_overlay.ids.words.text = T("请稍候…", "Please wait…")(lang)
        waiting = chrome.idle_seconds_left is not None
        self._overlay(self.idle_overlay, waiting)
        if waiting:
            o = self.idle_overlay.ids
            o.question.text = T("您还在吗？", "Are you still there?")(lang)
            o.seconds.text = str(chrome.idle_seconds_left)
            o.explain.text = T(
                "稍后将返回首页，并清除您的信息",
                "The kiosk will go back to the start and forget your details",
            )(lang)
            o.still_here.text = T("继续办理", "Continue")(lang)
        self.refreshes += 1

    def _overlay(self, overlay: FloatLayout, shown: bool) -> None:
        root = self.root
        if shown and overlay.parent is None:
            root.add_widget(overlay)
        elif not shown and overlay.parent is not None:
            root.remove_widget(overlay)
