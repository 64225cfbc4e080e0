"""The hall screen in a real headless Chromium against a real hall process, at TV sizes, under load.

Set SCREENSHOT_DIR=docs/images to refresh the README's pictures from this test.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from domain.queueing.engine import HallQueue
from servicedb.engine import make_engine
from servicedb.models import (
    Announcement,
    DeviceKind,
    HallHours,
    Outage,
    OutageKind,
    OutageStatus,
    Site,
)
from servicehall.demo.seed import seed_city
from servicehall.demo.seed.city import DEMO_STAFF_PIN, VIP_CUSTOMERS
from servicehall.hall.tokens import issue_token
from servicehall.platform.database import close_database, open_database
from tests.conftest import service_missing

pytestmark = pytest.mark.ui
CLI = [sys.executable, "-m", "servicehall"]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HALL = "hall-xicheng"
AROUND_THE_HALL = '{"type":"Polygon","coordinates":[[[116.36,39.91],[116.37,39.91],[116.37,39.92],[116.36,39.92],[116.36,39.91]]]}'
# Starts at 09:30 and 10:15 Beijing time on the first of the year; neither has ended.
NOTICES = (
    (
        OutageKind.EMERGENCY_REPAIR,
        "阜成门内大街爆管抢修",
        "burst main on Fuchengmennei Street",
        datetime(2026, 1, 1, 1, 30, tzinfo=UTC),
    ),
    (
        OutageKind.LOW_PRESSURE,
        "降压通知：西城区北部夜间降压供水",
        "Low pressure: reduced pressure at night in northern Xicheng",
        datetime(2026, 1, 1, 2, 15, tzinfo=UTC),
    ),
)
SHOWN_NOTICES = [
    (
        "抢修通知：阜成门内大街爆管抢修 09:30 起",
        "Emergency repair: burst main on Fuchengmennei Street from 09:30",
    ),
    (
        "降压通知：西城区北部夜间降压供水 10:15 起",
        "Low pressure: reduced pressure at night in northern Xicheng from 10:15",
    ),
]
PER_CATEGORY = 44
CATEGORIES = ("payment", "new_connection", "repair_complaint", "enquiry", "vip")


def prepare_database(url: str) -> tuple[str, str]:
    """The seeded city, two outages touching the hall, two of the three seeded announcements
    still running; the kiosk's and the counter terminal's tokens."""
    engine = open_database(url, auto_upgrade=True)
    try:
        seed_city(engine, premises=0)
        with Session(engine) as session:
            central = session.query(Site).filter_by(code="central").one()
            for kind, title_zh, title_en, starts in NOTICES:
                session.add(
                    Outage(
                        origin_site_id=central.id,
                        kind=kind,
                        status=OutageStatus.ACTIVE,
                        title_zh=title_zh,
                        title_en=title_en,
                        area_geojson=AROUND_THE_HALL,
                        starts_at=starts,
                        estimated_restore_at=None,
                        created_at=starts,
                    )
                )
            session.execute(
                update(Announcement)
                .where(Announcement.priority == 2)
                .values(ends_at=datetime.now(UTC) - timedelta(minutes=1))
            )
            # The hall runs on the real clock here: open round the clock, whenever the test runs.
            session.execute(delete(HallHours))
            session.commit()
        return (
            issue_token(engine, HALL, DeviceKind.KIOSK, "kiosk-1"),
            issue_token(
                engine, HALL, DeviceKind.COUNTER_TERMINAL, "counter-1", counters=range(1, 7)
            ),
        )
    finally:
        close_database(engine)


def crowd_in(url: str) -> None:
    """A busy morning: PER_CATEGORY tickets of every service, taken through the queue engine
    in one transaction (one fsync, not 220) while the hall runs."""
    engine = make_engine(url)
    try:
        queue = HallQueue(engine, HALL)
        with queue.units() as work:
            for _ in range(PER_CATEGORY):
                for category in CATEGORIES:
                    card = VIP_CUSTOMERS[0][1] if category == "vip" else None
                    queue.take_ticket(category, vip_card=card, uow=work)
            work.commit()
    finally:
        engine.dispose()


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[tuple[str, str, str, str]]:
    """(the hall's URL, its database URL, a kiosk token, a counter terminal token)"""
    env = {
        **os.environ,
        "SERVICEHALL_PATHS__DATA_DIR": str(tmp_path),
        "SERVICEHALL_HALL__VOICE": "false",
        "SERVICEHALL_HALL__LED_BOARD": "",
        "SERVICEHALL_HALL__CENTRAL_URL": "http://127.0.0.1:1",
    }
    database = f"sqlite:///{tmp_path}/{HALL}.db"
    kiosk, counter = prepare_database(database)
    process = subprocess.Popen(
        [*CLI, "hall", "--site", HALL, "--port", "0"],
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
    yield url, database, kiosk, counter
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
        "--hide-scrollbars",
        "--lang=zh-CN",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def screen_size(browser: Any, width: int, height: int) -> None:
    """The viewport exactly as a TV's: no window chrome to subtract."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def wait_for(check: Any, timeout: float = 15.0) -> Any:
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


# Everything a person must be able to read, and the box it has to stay inside.
FIT_CHECK = """
const parts = "header, #notices .notice, #now h2, #now-number, #now-zh, #now-en, .counter, "
  + "#waiting tr, #announcement-zh, #announcement-en";
const vw = window.innerWidth, vh = window.innerHeight, problems = [];
for (const node of document.querySelectorAll(parts)) {
  const r = node.getBoundingClientRect();
  const box = (node.closest("section, #notices, footer") || document.body).getBoundingClientRect();
  const name = (node.id || node.className || node.tagName) + ": " + node.textContent.trim().slice(0, 30);
  if (r.width === 0 || r.height === 0) problems.push("hidden " + name);
  if (r.top < 0 || r.left < 0 || r.bottom > vh + 0.5 || r.right > vw + 0.5) problems.push("off screen " + name);
  if (r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5 || r.right > box.right + 0.5) problems.push("spills out " + name);
  if (node.scrollWidth > node.clientWidth + 1) problems.push("text cut " + name);
}
const page = document.scrollingElement;
return {scrollHeight: page.scrollHeight, scrollWidth: page.scrollWidth, innerHeight: vh,
        innerWidth: vw, problems: problems};
"""


def assert_fits(browser: Any, width: int, height: int) -> None:
    fit = browser.execute_script(FIT_CHECK)
    assert (fit["innerWidth"], fit["innerHeight"]) == (width, height)
    assert fit["scrollHeight"] <= fit["innerHeight"], fit
    assert fit["scrollWidth"] <= fit["innerWidth"], fit
    assert fit["problems"] == []


def texts(browser: Any, selector: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [node.text for node in browser.find_elements(By.CSS_SELECTOR, selector)]


def picture(browser: Any, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(folder / name))
    assert (folder / name).stat().st_size > 20_000


def test_the_screen_fits_a_tv_either_way_up_under_a_busy_hall(
    hall: tuple[str, str, str, str], browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    url, database, _kiosk, counter = hall
    auth = {"Authorization": f"Bearer {counter}"}
    with httpx.Client(base_url=url, timeout=30) as http:
        for number in range(1, 7):
            http.post(
                f"/api/v1/counters/{number}/sign-in",
                json={"staff_no": f"S00{number}", "pin": DEMO_STAFF_PIN},
                headers=auth,
            ).raise_for_status()
    screen_size(browser, 1920, 1080)
    browser.get(f"{url}/screen")
    # Before the doors open: every service has a counter and nobody waits.
    wait_for(lambda: len(texts(browser, "#waiting tr")) == 5)
    assert {w.split("\n")[0] for w in texts(browser, "#waiting td.wait")} == {"无需等候"}
    assert {w.split("\n")[1] for w in texts(browser, "#waiting td.wait")} == {"No wait"}

    crowd_in(database)
    with httpx.Client(base_url=url, timeout=30) as http:
        for number in range(1, 7):
            http.post(
                f"/api/v1/counters/{number}/next", headers={"Authorization": f"Bearer {counter}"}
            ).raise_for_status()
        last = http.get("/api/v1/queue").json()["recent_calls"][0]
    assert last["counter"] == 6

    wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, ".counter")) == 6)
    wait_for(lambda: browser.find_element(By.ID, "now-number").text == last["number"])
    people = [int(n) for n in texts(browser, "#waiting td.people")]
    assert len(people) == 5 and min(people) >= 40
    assert browser.find_element(By.CSS_SELECTOR, "#now h2").text == "正在叫号 Now calling"
    assert browser.find_element(By.ID, "now-zh").text == f"请 {last['number']} 号到 6 号窗口"
    assert browser.find_element(By.ID, "now-en").text == f"{last['number']} to counter 6"
    # The outage notices, word for word as the LED board says them, zh above en.
    wait_for(lambda: len(texts(browser, "#notices .notice")) == 2)
    assert [tuple(n.split("\n")) for n in texts(browser, "#notices .notice")] == SHOWN_NOTICES
    # Two announcements take turns in the footer (the third seeded one has ended).
    shown = browser.find_element(By.ID, "announcement-zh").text
    assert shown.startswith(("本厅营业时间", "自助终端支持")), shown
    assert re.fullmatch(r"[12] / 2", browser.find_element(By.ID, "announcements-page").text)
    assert "分钟" in texts(browser, "#waiting td.wait")[0]

    assert_fits(browser, 1920, 1080)
    picture(browser, "hall-screen.png", tmp_path)
    screen_size(browser, 1080, 1920)
    assert_fits(browser, 1080, 1920)
    picture(browser, "hall-screen-portrait.png", tmp_path)

    # A new call flashes, in Chinese first, then English.
    with httpx.Client(base_url=url, timeout=30) as http:
        http.post("/api/v1/counters/1/start", headers=auth).raise_for_status()
        called = http.post("/api/v1/counters/1/next", headers=auth).json()["ticket"]["number"]
        # The only counter serving VIPs closes: the screen says so, it does not promise 0 minutes.
        http.post("/api/v1/counters/6/sign-out", headers=auth).raise_for_status()
    wait_for(lambda: browser.find_element(By.ID, "now-zh").text == f"请 {called} 号到 1 号窗口")
    assert "flash" in browser.find_element(By.ID, "now").get_attribute("class")
    vip = '#waiting tr[data-category="vip"] td.wait'
    wait_for(lambda: browser.find_element(By.CSS_SELECTOR, vip).text == "暂停服务\nNo counter open")
    assert "约 0" not in browser.find_element(By.TAG_NAME, "body").text
