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
from kivy.uix.screenmanager import NoTransition

from kiosk.core import KioskCore
from kiosk.screens import ScreenName
from kiosk.text import Lang, T
from kiosk.ui.screens import SCREENS, KioskScreen, load_layout

log = logging.getLogger(__name__)

LAYOUTS = ("widgets", "root", *(s.key.value for s in SCREENS))
ELDERLY_SCALE = 1.3
BUSY_AFTER_S = 0.3
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
        self._detached = False
        self._to_build: list[type[KioskScreen]] = []
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
        # No animation between screens: the next screen is on the glass at the next frame
        # (a fade renders both screens off screen for every frame it lasts), and nothing
        # moves under a finger that is about to tap again.
        manager.transition = NoTransition()
        # A screen that is not showing keeps the position it had when it last showed; the
        # notice line moves the screens' area, so every screen follows it (a fade moves none).
        manager.bind(pos=_screens_follow)
        # The first screens now; the others one per frame after the home screen shows, so
        # a cold start draws home as soon as it can and no later tap waits for a build.
        for screen_class in SCREENS:
            if screen_class.key in (ScreenName.HOME, ScreenName.OUT_OF_SERVICE):
                manager.add_widget(screen_class(name=screen_class.key.value))
        self._to_build = [c for c in SCREENS if not manager.has_screen(c.key.value)]
        Clock.schedule_once(self._build_next, 0.5)
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

    def _build_next(self, _dt: float) -> None:
        if self._to_build:
            self._screen(self._to_build[0].key)
            Clock.schedule_once(self._build_next, 0)

    def _screen(self, name: ScreenName) -> KioskScreen:
        manager = self.root.ids.manager
        if not manager.has_screen(name.value):
            screen_class = next(c for c in SCREENS if c.key is name)
            manager.add_widget(screen_class(name=name.value))
            self._to_build = [c for c in self._to_build if c is not screen_class]
        screen: KioskScreen = manager.get_screen(name.value)
        return screen

    def on_start(self) -> None:
        self.core.start()

    def detach(self) -> None:
        """Take this app off the window (tests and benches build several in one process)."""
        self._detached = True
        self._ticker.cancel()
        # Nothing of this app may run later: a screen built after this would make kv's
        # cached ``app`` (kivy.lang.parser.ProxyApp) this app again.
        Clock.unschedule(self._build_next)
        Clock.unschedule(self.refresh)
        Clock.unschedule(self._show_busy)
        self._to_build.clear()
        # on_stop clears that cache, so the next app's layouts bind to the next app.
        self.dispatch("on_stop")
        App._running_app = None
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
        if self._detached:
            return
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
        # Hidden at home, never disabled: a disabled button's text is drawn again in grey,
        # and a tap on it at home is a harmless reset anyway.
        ids.home.opacity = 0 if at_home else 1
        manager = ids.manager
        screen = self._screen(chrome.screen)
        try:
            screen.refresh(chrome)
        except Exception:
            log.exception("drawing %s failed", chrome.screen)
        if manager.current != chrome.screen.value:
            manager.current = chrome.screen.value
        ids.notice.text = chrome.notice(lang) if chrome.notice else ""
        # "Please wait" only for a wait a person notices; quick answers do not flash it.
        if chrome.busy and self.busy_overlay.parent is None:
            Clock.schedule_once(self._show_busy, BUSY_AFTER_S)
        elif not chrome.busy:
            Clock.unschedule(self._show_busy)
            self._overlay(self.busy_overlay, False)
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

    def _show_busy(self, _dt: float) -> None:
        if self.core.busy:
            self._overlay(self.busy_overlay, True)

    def _overlay(self, overlay: FloatLayout, shown: bool) -> None:
        root = self.root
        if shown and overlay.parent is None:
            root.add_widget(overlay)
        elif not shown and overlay.parent is not None:
            root.remove_widget(overlay)
