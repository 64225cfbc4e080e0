"""Cold start of the kiosk process to its home screen on the glass (goal ≤ 3 s).

    .venv/bin/python bench/kiosk_cold_start.py [--runs N] [--panel 1080x1920]

Each run starts the kiosk (headless: SDL2's offscreen driver, the same rendering path as
a panel without a GPU) against a real hall with simulated devices, and times the process
from ``Popen`` to its "home screen drawn" line, printed after the first frame that shows
the home screen has been flipped. Both entry points: ``python -m kiosk`` (what a kiosk's
service unit runs) and ``servicehall kiosk`` (which loads all of servicehall's command
line first). One untimed run first: a kiosk extracts its Chinese font at its first start.

Baseline, measured in the same run: a bare Kivy app — the same interpreter, environment
and window size — that shows one label, to its first flipped frame. The ratio says what
the kiosk adds on top of Kivy itself.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kiosk_common import figures, real_hall

BARE = """
import os, time
os.environ.setdefault("KIVY_NO_ARGS", "1")
from kivy.config import Config
w, h = os.environ["BENCH_PANEL"].split("x")
Config.set("graphics", "width", w); Config.set("graphics", "height", h)
from kivy.app import App
from kivy.core.window import Window
from kivy.uix.label import Label

class Bare(App):
    def load_kv(self, filename=None):
        return None
    def build(self):
        Window.bind(on_flip=self.flipped)
        return Label(text="Hello")
    def flipped(self, *_):
        print("ready", flush=True)
        self.stop()

Bare().run()
"""


def until_line(command: list[str], env: dict[str, str], marker: str) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if marker in line:
                return time.perf_counter() - started
        raise RuntimeError(f"{command[:4]} ended without printing {marker!r}")
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--panel", default="1080x1920")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, real_hall(Path(tmp) / "hall") as hall:
        state = Path(tmp) / "kiosk"
        env = {
            **os.environ,
            "KIOSK_TOKEN": hall.token,
            "KIVY_NO_ARGS": "1",
            "KIVY_LOG_MODE": "PYTHON",
            "KIVY_HOME": str(state / "kivy"),
            "SDL_VIDEODRIVER": "offscreen",
            "BENCH_PANEL": args.panel,
        }
        options = [
            "--hall",
            hall.url,
            "--headless",
            "--panel",
            args.panel,
            "--state-dir",
            str(state),
        ]
        appliance = [sys.executable, "-m", "kiosk", *options]
        servicehall = [sys.executable, "-m", "servicehall", "kiosk", *options]
        bare = [sys.executable, "-c", BARE]
        first = until_line(appliance, env, "home screen drawn")
        until_line(bare, env, "ready")
        kiosk_s: list[float] = []
        servicehall_s: list[float] = []
        bare_s: list[float] = []
        for _ in range(args.runs):
            bare_s.append(until_line(bare, env, "ready"))
            kiosk_s.append(until_line(appliance, env, "home screen drawn"))
            servicehall_s.append(until_line(servicehall, env, "home screen drawn"))
    print(f"cold start to the home screen, {args.runs} runs, panel {args.panel} (goal ≤ 3 s)")
    print(f"{'first start ever (font extracted)':<44} {first * 1000:8.1f} ms")
    print(figures("bare Kivy app to its first frame (baseline)", bare_s))
    print(figures("python -m kiosk to its home screen", kiosk_s, bare_s))
    print(figures("servicehall kiosk to its home screen", servicehall_s, bare_s))


if __name__ == "__main__":
    main()
