"""The kiosk process end to end: ``servicehall kiosk`` against a real hall on a real port,
with the printer simulator on a pty and the acquirer simulator on TCP owned by the test, the
card reader simulator on a pty inside the kiosk (its scripted customer swipes there).

The hall runs inside its opening hours on a fixed clock (the machine's own clock may be at
night in Beijing): the next 10:00 in Beijing, so the hall is never behind the kiosk's and
the simulators' real clocks (card approvals are refused from the future, QR orders expire by
the wallet's clock). It is seeded with the demo city; a "phone" pays the kiosk's QR order
through the hall's wallet simulator.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.acquirer.simulator import AcquirerSimulator
from devices.cardreader.simulator import VISA
from devices.printer.simulator import PrinterSimulator
from servicedb.models import DeviceKind, PaymentReceipt, QueueTicket
from servicehall.bootstrap import build_hall
from servicehall.config import load_settings
from servicehall.demo.kiosk_walkthrough import QrPhone
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


def next_ten_in_beijing(now: datetime) -> datetime:
    beijing = ZoneInfo("Asia/Shanghai")
    ten = datetime.combine(now.astimezone(beijing).date(), time(10), beijing)
    return ten if ten >= now else ten + timedelta(days=1)


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
    opening_hours = next_ten_in_beijing(datetime.now(UTC))
    site = build_hall(settings, HALL, clock=lambda: opening_hours)
    assert site.parts.kiosk is not None and site.parts.kiosk.wallet_simulator is not None
    phone = QrPhone(engine, site.parts.kiosk.wallet_simulator, pause_s=0.5).start()
    with serving([site.endpoint]) as urls:
        yield RealHall(urls[0], token, engine)
    phone.stop()
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
        lines = story.splitlines()
        assert lines[0] == "took ticket A001 (payment)", story
        assert lines[1].startswith("paid ¥") and " by card for XC" in lines[1], story
        assert lines[2].startswith("paid ¥") and " by QR for XC" in lines[2], story
        assert lines[3].startswith("reported a burst pipe: order XICHENG-R"), story
        assert lines[4].startswith("outages near "), story
        screens = sorted(p.name for p in (tmp_path / "walk" / "screens").glob("*.png"))
        assert screens[:3] == ["01-home.png", "02-ticket.png", "03-ticket_done.png"], screens
        assert {"card", "paid", "qr", "paid-qr", "report_done", "outages"} <= {
            name.split("-", 1)[1].removesuffix(".png") for name in screens
        }
        with Session(real_hall.engine) as session:  # type: ignore[arg-type]
            ticket = session.scalars(select(QueueTicket)).one()
            receipts = session.scalars(select(PaymentReceipt)).all()
        card = next(r for r in receipts if r.card_masked)
        assert len(receipts) == 2 and card.card_masked == "411111******1111"
        assert acquirer.charged_fen() == card.amount_fen  # charged once, for what was recorded
        # The ticket, the card receipt, the QR receipt and the fault report, in that order.
        assert printer.wait_for_receipts(4)
        texts = [
            (tmp_path / "paper" / f"receipt-{n:03d}.txt").read_text(encoding="utf-8")
            for n in range(1, 5)
        ]
        assert "A001" in texts[0] and f"[QR {real_hall.url}/t/{ticket.id}]" in texts[0]
        assert "西城营业厅" in texts[0]
        assert "411111******1111" in texts[1] and card.receipt_no in texts[1]
        assert "扫码支付" in texts[2] and "报修回执" in texts[3]
        # No card number or track data anywhere the run left: files, databases, logs.
        secrets = [VISA.pan, VISA.track1(), VISA.track2(), VISA.track2()[1:-1], f"{VISA.pan}="]
        for path in (p for p in tmp_path.rglob("*") if p.is_file()):
            content = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in content, f"{secret[:6]}… in {path.name}"
        for secret in secrets:
            assert secret not in done.stdout and secret not in done.stderr
    finally:
        printer.close()
        acquirer.close()
