"""A hall on real HTTP with the town of ``town.py``, its kiosks, and simulated SMS and wallet."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from servicedb.models import DeviceKind
from servicehall.bootstrap import HallSite, build_hall
from servicehall.config import load_settings
from servicehall.hall.kiosk_client import KioskClient
from servicehall.hall.kiosk_services import KioskServices
from servicehall.hall.tokens import issue_token
from servicehall.platform.database import close_database, open_database
from servicehall.platform.runner import bind, serving
from tests.builders import build_hall as build_test_hall
from tests.kiosk_hall.town import TownAccount, build_town

HALL = "hall-test"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Rig:
    url: str
    engine: Engine
    clock: Clock
    tokens: dict[str, str]
    town: list[TownAccount]
    site: HallSite
    data_dir: Path

    def client(self, who: str = "kiosk-1") -> KioskClient:
        return KioskClient(self.url, self.tokens[who], timeout_s=30)

    @property
    def kiosk(self) -> KioskServices:
        assert self.site.parts.kiosk is not None
        return self.site.parts.kiosk


@pytest.fixture
def rig(tmp_path: Path, sqlite_template: Path) -> Iterator[Rig]:
    settings = load_settings(
        None,
        {
            "SERVICEHALL_PATHS__DATA_DIR": str(tmp_path),
            "SERVICEHALL_HALL__LED_BOARD": "",
            "SERVICEHALL_HALL__VOICE": "false",
            "SERVICEHALL_HALL__CENTRAL_URL": "http://127.0.0.1:1",
        },
    )
    url = settings.database_url(HALL)
    shutil.copyfile(sqlite_template, url.removeprefix("sqlite:///"))  # migrated once per run
    engine = open_database(url, auto_upgrade=True)
    build_test_hall(engine, HALL)
    town = build_town(engine, HALL)
    tokens = {
        "kiosk-1": issue_token(engine, HALL, DeviceKind.KIOSK, "kiosk-1"),
        "kiosk-2": issue_token(engine, HALL, DeviceKind.KIOSK, "kiosk-2"),
        "counter-1": issue_token(
            engine, HALL, DeviceKind.COUNTER_TERMINAL, "counter-1", counters=[1]
        ),
    }
    clock = Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 10:00 in Beijing
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    site = build_hall(settings, HALL, clock=clock, port=port)
    try:
        with serving([site.endpoint], sockets=[sock]) as urls:
            yield Rig(urls[0], engine, clock, tokens, town, site, tmp_path)
    finally:
        site.close()
        close_database(engine)
