"""``servicehall gps-bridge``: a simulated van's NMEA on a pty, through the real command and
a real broker, into OwnTracks messages and central's store."""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from devices.gps.simulator import GpsSimulator
from field_dispatch import owntracks
from servicedb.models import GpsFix
from servicehall.cli.gps_bridge import BrokerAddress, Throttle, parse_broker
from tests.dispatch_field import builders
from tests.dispatch_field.mqtt_tools import Central, Phone

ROUTE = [(116.3589, 39.9069), (116.3652, 39.9142), (116.3712, 39.9401)]


@pytest.mark.integration
def test_a_van_reports_through_the_bridge(
    broker: tuple[str, int], sqlite_db: Engine, tmp_path: Path
) -> None:
    crew = builders.crew(sqlite_db, members=1)
    user = crew.users[0]
    central = Central(sqlite_db, *broker)
    watcher = Phone(broker[1], "watcher", subscribe=f"owntracks/{user}/van")
    # Simulated seconds run 20× faster than ours: start in the past so no fix is "ahead".
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    van = GpsSimulator(ROUTE, speed_kmh=36, time_scale=20, link_dir=tmp_path, start=start)
    truth = {when: (lon, lat, speed, course) for when, lon, lat, speed, course in van.positions()}
    try:
        result = subprocess.run(
            [
                sys.executable, "-m", "servicehall", "gps-bridge",
                "--port", van.path, "--user", user, "--device", "van",
                "--broker", f"mqtt://{broker[0]}:{broker[1]}",
                "--every", "2", "--count", "4",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert watcher.wait_for(lambda got: len(got) == 4)
        fixes = []
        for topic, payload in watcher.received:
            fix = owntracks.parse(topic, payload, datetime.now(UTC))
            assert isinstance(fix, owntracks.Fix), fix
            fixes.append(fix)
        for fix in fixes:
            lon, lat, speed, course = truth[fix.at]  # the simulator's own second
            # NMEA carries 1/10,000 of a minute (~0.2 m); the booklet's vel/cog are integers.
            assert fix.lon == pytest.approx(lon, abs=2e-6)
            assert fix.lat == pytest.approx(lat, abs=2e-6)
            assert fix.vel_kmh == round(speed) and fix.cog_deg == round(course) % 360
            assert fix.trigger == "t" and fix.acc_m is None
        assert all(b.at - a.at >= timedelta(seconds=2) for a, b in itertools.pairwise(fixes))
        assert central.ingest.wait_until(lambda c: c.stored == 4)
        with Session(sqlite_db) as session:
            stored = session.scalars(select(GpsFix.fix_at).order_by(GpsFix.fix_at)).all()
        assert stored == [fix.at for fix in fixes]
    finally:
        van.close()
        watcher.close()
        central.close()


@pytest.mark.e2e
def test_an_unreachable_broker_is_exit_3(tmp_path: Path) -> None:
    van = GpsSimulator(ROUTE, link_dir=tmp_path)
    try:
        result = subprocess.run(
            [
                sys.executable, "-m", "servicehall", "gps-bridge",
                "--port", van.path, "--user", "u", "--broker", "mqtt://127.0.0.1:1",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
    finally:
        van.close()
    assert result.returncode == 3
    assert "cannot reach the MQTT broker at 127.0.0.1:1" in result.stderr


@pytest.mark.unit
def test_broker_addresses() -> None:
    assert parse_broker("mqtt://mqtt.internal") == BrokerAddress("mqtt.internal", 1883, False)
    assert parse_broker("mqtts://mqtt.internal") == BrokerAddress("mqtt.internal", 8883, True)
    assert parse_broker("10.0.0.5:1884") == BrokerAddress("10.0.0.5", 1884, False)
    for bad in ("http://x", "mqtt://", "mqtt://x:99999", "mqtt://u:p@x", "mqtt://x/topic"):
        with pytest.raises(click.BadParameter):
            parse_broker(bad)


@pytest.mark.unit
def test_the_throttle_counts_gps_seconds() -> None:
    throttle = Throttle(timedelta(seconds=5))
    t0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    passed = [s for s in range(0, 16) if throttle.passes(t0 + timedelta(seconds=s))]
    assert passed == [0, 5, 10, 15]
    assert throttle.passes(t0)  # the unit's clock jumped back (a reset): start over
