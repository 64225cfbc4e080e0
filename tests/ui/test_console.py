"""The dispatcher console in a real headless Chromium, against a real central process.

Central runs on the real clock with its dispatch job every second (auto-dispatch off, so
the test assigns); orders come in through the API as a call centre makes them, and as a
hall's would arrive by sync — reported long enough ago to be at risk or breached.
Screenshots go to the test's folder, and to ``$CONSOLE_SCREENSHOTS`` when set (that is
how docs/images/console*.png are made).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.console_staff import add_console_staff
from servicedb.engine import make_engine, make_session_factory
from servicedb.models import (
    AccountPhone,
    ConsoleRole,
    GpsFix,
    Site,
    Technician,
    WorkOrder,
    WorkOrderCategory,
    WorkOrderStatus,
)
from servicedb.types import utcnow
from servicehall.demo.seed import seed_city
from servicehall.platform.database import close_database, open_database
from tests.ui.test_counter_page import browser, wait_for  # noqa: F401 - the fixture

pytestmark = pytest.mark.ui
CLI = [sys.executable, "-m", "servicehall"]
PIN = "8642"


@dataclass
class Central:
    url: str
    db: Path
    tokens: dict[str, str]

    def api(self, who: str, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(
            method,
            f"{self.url}/api/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
            timeout=10,
        )
        response.raise_for_status()
        return response.json() if response.content else None


def _fix(db: Path, tracker_user: str, minutes_ago: float, lon: float, lat: float) -> None:
    """A position as the GPS ingest stores it."""
    engine = make_engine(f"sqlite:///{db}")
    with make_session_factory(engine, serialised_writes=True)() as session, session.begin():
        technician = session.scalars(
            select(Technician.id).where(Technician.tracker_user == tracker_user)
        ).one()
        session.add(
            GpsFix(
                technician_id=technician, fix_at=utcnow() - timedelta(minutes=minutes_ago),
                lon=lon, lat=lat, accuracy_m=10.0, speed_kmh=20.0, course_deg=0.0, source="owntracks",
            )
        )  # fmt: skip
    engine.dispose()


def _hall_order(
    db: Path, category: WorkOrderCategory, minutes_ago: float, text: str, lon: float, lat: float
) -> None:
    """A fault report as a hall makes it and sync carries it up: central's columns empty."""
    engine = make_engine(f"sqlite:///{db}")
    # BEGIN IMMEDIATE, as central's own writers do: a read-then-write transaction that began
    # deferred fails at once (no busy wait) when central committed in between.
    with make_session_factory(engine, serialised_writes=True)() as session, session.begin():
        hall = session.scalars(select(Site.id).where(Site.code == "hall-xicheng")).one()
        session.add(
            WorkOrder(
                id=uuid.uuid4(), origin_site_id=hall, created_at=utcnow() - timedelta(minutes=minutes_ago),
                number=f"XC-{uuid.uuid4().hex[:8]}", category=category, status=WorkOrderStatus.NEW,
                source="kiosk", priority=1 if category is WorkOrderCategory.BURST_MAIN else 3,
                description=text, lon=lon, lat=lat,
            )
        )  # fmt: skip
    engine.dispose()


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    """One central for the module: seeding and starting it is most of a UI test's time."""
    tmp_path = tmp_path_factory.mktemp("central")
    env = {
        **os.environ,
        "SERVICEHALL_PATHS__DATA_DIR": str(tmp_path),
        "SERVICEHALL_MQTT__PORT": "0",  # the embedded broker on a free port
        "SERVICEHALL_CENTRAL__DISPATCH__SWEEP_INTERVAL_S": "1",
        "SERVICEHALL_CENTRAL__DISPATCH__AUTO_DISPATCH_PRIORITY": "0",
    }
    run = {"env": env, "check": True, "capture_output": True}
    engine = open_database(f"sqlite:///{tmp_path / 'central.db'}", auto_upgrade=True)
    seed_city(engine, premises=50)  # in-process: the seed command has its own tests
    close_database(engine)
    # The CLI adds the dispatcher; the agent goes straight in (one process start less).
    subprocess.run(  # type: ignore[call-overload]
        [*CLI, "console", "add-staff", "--staff-no", "D001", "--name", "张明", "--pin", PIN,
         "--role", "dispatcher", "--role", "supervisor"],
        **run,
    )  # fmt: skip
    engine = make_engine(f"sqlite:///{tmp_path / 'central.db'}")
    with Session(engine) as session, session.begin():
        central_id = session.scalars(select(Site.id).where(Site.code == "central")).one()
        add_console_staff(session, central_id, "A001", "李静", PIN, [ConsoleRole.AGENT], cost=1024)
    engine.dispose()
    process = subprocess.Popen(
        [*CLI, "central", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    url = ""
    deadline = time.monotonic() + 60
    while not url and time.monotonic() < deadline:
        found = re.search(r"central listening on (http://\S+)", process.stdout.readline())
        url = found.group(1) if found else url
    assert url, "central did not come up"
    tokens = {}
    for staff_no in ("D001", "A001"):
        answer = httpx.post(
            f"{url}/api/v1/console/session", json={"staff_no": staff_no, "pin": PIN}
        )
        tokens[staff_no] = answer.json()["token"]
    yield Central(url, tmp_path / "central.db", tokens)
    process.terminate()
    process.wait(20)


def _shots(tmp_path: Path) -> list[Path]:
    folders = [tmp_path]
    if os.environ.get("CONSOLE_SCREENSHOTS"):
        folders.append(Path(os.environ["CONSOLE_SCREENSHOTS"]))
    return folders


def _save(browser: Any, tmp_path: Path, name: str) -> None:  # noqa: F811 - the fixture's name
    for folder in _shots(tmp_path):
        folder.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(folder / name))
    assert (tmp_path / name).stat().st_size > 20_000


def _click(browser: Any, css: str) -> None:  # noqa: F811 - the fixture's name
    """Click what the selector finds now; the page redraws its lists as the board changes."""
    from selenium.webdriver.common.by import By

    wait_for(lambda: browser.find_element(By.CSS_SELECTOR, css).click() or True)


def _drag_and_drop(browser: Any, source: str, target: str) -> None:  # noqa: F811
    """HTML5 drag and drop as the browser dispatches it (WebDriver's own drag cannot start one)."""
    browser.execute_script(
        """
        const [source, target] = [document.querySelector(arguments[0]), document.querySelector(arguments[1])];
        const data = new DataTransfer();
        for (const [el, type] of [[source, 'dragstart'], [target, 'dragover'], [target, 'drop'], [source, 'dragend']]) {
          el.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: data}));
        }
        """,
        source,
        target,
    )


def test_the_dispatcher_sees_the_city_assigns_by_pick_and_drag_and_reads_the_timeline(
    central: Central,
    browser: Any,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By

    _hall_order(central.db, WorkOrderCategory.BURST_MAIN, 120, "西四北大街爆管", 116.3731, 39.9302)
    _hall_order(central.db, WorkOrderCategory.LEAK, 50, "月坛南街漏水", 116.3450, 39.9120)
    leak = central.api("A001", "POST", "/work-orders", {
        "category": "leak", "description": "小区绿地漏水", "lon": 116.3420, "lat": 39.8841,
    })  # fmt: skip
    line = central.api("A001", "POST", "/work-orders", {
        "category": "line_fault", "description": "固定电话线路故障", "lon": 116.361, "lat": 39.895,
    })  # fmt: skip

    _fix(central.db, "crew-north-1-2", 1, 116.3688, 39.9355)  # a live phone, near the burst
    _fix(central.db, "crew-south-1-1", 20, 116.3640, 39.8800)  # silent for 20 minutes

    browser.get(f"{central.url}/console?poll=1000")
    browser.find_element(By.ID, "signin-staff").send_keys("D001")
    browser.find_element(By.ID, "signin-pin").send_keys(PIN)
    browser.find_element(By.ID, "signin-go").click()

    # The city: sixteen district metered areas drawn from central's zones, no tiles.
    wait_for(
        lambda: len(browser.find_elements(By.CSS_SELECTOR, "#map path.leaflet-interactive")) >= 16
    )
    assert not browser.find_elements(By.CSS_SELECTOR, ".leaflet-tile")
    # The hall's orders were taken in by the job (clocks from when they were reported) and are
    # coloured by their SLA state: the burst main two hours old is breached, the leak at risk.
    # (Until the job's next round they show as pending: grey.)
    pins = wait_for(lambda: _pins(browser) if _taken_in(_pins(browser)) else None)
    assert sorted(pins.values()) == ["at_risk", "breached", "ok", "ok"], pins
    assert pins[leak["id"]] == "ok"
    # Six crews of the demo city: one placed by its live phone, one faded (its phone went
    # quiet: placed at its depot), the rest at their depots; and the flag on the order no
    # crew can take.
    assert len(browser.find_elements(By.CSS_SELECTOR, ".crew-pin")) == 6
    assert len(browser.find_elements(By.CSS_SELECTOR, ".crew-pin.at-depot")) == 5
    assert len(browser.find_elements(By.CSS_SELECTOR, ".crew-pin.stale")) == 1
    assert "信号中断" in browser.find_element(By.ID, "crews").text
    wait_for(
        lambda: (
            "无合格班组"
            in browser.find_element(By.CSS_SELECTOR, f'.order-row[data-id="{line["id"]}"]').text
        )
    )
    assert "无法派单" in browser.find_element(By.ID, "alerts").text

    # Pick: open the leak, take the suggested crew.
    _click(browser, f'.order-row[data-id="{leak["id"]}"]')
    first = "#suggestions div.option:first-of-type"  # the best crew is listed first
    crew_id = wait_for(
        lambda: browser.find_element(By.CSS_SELECTOR, first).get_attribute("data-crew")
    )
    _click(browser, f"{first} button.primary")
    wait_for(lambda: "已派 Dispatched" in browser.find_element(By.ID, "detail-status").text)
    assert (
        central.api("D001", "GET", f"/work-orders/{leak['id']}")["order"]["crew"]["id"] == crew_id
    )
    kinds = wait_for(
        lambda: (
            [
                li.get_attribute("data-kind")
                for li in browser.find_elements(By.CSS_SELECTOR, "#timeline li")
            ]
            or None
        )
    )
    assert kinds == ["opened", "dispatched"]

    # Drag: the breached burst main onto a crew that mends burst mains.
    board = central.api("D001", "GET", "/work-orders")["orders"]
    burst = next(o for o in board if o["category"] == "burst_main")
    crews = {
        c["crew"]["code"]: c["crew"]["id"]
        for c in central.api("D001", "GET", "/console/state")["crews"]
    }
    _drag_and_drop(
        browser,
        f'.order-row[data-id="{burst["id"]}"]',
        f'.crew-row[data-id="{crews["crew-north-1"]}"]',
    )
    wait_for(
        lambda: (
            central.api("D001", "GET", f"/work-orders/{burst['id']}")["order"]["status"]
            == "dispatched"
        )
    )
    timeline = central.api("D001", "GET", f"/work-orders/{burst['id']}")["timeline"]
    assert [(e["kind"], e["actor_name"]) for e in timeline][-1] == ("dispatched", "D001")
    assert [e["kind"] for e in timeline][:2] == ["opened", "supervisor_notified"]  # breached before
    _click(browser, f'.order-row[data-id="{burst["id"]}"]')
    wait_for(lambda: "north-1" in browser.find_element(By.ID, "detail").text)
    _save(browser, tmp_path, "console.png")

    # The crew phones in: the leak is fixed (with no arrival report, its response time is
    # intake to resolution).
    central.api("D001", "POST", f"/work-orders/{leak['id']}/resolve", {"result": "fixed"})
    _click(browser, "#detail-close")

    # KPIs: today's row for all crews, and one per crew holding orders.
    _click(browser, '#tabs button[data-tab="kpis"]')
    rows = wait_for(
        lambda: browser.find_elements(By.CSS_SELECTOR, "#kpi-table tbody tr.total") or None
    )
    # Four orders this week (the hall's two may fall on yesterday if the test runs just after
    # midnight); the leak resolved at once counts as met and fixed first time.
    cells = [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in rows]
    assert sum(int(c[2]) for c in cells) == 4
    assert any(c[5].startswith("100%") and c[6].startswith("100%") for c in cells), cells
    assert browser.find_elements(By.CSS_SELECTOR, "#kpi-table tbody tr.crew")
    _save(browser, tmp_path, "console-kpis.png")


def test_an_agent_answers_a_call_and_logs_an_order_from_the_caller_card(
    central: Central,
    browser: Any,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    engine = make_engine(f"sqlite:///{central.db}")
    with Session(engine) as session:
        phone = session.scalars(
            select(AccountPhone.phone).order_by(AccountPhone.phone).limit(1)
        ).one()
    engine.dispose()
    browser.get(f"{central.url}/console?poll=1000")
    browser.find_element(By.ID, "signin-staff").send_keys("A001")
    browser.find_element(By.ID, "signin-pin").send_keys(PIN)
    browser.find_element(By.ID, "signin-go").click()
    wait_for(lambda: browser.find_element(By.ID, "app").is_displayed())
    browser.find_element(By.CSS_SELECTOR, '#tabs button[data-tab="caller"]').click()
    spaced = f"{phone[:3]} {phone[3:7]} {phone[7:]}"  # as a person types it
    browser.find_element(By.ID, "caller-phone").send_keys(spaced)
    browser.find_element(By.ID, "caller-go").click()
    card = wait_for(lambda: browser.find_element(By.CSS_SELECTOR, "#caller-card .customer"))
    assert "账期 Period" in card.text and card.find_elements(By.CSS_SELECTOR, "tbody tr")
    account = card.find_element(By.CSS_SELECTOR, ".account").get_attribute("data-account")
    Select(browser.find_element(By.ID, "intake-category")).select_by_value("meter_fault")
    browser.find_element(By.ID, "intake-description").send_keys("水表停走")
    browser.find_element(By.ID, "intake-go").click()
    number = wait_for(
        lambda: re.search(r"WO-\d{8}-\d{4}", browser.find_element(By.ID, "intake-result").text)
    )
    _save(browser, tmp_path, "console-caller.png")
    (order,) = [
        o
        for o in central.api("A001", "GET", "/work-orders")["orders"]
        if o["number"] == number.group(0)
    ]
    assert (order["account_no"], order["contact_phone"], order["category"]) == (
        account,
        phone,
        "meter_fault",
    )
    # An agent does not dispatch: no suggestions, and the order rows cannot be dragged.
    _click(browser, '#tabs button[data-tab="dispatch"]')
    row = wait_for(
        lambda: browser.find_element(By.CSS_SELECTOR, f'.order-row[data-id="{order["id"]}"]')
    )
    assert row.get_attribute("draggable") == "false"


def _taken_in(pins: dict[str, str]) -> bool:
    return len(pins) == 4 and "pending" not in pins.values()


def _pins(browser: Any) -> dict[str, str]:  # noqa: F811
    from selenium.webdriver.common.by import By

    found = {}
    for pin in browser.find_elements(By.CSS_SELECTOR, ".order-pin"):
        level = next(
            c.removeprefix("sla-")
            for c in pin.get_attribute("class").split()
            if c.startswith("sla-")
        )
        found[pin.get_attribute("data-order")] = level
    return found
