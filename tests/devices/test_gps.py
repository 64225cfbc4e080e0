"""NMEA 0183: published sentences, talkers, checksums, fuzzing, and a drive over a pty."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.gps.nmea import Gga, NmeaError, Other, Rmc, checksum, parse, sentence
from devices.gps.simulator import GpsSimulator, nmea_for
from devices.gps.unit import GpsUnit

GGA = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47"
RMC = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A"


@pytest.mark.unit
def test_published_gga() -> None:
    gga = parse(GGA)
    assert isinstance(gga, Gga) and gga.has_fix
    assert gga.lat == pytest.approx(48.1173) and gga.lon == pytest.approx(11.516667, abs=1e-6)
    assert (gga.quality, gga.satellites, gga.hdop, gga.altitude_m) == (1, 8, 0.9, 545.4)


@pytest.mark.unit
def test_published_rmc_speed_in_kmh() -> None:
    rmc = parse(RMC)
    assert isinstance(rmc, Rmc) and rmc.valid
    assert rmc.when == datetime(1994, 3, 23, 12, 35, 19, tzinfo=UTC)
    assert rmc.speed_kmh == pytest.approx(22.4 * 1.852)
    assert rmc.course_deg == 84.4


@pytest.mark.unit
@pytest.mark.parametrize("talker", ["GN", "BD", "GP"])
def test_chinese_receivers_talkers(talker: str) -> None:
    data = nmea_for(
        datetime(2026, 11, 22, 8, 0, tzinfo=UTC), 116.3589, 39.9069, 36.0, 90.0, talker=talker
    )
    gga, rmc = (parse(line) for line in data.splitlines())
    assert isinstance(gga, Gga) and isinstance(rmc, Rmc)
    assert rmc.talker == talker
    assert rmc.lon == pytest.approx(116.3589, abs=1e-5) and rmc.lat == pytest.approx(
        39.9069, abs=1e-5
    )


@pytest.mark.unit
def test_checksum_and_no_fix() -> None:
    with pytest.raises(NmeaError, match="checksum"):
        parse(GGA[:-2] + "00")
    no_fix = parse(sentence("GNGGA,080000.00,,,,,0,00,99.9,,M,,M,,"))
    assert isinstance(no_fix, Gga) and not no_fix.has_fix
    assert isinstance(parse(sentence("GPGSV,1,1,00")), Other)
    assert checksum("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,") == "47"


@pytest.mark.unit
@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=100))
def test_random_bytes_are_a_sentence_or_a_typed_error(data: bytes) -> None:
    with contextlib.suppress(NmeaError):
        parse(data)


@pytest.mark.unit
@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.,NSEWAV-", max_size=80))
def test_random_fields_with_a_valid_checksum(body: str) -> None:
    with contextlib.suppress(NmeaError):
        parse(sentence("GNRMC," + body))
    with contextlib.suppress(NmeaError):
        parse(sentence("GNGGA," + body))


@pytest.mark.integration
def test_the_unit_follows_the_simulated_van() -> None:
    route = [(116.3589, 39.9069), (116.3700, 39.9100)]
    simulator = GpsSimulator(route, speed_kmh=36, time_scale=100)
    unit = GpsUnit(simulator.path)
    unit.open()
    try:
        fixes = []
        for fix in unit.fixes(silence_timeout_s=5):
            fixes.append(fix)
            if len(fixes) == 5:
                break
        assert all(f.speed_kmh == pytest.approx(36, abs=0.1) for f in fixes)
        assert fixes[-1].lon > fixes[0].lon  # moving east along the route
        assert all(f.talker == "GN" and f.quality == 1 for f in fixes)
        assert unit.health.state.value == "connected"
    finally:
        unit.close()
        simulator.close()


@pytest.mark.integration
def test_garbage_and_lost_fix_do_not_stop_the_stream() -> None:
    simulator = GpsSimulator([(116.3589, 39.9069), (116.3700, 39.9100)], time_scale=50)
    unit = GpsUnit(simulator.path)
    unit.open()  # opening discards what came before; the garbage must come after
    simulator.garbage = True
    try:
        fixes = unit.fixes(silence_timeout_s=5)
        deadline = time.monotonic() + 5
        while simulator.garbage_sent < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        simulator.garbage = False
        # Fixes keep coming after the garbage, which is counted and skipped.
        after_garbage = next(fix for fix in fixes if unit.bad_sentences > 0)
        assert after_garbage.lat == pytest.approx(39.9, abs=0.02)
        assert unit.bad_sentences >= 3
    finally:
        unit.close()
        simulator.close()
