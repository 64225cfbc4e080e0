"""Positions through a real broker into the store: the embedded broker and Mosquitto, and a
Mosquitto restarted in the middle of a burst."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from servicedb.models import GpsFix
from servicedb.types import utcnow
from tests.dispatch_field import builders
from tests.dispatch_field.mqtt_tools import Central, Phone, PrivateMosquitto

pytestmark = pytest.mark.integration


def location(seconds_ago: int, lon: float) -> bytes:
    tst = int((utcnow() - timedelta(seconds=seconds_ago)).timestamp())
    return json.dumps({"_type": "location", "lat": 39.9142, "lon": lon, "tst": tst}).encode()


def rows(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(GpsFix)) or 0


@pytest.fixture
def private_mosquitto(tmp_path: Path) -> Iterator[PrivateMosquitto]:
    broker = PrivateMosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()


def test_phones_positions_reach_the_store(broker: tuple[str, int], sqlite_db: Engine) -> None:
    crew = builders.crew(sqlite_db, members=2)
    central = Central(sqlite_db, *broker)
    phones = [Phone(broker[1], user) for user in crew.users]
    try:
        for n in range(10):
            for phone in phones:
                phone.publish(f"owntracks/{phone.user}/phone", location(60 - n, 116.36 + n * 1e-4))
        phones[0].publish("owntracks/stranger/phone", location(1, 116.4))
        phones[0].publish(f"owntracks/{crew.users[0]}/phone", b"\x00not json")
        assert central.ingest.wait_until(
            lambda c: c.stored == 20 and c.unknown_user == 1 and c.malformed_total == 1
        )
        assert rows(sqlite_db) == 20
        positions = {p.user: p for p in central.ingest.positions()}
        assert positions[crew.users[1]].lon == pytest.approx(116.3609)
        snapshot = central.health.snapshot()["components"]["gps_ingest"]
        assert snapshot["state"] == "connected" and "stored 20" in snapshot["detail"]
    finally:
        for phone in phones:
            phone.close()
        central.close()


def test_a_broker_restart_mid_burst_loses_nothing_and_duplicates_nothing(
    private_mosquitto: PrivateMosquitto, sqlite_db: Engine
) -> None:
    crew = builders.crew(sqlite_db, members=1)
    # The writer in its own process, as build_central runs it.
    central = Central(sqlite_db, "127.0.0.1", private_mosquitto.port, writer="process")
    phone = Phone(private_mosquitto.port, crew.users[0], client_id="phone-restart-test")
    topic = f"owntracks/{crew.users[0]}/phone"
    total = 300
    try:
        for n in range(150):
            phone.publish(topic, location(total - n, 116.30 + n * 1e-4))
        assert central.ingest.wait_until(lambda c: c.stored >= 50)
        private_mosquitto.stop()  # mid-burst: some fixes are in flight, some still queued
        for n in range(150, total):  # the phone keeps reporting while the broker is away
            phone.publish(topic, location(total - n, 116.30 + n * 1e-4))
        private_mosquitto.start()
        assert central.ingest.wait_until(lambda c: c.stored == total, timeout_s=30), (
            central.ingest.counters
        )
        assert rows(sqlite_db) == total
        latest = central.ingest.position(crew.users[0])
        assert latest is not None and latest.lon == pytest.approx(116.30 + (total - 1) * 1e-4)
    finally:
        phone.close()
        central.close()
