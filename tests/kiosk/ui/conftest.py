"""The real Kivy app in this process: booted once (offscreen SDL2, a small 540×960 panel so
software rendering stays quick), a fresh app and core on the device simulators per test.

Screenshots are kept in ``var/test-screenshots/kiosk`` (or ``$KIOSK_SCREENSHOTS``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config import KioskConfig, Panel
from tests.kiosk.rig import Rig, make_rig

PANEL = Panel(540, 960)
SHOTS = Path(os.environ.get("KIOSK_SCREENSHOTS", "var/test-screenshots/kiosk"))


@pytest.fixture(scope="session")
def kivy_window(tmp_path_factory: pytest.TempPathFactory) -> None:
    from kiosk.ui.boot import boot

    state = tmp_path_factory.mktemp("kivy")
    boot(KioskConfig("http://hall.invalid", "t", state, panel=PANEL), headless=True, max_fps=120)


@pytest.fixture
def ui(kivy_window: None, tmp_path: Path) -> Iterator[tuple[object, Rig]]:
    from kiosk.ui.app import KioskApp
    from kiosk.ui.driver import Driver

    for rig in make_rig(tmp_path):
        driver = Driver.start(KioskApp(rig.core))
        try:
            yield driver, rig
        finally:
            driver.stop()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Path:
    folder: Path = SHOTS / str(request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
