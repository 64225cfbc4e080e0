"""The kiosk's few widgets: a big flat button, the on-screen keypad, a QR code, a usage chart.

Their look is in ``kv/widgets.kv``; here only what needs Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.graphics.texture import Texture
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.keypad import BACK, CLEAR, DIGITS, LETTERS

BLUE = (0.043, 0.361, 0.678, 1)  # #0B5CAD
BLUE_DOWN = (0.027, 0.255, 0.486, 1)
PAPER = (0.953, 0.965, 0.980, 1)  # #F3F6FA
INK = (0.102, 0.141, 0.200, 1)  # #1A2433
MUTED = (0.35, 0.40, 0.47, 1)
WHITE = (1, 1, 1, 1)
AMBER = (0.976, 0.780, 0.310, 1)
AMBER_SOFT = (1.0, 0.953, 0.835, 1)
RED = (0.776, 0.157, 0.157, 1)
GREEN = (0.180, 0.490, 0.196, 1)
GREY = (0.78, 0.80, 0.83, 1)
CARD = (1, 1, 1, 1)


class KButton(Button):
    """A flat button with rounded corners. ``fill`` / ``ink`` set its colours; ``key`` tells
    the driver and the tests which button it is (texts change with the language)."""

    fill = ColorProperty(BLUE)
    fill_down = ColorProperty(BLUE_DOWN)
    ink = ColorProperty(WHITE)
    key = StringProperty("")
    chosen = BooleanProperty(False)


def toggle(chosen: bool) -> dict[str, Any]:
    """Colours of a choice among several: the chosen one solid blue, the others white."""
    if chosen:
        return {"fill": BLUE, "fill_down": BLUE_DOWN, "ink": WHITE}
    return {"fill": CARD, "fill_down": GREY, "ink": BLUE}


class Keypad(GridLayout):
    """The on-screen keypad: digits (3 × 4, like a phone) or letters and digits."""

    letters = BooleanProperty(False)
    extra = StringProperty("")  # more keys (a '-' for VIP card numbers)
    labels = ListProperty(["清除", "⌫"])  # the words for CLEAR and BACK

    def __init__(self, **kwargs: Any) -> None:
        self.register_event_type("on_key")
        super().__init__(**kwargs)
        self.bind(letters=self._build, extra=self._build, labels=self._build)
        self._build()

    def on_key(self, key: str) -> None:
        pass

    def _build(self, *_: object) -> None:
        self.clear_widgets()
        if self.letters:
            keys: Sequence[str] = [*LETTERS, *DIGITS, *self.extra, CLEAR, BACK]
            self.cols = 8
        else:
            keys = [*"123456789", CLEAR, "0", BACK]
            self.cols = 3
        for key in keys:
            words = {CLEAR: self.labels[0], BACK: self.labels[1]}.get(key, key)
            button = KButton(text=words, key=f"key-{key}")
            if key in (CLEAR, BACK):
                button.fill, button.fill_down, button.ink = GREY, MUTED, INK
            button.bind(on_release=lambda _b, key=key: self.dispatch("on_key", key))
            self.add_widget(button)


class QrImage(Image):
    """A QR code drawn from its modules (no image file): crisp at any size."""

    data = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("fit_mode", "contain")  # scale the few-pixel texture up
        super().__init__(**kwargs)

    def on_data(self, _widget: Widget, data: str) -> None:
        if not data:
            self.texture = None
            return
        import qrcode

        code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
        code.add_data(data)
        code.make(fit=True)
        matrix = code.get_matrix()
        size = len(matrix)
        # RGBA keeps every row 4-byte aligned; the texture's first row is the bottom one.
        pixels = bytearray()
        for row in reversed(matrix):
            for dark in row:
                pixels += b"\x00\x00\x00\xff" if dark else b"\xff\xff\xff\xff"
        texture = Texture.create(size=(size, size), colorfmt="rgba")
        texture.blit_buffer(bytes(pixels), colorfmt="rgba", bufferfmt="ubyte")
        texture.mag_filter = "nearest"
        texture.min_filter = "nearest"
        self.texture = texture


class UsageChart(BoxLayout):
    """Monthly water use as bars, oldest on the left: ``bars`` = [(label, value, share)]."""

    bars = ListProperty()
    font_size = NumericProperty(20)

    def on_bars(self, *_: object) -> None:
        self.clear_widgets()
        for label, value, share in self.bars:
            column = BoxLayout(orientation="vertical", spacing=4)
            column.add_widget(
                Label(
                    text=value.split(" ")[0],
                    color=MUTED,
                    font_size=self.font_size * 0.7,
                    size_hint_y=None,
                    height=self.font_size * 1.2,
                )
            )
            holder = BoxLayout(orientation="vertical")
            holder.add_widget(Widget(size_hint_y=max(0.001, 1 - share)))
            holder.add_widget(Bar(size_hint_y=max(0.02, share)))
            column.add_widget(holder)
            column.add_widget(
                Label(
                    text=label,
                    color=INK,
                    font_size=self.font_size * 0.8,
                    size_hint_y=None,
                    height=self.font_size * 1.4,
                )
            )
            self.add_widget(column)


class Bar(Widget):
    pass
