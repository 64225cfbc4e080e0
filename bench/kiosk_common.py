"""What the kiosk benches share: a real hall on a real port, inside its opening hours.

The hall is the demo city's Xicheng hall (seeded small), built by ``build_hall`` on a fixed
clock at the next 10:00 Beijing time (inside opening hours, and never behind the real
clocks of the kiosk and the simulators: card approvals are refused from the future) and
served by the platform's runner — the same server, protocol and database the hall process
uses.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from servicedb.models import DeviceKind
from servicehall.bootstrap import HallSite, build_hall
from servicehall.config import load_settings
from servicehall.demo.seed import seed_city
from servicehall.hall.tokens import issue_token
from servicehall.platform.database import close_database, open_database
from servicehall.platform.runner import serving

HALL = "hall-xicheng"
BEIJING = ZoneInfo("Asia/Shanghai")


def next_ten_in_beijing(now: datetime) -> datetime:
    ten = datetime.combine(now.astimezone(BEIJING).date(), time(10), BEIJING)
    return ten if ten >= now else ten + timedelta(days=1)


@dataclass
class BenchHall:
    url: str
    token: str
    engine: Engine
    site: HallSite


@contextlib.contextmanager
def real_hall(folder: Path, *, premises: int = 30) -> Iterator[BenchHall]:
    settings = load_settings(
        None,
        {
            "SERVICEHALL_PATHS__DATA_DIR": str(folder),
            "SERVICEHALL_HALL__LED_BOARD": "",
            "SERVICEHALL_HALL__VOICE": "false",
            "SERVICEHALL_HALL__CENTRAL_URL": "http://127.0.0.1:1",
            "SERVICEHALL_HALL__HTTP__PORT": "0",
        },
    )
    engine = open_database(settings.database_url(HALL), auto_upgrade=True)
    seed_city(engine, premises=premises)
    token = issue_token(engine, HALL, DeviceKind.KIOSK, "kiosk-bench")
    opening_hours = next_ten_in_beijing(datetime.now(UTC))
    site = build_hall(settings, HALL, clock=lambda: opening_hours)
    try:
        with serving([site.endpoint]) as urls:
            yield BenchHall(urls[0], token, engine, site)
    finally:
        site.close()
        close_database(engine)


def _serve_hall(folder: Path, premises: int, answer: Any, stop: Any) -> None:
    with real_hall(folder, premises=premises) as hall:
        answer.send((hall.url, hall.token))
        stop.wait()


@contextlib.contextmanager
def hall_process(folder: Path, *, premises: int = 30) -> Iterator[tuple[str, str]]:
    """The same hall in a process of its own (URL, kiosk token): as on a kiosk, where the
    hall is another machine, its work does not share the kiosk's interpreter."""
    context = multiprocessing.get_context("spawn")
    answer, reply = context.Pipe()
    stop = context.Event()
    process = context.Process(target=_serve_hall, args=(folder, premises, reply, stop), daemon=True)
    process.start()
    try:
        if not answer.poll(120):
            raise RuntimeError("the hall process did not start")
        yield answer.recv()
    finally:
        stop.set()
        process.join(30)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(share * len(ordered)) - 1)]


def figures(name: str, values: list[float], baseline: list[float] | None = None) -> str:
    """One line: median and p95 in ms, and the ratio of medians to the baseline's."""
    line = f"{name:<44} p50 {statistics.median(values) * 1000:8.1f} ms   p95 {percentile(values, 0.95) * 1000:8.1f} ms"
    if baseline:
        line += f"   ×{statistics.median(values) / statistics.median(baseline):.2f} of the baseline"
    return line
