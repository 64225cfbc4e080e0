"""Kivy's settings, made before Kivy is imported (its window reads them once, at import).

- ``KIVY_NO_ARGS``: the kiosk's command line is ours, not Kivy's.
- ``KIVY_LOG_MODE=PYTHON``: Kivy logs through Python's logging and leaves its handlers alone.
- ``KIVY_HOME``: Kivy's own config and logs go under the kiosk's state folder, not ``~/.kivy``.
- ``SDL_VIDEODRIVER=offscreen`` when headless: the SDL2 that the Kivy 2.3 wheel brings renders
  without an X server, and ``Window.screenshot`` still gives real pixels.
- Kiosk mode: a borderless window of the panel's exact size at the top left corner (no
  display-mode change), no mouse cursor, Esc does not quit.
- The default font is the Simplified Chinese face extracted by ``kiosk.fonts`` (Kivy would
  open the Japanese face of the collection).
"""

from __future__ import annotations

import os
from pathlib import Path

from kiosk.config import KioskConfig
from kiosk.fonts import kiosk_font

FONT_NAME = "KioskSans"


def boot(config: KioskConfig, *, headless: bool, max_fps: int = 30) -> None:
    """``max_fps=0``: frames as fast as they come (tests and scripted runs pump frames)."""
    if "kivy.core.window" in __import__("sys").modules:
        raise RuntimeError("boot() must run before Kivy's window is imported")
    home = config.state_dir / "kivy"
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_HOME", str(home))
    # SDL would turn SIGTERM into a window-close request, which a kiosk refuses; the process
    # handles SIGTERM itself (kiosk.process) and stops cleanly.
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
    fonts = Path(os.environ["KIVY_HOME"]) / "fonts"
    regular, bold = kiosk_font(fonts), kiosk_font(fonts, bold=True)

    from kivy.config import Config

    panel = config.panel
    Config.set("graphics", "width", str(panel.width))
    Config.set("graphics", "height", str(panel.height))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "maxfps", str(max_fps))
    Config.set("graphics", "multisamples", "0")
    if config.kiosk_mode:
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", "0")
        Config.set("graphics", "top", "0")
        Config.set("graphics", "show_cursor", "0")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "pause_on_minimize", "0")
    Config.set(
        "kivy", "default_font", str([FONT_NAME, str(regular), str(regular), str(bold), str(bold)])
    )
    # A touch panel: no red multitouch dots from a right click, no inspector or screenshots keys.
    Config.set("input", "mouse", "mouse,disable_multitouch")
    for module in ("inspector", "screenshot", "monitor", "keybinding"):
        if Config.has_option("modules", module):
            Config.remove_option("modules", module)
