"""The counter terminal and the hall screen in a real headless Chromium, against a real hall process."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from servicehall.demo.seed.city import DEMO_STAFF_PIN
from tests.conftest import service_missing

pytestmark = pytest.mark.ui
CLI = [sys.executable, "-m", "servicehall"]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    env = {
        **os.environ,
        "SERVICEHALL_PATHS__DATA_DIR": str(tmp_path),
        "SERVICEHALL_HALL__VOICE": "false",
        "SERVICEHALL_HALL__CENTRAL_URL": "http://127.0.0.1:1",
    }
    subprocess.run(
        [*CLI, "seed", "--site", "hall-xicheng", "--premises", "0"],
        env=env,
        check=True,
        capture_output=True,
    )

    # The hall runs on the real clock here: open round the clock, whatever time the test runs.
    with sqlite3.connect(tmp_path / "hall-xicheng.db") as db:
        db.execute("DELETE FROM hall_hours")

    def token(kind: str, name: str, *extra: str) -> str:
        return subprocess.run(
            [
                *CLI,
                "device-token",
                "--site",
                "hall-xicheng",
                "--kind",
                kind,
                "--name",
                name,
                *extra,
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    kiosk = token("kiosk", "kiosk-1")
    counter = token("counter_terminal", "counter-1", "--counter", "1")
    process = subprocess.Popen(
        [*CLI, "hall", "--site", "hall-xicheng", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    url = ""
    deadline = time.monotonic() + 60
    while not url and time.monotonic() < deadline:
        found = re.search(r"listening on (http://\S+)", process.stdout.readline())
        url = found.group(1) if found else url
    assert url, "the hall did not come up"
    yield url, kiosk, counter
    process.terminate()
    process.wait(20)


@pytest.fixture
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        service_missing("Chromium and chromedriver (Debian: chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        service_missing("selenium")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,800",
        "--lang=zh-CN",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def wait_for(check: Any, timeout: float = 10.0) -> Any:
    from selenium.common.exceptions import WebDriverException

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except WebDriverException as err:  # not rendered yet: the page fills in from the stream
            last, value = err, None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for the page ({last})")


def enabled(browser: Any, button: str) -> bool:
    from selenium.webdriver.common.by import By

    return bool(browser.find_element(By.ID, button).is_enabled())


def test_staff_sign_in_call_serve_and_finish_from_the_counter_page(
    hall: tuple[str, str, str], browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    url, kiosk, counter = hall
    for _ in range(2):
        httpx.post(
            f"{url}/api/v1/tickets",
            json={"category": "payment"},
            headers={"Authorization": f"Bearer {kiosk}"},
        ).raise_for_status()
    browser.get(f"{url}/counter?token={counter}&counter=1")
    assert "token=" not in browser.current_url  # the token is kept out of the address bar
    wait_for(lambda: browser.find_element(By.ID, "sign-in-panel").is_displayed())
    browser.find_element(By.ID, "staff-no").send_keys("S001")
    browser.find_element(By.ID, "pin").send_keys("0000")
    browser.find_element(By.ID, "sign-in").click()
    wait_for(lambda: "还可尝试 4 次" in browser.find_element(By.ID, "message").text)
    browser.find_element(By.ID, "pin").send_keys(DEMO_STAFF_PIN)
    browser.find_element(By.ID, "sign-in").click()
    wait_for(lambda: browser.find_element(By.ID, "work-panel").is_displayed())
    wait_for(lambda: browser.find_element(By.ID, "waiting-payment").text == "2")
    assert not enabled(browser, "start") and not enabled(browser, "finish")
    browser.find_element(By.ID, "next").click()
    wait_for(lambda: browser.find_element(By.ID, "current").text == "A001")
    assert "已叫号" in browser.find_element(By.ID, "current-state").text
    # Called, not yet served: "next" would drop the customer, so it is not offered.
    wait_for(lambda: not enabled(browser, "next") and enabled(browser, "start"))
    wait_for(lambda: browser.find_element(By.ID, "waiting-payment").text == "1")  # live, over SSE
    browser.refresh()  # a reload shows the same ticket
    wait_for(lambda: browser.find_element(By.ID, "current").text == "A001")
    browser.find_element(By.ID, "start").click()
    wait_for(lambda: "办理中" in browser.find_element(By.ID, "current-state").text)
    browser.find_element(By.ID, "finish").click()
    wait_for(lambda: browser.find_element(By.ID, "current").text == "—")
    # The customer presses 5 on the counter's rating pad; it is stored with the visit.
    wait_for(lambda: browser.find_element(By.ID, "rating").is_displayed())
    browser.find_element(By.CSS_SELECTOR, '.stars button[data-score="5"]').click()
    wait_for(lambda: "rated 5" in browser.find_element(By.ID, "history").text)
    browser.find_element(By.ID, "next").click()
    wait_for(lambda: browser.find_element(By.ID, "current").text == "A002")
    # SCREENSHOT_DIR=docs/images refreshes the README's picture from this test.
    folder = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))
    browser.save_screenshot(str(folder / "counter-terminal.png"))

    with sqlite3.connect(tmp_path / "hall-xicheng.db") as db:
        rated = db.execute(
            "SELECT number, rating FROM queue_tickets WHERE rating IS NOT NULL"
        ).fetchall()
    assert rated == [("A001", 5)]
    browser.get(f"{url}/screen")
    wait_for(lambda: browser.find_element(By.ID, "now-number").text == "A002")
    assert "counter 1" in browser.find_element(By.ID, "now-en").text
    browser.save_screenshot(str(tmp_path / "screen.png"))
    assert (tmp_path / "screen.png").stat().st_size > 10_000


def test_a_counter_page_without_a_valid_token_says_so(
    hall: tuple[str, str, str], browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    url, _, _ = hall
    browser.get(f"{url}/counter?token=wrong&counter=1")
    wait_for(lambda: "设备未授权" in browser.find_element(By.ID, "message").text)
