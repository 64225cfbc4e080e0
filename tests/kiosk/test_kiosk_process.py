"""The kiosk process end to end: ``servicehall kiosk`` against a real hall on a real port,
with the printer simulator on a pty and the acquirer simulator on TCP owned by the test, the
card reader simulator on a pty inside the kiosk (its scripted customer swipes there).

The hall runs inside its opening hours on a fixed clock (the machine's own clock may be at
night in Beijing), seeded with the demo city.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.acquirer.simulator import AcquirerSimulator
from devices.printer.simulator import PrinterSimulator
from servicedb.models import DeviceKind, QueueTicket
from servicehall.bootstrap import build_hall
from servicehall.config import load_settings
from servicehall.demo.seed import seed_city
from servicehall.hall.tokens import issue_token
from servicehall.platform.database import close_database, open_database
from servicehall.platform.runner import serving

pytestmark = pytest.mark.e2e
HALL = "hall-xicheng"


@dataclass
class RealHall:
    url: str
    token: str
    engine: object


@pytest.fixture
def real_hall(tmp_path: Path) -> Iterator[RealHall]:
    settings = load_settings(
        None,
        {
            "SERVICEHALL_PATHS__DATA_DIR": str(tmp_path / "hall"),
            "SERVICEHALL_HALL__LED_BOARD": "",
            "SERVICEHALL_HALL__VOICE": "false",
            "SERVICEHALL_HALL__CENTRAL_URL": "http://127.0.0.1:1",
            "SERVICEHALL_HALL__HTTP__PORT": "0",
        },
    )
    engine = open_database(settings.database_url(HALL), auto_upgrade=True)
    seed_city(engine, premises=30)
    token = issue_token(engine, HALL, DeviceKind.KIOSK, "kiosk-e2e")
    opening_hours = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing
    site = build_hall(settings, HALL, clock=lambda: opening_hours)
    with serving([site.endpoint]) as urls:
        yield RealHall(urls[0], token, engine)
    site.close()
    close_database(engine)


def run_kiosk(
    hall: RealHall, tmp: Path, printer: str, acquirer: str
) -> subprocess.CompletedProcess[str]:
    out = tmp / "walk"
    env = {**os.environ, "KIOSK_TOKEN": hall.token, "KIVY_NO_ARGS": "1"}
    command = [
        sys.executable, "-m", "servicehall", "kiosk",
        "--hall", hall.url,
        "--printer", printer,
        "--card-reader", "simulated",
        "--acquirer", acquirer,
        "--panel", "540x960",
        "--headless",
        "--state-dir", str(tmp / "state"),
        "--walkthrough", str(out),
    ]  # fmt: skip
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=240, check=False
    )


def test_the_kiosk_process_serves_a_customer(real_hall: RealHall, tmp_path: Path) -> None:
    printer = PrinterSimulator(tmp_path / "paper", render_png=False)
    acquirer = AcquirerSimulator()
    try:
        done = run_kiosk(real_hall, tmp_path, printer.url, f"{acquirer.host}:{acquirer.port}")
        assert done.returncode == 0, done.stderr[-3000:]
        assert "kiosk ready: home screen drawn" in done.stdout
        story = (tmp_path / "walk" / "walkthrough.txt").read_text(encoding="utf-8")
        assert "took ticket A001 (payment)" in story, story
        screens = sorted(p.name for p in (tmp_path / "walk" / "screens").glob("*.png"))
        assert screens[:3] == ["01-home.png", "02-ticket.png", "03-ticket_done.png"], screens
        with Session(real_hall.engine) as session:  # type: ignore[arg-type]
            ticket = session.scalars(select(QueueTicket)).one()
        assert printer.wait_for_receipts(1)
        receipt = (tmp_path / "paper" / "receipt-001.txt").read_text(encoding="utf-8")
        assert "A001" in receipt and f"[QR {real_hall.url}/t/{ticket.id}]" in receipt
        assert "西城营业厅" in receipt
    finally:
        printer.close()
        acquirer.close()
