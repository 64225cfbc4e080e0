"""The demo's simulated hall day reaches a real browser's /screen through the live stream,
and the demo stops promptly with that screen still connected."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.ui.test_counter_page import browser, wait_for  # noqa: F401 - the fixture

pytestmark = pytest.mark.ui


def _read_until(process: subprocess.Popen[str], pattern: str, timeout: float) -> re.Match[str]:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if not ready:
            continue
        line = process.stdout.readline()
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found
    raise AssertionError(f"the demo never printed {pattern!r}: {''.join(seen)}")


def test_a_call_of_the_simulated_day_arrives_on_the_screen_and_the_demo_stops_cleanly(
    tmp_path: Path,
    browser: Any,  # noqa: F811 - pytest's fixture injection
) -> None:
    from selenium.webdriver.common.by import By

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "servicehall",
            "demo",
            "--headless",
            "--minutes",
            "10",
            "--premises",
            "100",
            "--data-dir",
            str(tmp_path / "demo"),
        ],
        env={**os.environ, "SERVICEHALL_HALL__VOICE": "false"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        screen = _read_until(process, r"hall screen:\s+(\S+)", 180).group(1)
        _read_until(process, r"servicehall demo is up", 60)
        browser.get(screen)
        first = wait_for(
            lambda: re.fullmatch(r"[A-Z]\d{3}", browser.find_element(By.ID, "now-number").text), 30
        )
        # The page is not reloaded: a later call arrives over the stream.
        wait_for(
            lambda: (
                re.fullmatch(r"[A-Z]\d{3}", browser.find_element(By.ID, "now-number").text)
                and browser.find_element(By.ID, "now-number").text != first.group(0)
            ),
            60,
        )
        browser.save_screenshot(str(tmp_path / "demo-screen.png"))
        asked = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        print(f"the demo stopped {time.monotonic() - asked:.2f} s after SIGTERM with /screen open")
        assert code == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
