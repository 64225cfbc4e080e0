"""NMEA 0183: published sentences, real receivers' logs checked against pynmea2, field-by-field
refusals, generated and mutated sentences, and a drive over a pty."""

from __future__ import annotations

import contextlib
import os
import re
import threading
from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path

import pynmea2
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from devices.gps.nmea import (
    Gga,
    NmeaError,
    Other,
    Proprietary,
    Rmc,
    Sentence,
    checksum,
    parse,
    sentence,
)
from devices.gps.simulator import GpsSimulator, nmea_for
from devices.gps.unit import GpsUnit
from devices.pty_port import PtyPort

GGA = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47"
RMC = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A"
FIXTURES = Path(__file__).parent.parent / "fixtures"
RECEIVERS = sorted(path.parent.name for path in FIXTURES.glob("*/nmea.log"))


def recorded(receiver: str) -> list[str]:
    lines = (FIXTURES / receiver / "nmea.log").read_bytes().decode("ascii").splitlines()
    return [line for line in lines if line.startswith("$")]


@pytest.mark.unit
def test_published_gga() -> None:
    gga = parse(GGA)
    assert isinstance(gga, Gga) and gga.has_fix
    assert gga.lat == pytest.approx(48.1173) and gga.lon == pytest.approx(11.516667, abs=1e-6)
    assert (gga.quality, gga.satellites, gga.hdop, gga.altitude_m) == (1, 8, 0.9, 545.4)
    assert (gga.geoid_separation_m, gga.dgps_age_s, gga.dgps_station) == (46.9, None, None)


@pytest.mark.unit
def test_published_rmc_speed_in_kmh() -> None:
    rmc = parse(RMC)
    assert isinstance(rmc, Rmc) and rmc.valid
    assert rmc.when == datetime(1994, 3, 23, 12, 35, 19, tzinfo=UTC)
    assert rmc.speed_kmh == pytest.approx(22.4 * 1.852)
    assert rmc.course_deg == 84.4
    assert rmc.magnetic_variation_deg == -3.1  # west
    assert (rmc.mode, rmc.nav_status) == (None, None)  # NMEA 2.0: neither field yet


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
def test_checksum_no_fix_and_null_fields() -> None:
    with pytest.raises(NmeaError, match="checksum"):
        parse(GGA[:-2] + "00")
    no_fix = parse(sentence("GNGGA,080000.00,,,,,0,00,99.9,,M,,M,,"))
    assert isinstance(no_fix, Gga) and not no_fix.has_fix
    assert (no_fix.lat, no_fix.lon, no_fix.altitude_m) == (None, None, None)
    # A receiver that has not got the time yet sends an empty time: legal, and not a misread.
    untimed = parse(sentence("GPGGA,,,,,,0,00,99.99,,,,,,"))
    assert isinstance(untimed, Gga) and untimed.utc_time is None and not untimed.has_fix
    assert isinstance(parse(sentence("GPGSV,1,1,00")), Other)
    assert parse(sentence("PMTK001,604,1")) == Proprietary("PMTK001")
    assert checksum("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,") == "47"


@pytest.mark.unit
def test_the_mode_indicator_decides_whether_an_rmc_is_a_fix() -> None:
    base = "GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W"
    for mode, valid in [("A", True), ("D", True), ("N", False), ("E", False), ("S", False)]:
        rmc = parse(sentence(f"{base},{mode}"))
        assert isinstance(rmc, Rmc) and (rmc.mode, rmc.valid) == (mode, valid)
    # NMEA 4.1: navigational status V means "not provided", not "no fix".
    rmc = parse(sentence(f"{base},A,V"))
    assert isinstance(rmc, Rmc) and rmc.valid and rmc.nav_status == "V"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        # Decimal degrees, signs and spaces were once read as ddmm.mmmm.
        ("GPGGA,123519,48.1173,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,", "not ddmm"),
        ("GPGGA,123519,-4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,", "not ddmm"),
        ("GPGGA,123519, 4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,", "not ddmm"),
        ("GPGGA,123519,4807.038,N,11.516667,E,1,08,0.9,545.4,M,46.9,M,,", "not dddmm"),
        # A hemisphere letter on the wrong axis.
        ("GPGGA,123519,4807.038,E,01131.000,E,1,08,0.9,545.4,M,46.9,M,,", "hemisphere 'E'"),
        ("GPGGA,123519,4807.038,N,01131.000,N,1,08,0.9,545.4,M,46.9,M,,", "hemisphere 'N'"),
        ("GPGGA,123519,4807.038,,01131.000,E,1,08,0.9,545.4,M,46.9,M,,", "together"),
        ("GPGGA,123519,4867.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,", "minutes"),
        ("GPGGA,123519,9100.000,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,", "beyond 90"),
        # What Python's float() would take but NMEA does not write.
        ("GPRMC,123519,A,4807.038,N,01131.000,E,1e3,084.4,230394,003.1,W", "speed"),
        ("GPRMC,123519,A,4807.038,N,01131.000,E,nan,084.4,230394,003.1,W", "speed"),
        ("GPRMC,123519,A,4807.038,N,01131.000,E,1_0,084.4,230394,003.1,W", "speed"),
        ("GPRMC,123519,A,4807.038,N,01131.000,E,-2.0,084.4,230394,003.1,W", "speed"),
        ("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,N", "variation side"),
        ("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W,X", "mode"),
        ("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,310294,003.1,W", "calendar"),
        ("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W,A,V,9", "more fields"),
        ("GPRMC,126019,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W", "out of range"),
        ("GPGGA,123519,4807.038,N,01131.000,E,9,08,0.9,545.4,M,46.9,M,,", "quality"),
        ("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,F,46.9,M,,", "unit"),
        ("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9", "fields"),
        ("XXGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,", "unknown talker"),
    ],
)
def test_fields_that_break_the_standard_are_refused_with_the_reason(body: str, reason: str) -> None:
    with pytest.raises(NmeaError, match=reason) as refused:
        parse(sentence(body))
    assert refused.value.reason


@pytest.mark.unit
def test_time_fractions_are_cut_not_rounded_into_the_next_second() -> None:
    gga = parse(sentence("GPGGA,123519.9999999,,,,,0,00,,,,,,,"))
    assert isinstance(gga, Gga) and gga.utc_time == time(12, 35, 19, 999999, tzinfo=UTC)


def _reference(line: str) -> pynmea2.NMEASentence | None:
    """pynmea2's reading, or None where it cannot read the sentence."""
    try:
        return pynmea2.parse(line, check=True)
    except (pynmea2.ParseError, ValueError, AttributeError):
        return None


def _reference_position(reference: pynmea2.NMEASentence) -> tuple[float, float] | None:
    try:
        return reference.latitude, reference.longitude
    except (ValueError, TypeError):
        return None


@pytest.mark.unit
@pytest.mark.parametrize("receiver", RECEIVERS)
def test_real_receivers_are_read_as_pynmea2_reads_them(receiver: str) -> None:
    lines = recorded(receiver)
    positions = 0
    for line in lines:
        ours = parse(line)  # every line these receivers sent is a sentence we read
        reference = _reference(line)
        assert reference is not None, line
        if isinstance(ours, Proprietary | Other):
            continue
        assert ours.talker == reference.talker, line
        assert ours.utc_time == reference.timestamp, line
        if isinstance(ours, Gga):
            assert ours.quality == reference.gps_qual, line
        else:
            assert ours.status == reference.status, line
        if ours.lat is None or ours.lon is None:
            assert (reference.lat, reference.lon) == ("", ""), line
            continue
        assert (ours.lat, ours.lon) == pytest.approx(_reference_position(reference), abs=1e-12)
        positions += 1
    assert positions > 0


@pytest.mark.unit
def test_what_the_recordings_say_in_detail() -> None:
    f9p = [parse(line) for line in recorded("ublox-zed-f9p")]
    rmc = next(s for s in f9p if isinstance(s, Rmc))
    assert rmc.when == datetime(2019, 4, 12, 0, 39, 56, tzinfo=UTC)
    assert (rmc.lat, rmc.lon) == pytest.approx((-(45 + 52.65403 / 60), 170 + 30.00668 / 60))
    assert (rmc.mode, rmc.nav_status, rmc.valid) == ("A", "V", True)
    skytraq = [parse(line) for line in recorded("skytraq-s2525f8-bd")]
    gga = next(s for s in skytraq if isinstance(s, Gga))
    assert (gga.quality, gga.dgps_station, gga.altitude_m) == (2, 0, 1102.537)
    assert gga.lon == pytest.approx(-(121 + 18.8685453 / 60), abs=1e-12)
    sirf = [parse(line) for line in recorded("sirf-trig-beidou")]
    ggas = [s for s in sirf if isinstance(s, Gga)]
    assert [g.has_fix for g in ggas[:6]] == [False] * 5 + [True]  # the first fix at 07:41:55
    assert ggas[5].lat == pytest.approx(31 + 14.877 / 60)  # Shanghai
    assert ggas[5].vdop == 4.9
    assert {s.talker for s in sirf if isinstance(s, Other)} >= {"BD", "GN", "GP"}


# --- generated sentences -----------------------------------------------------------------


@st.composite
def _minutes(draw: st.DrawFn) -> str:
    """Minutes as a receiver writes them: two digits, then 0 to 7 decimals."""
    whole = draw(st.integers(0, 59))
    decimals = draw(st.text("0123456789", max_size=7))
    return f"{whole:02d}" + (f".{decimals}" if decimals else "")


@st.composite
def _generated_gga(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A GGA written by hand from values, with the values it must be read as."""
    lat_deg, lon_deg = draw(st.integers(0, 89)), draw(st.integers(0, 179))
    lat_text = f"{lat_deg:02d}{draw(_minutes())}"
    lon_text = f"{lon_deg:03d}{draw(_minutes())}"
    ns, ew = draw(st.sampled_from("NS")), draw(st.sampled_from("EW"))
    hh, mm, ss = draw(st.integers(0, 23)), draw(st.integers(0, 59)), draw(st.integers(0, 59))
    centis = draw(st.integers(0, 99))
    quality = draw(st.integers(0, 8))
    talker = draw(st.sampled_from(["GP", "GN", "BD", "GB", "GL", "GA"]))
    body = (
        f"{talker}GGA,{hh:02d}{mm:02d}{ss:02d}.{centis:02d},{lat_text},{ns},{lon_text},{ew},"
        f"{quality},08,1.2,-12.5,M,3.4,M,,"
    )
    lat = float(lat_deg + Decimal(lat_text[2:]) / 60) * (-1 if ns == "S" else 1)
    lon = float(lon_deg + Decimal(lon_text[3:]) / 60) * (-1 if ew == "W" else 1)
    return body, {
        "lat": lat,
        "lon": lon,
        "quality": quality,
        "utc_time": time(hh, mm, ss, centis * 10_000, tzinfo=UTC),
        "talker": talker,
    }


@pytest.mark.unit
@settings(max_examples=300, deadline=None)
@given(_generated_gga())
def test_generated_sentences_are_read_as_the_values_they_were_written_from(
    case: tuple[str, dict[str, object]],
) -> None:
    body, expected = case
    gga = parse(sentence(body))
    assert isinstance(gga, Gga)
    assert gga.lat == pytest.approx(expected["lat"], abs=1e-12)
    assert gga.lon == pytest.approx(expected["lon"], abs=1e-12)
    assert (gga.quality, gga.utc_time, gga.talker) == (
        expected["quality"],
        expected["utc_time"],
        expected["talker"],
    )


@pytest.mark.unit
@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=100))
def test_random_bytes_are_a_sentence_or_a_typed_error(data: bytes) -> None:
    with contextlib.suppress(NmeaError):
        parse(data)


# --- mutations: one character changed, checksum made to match again -----------------------

_SEEDS = [
    line
    for receiver in RECEIVERS
    for line in recorded(receiver)
    if line[3:6] in ("GGA", "RMC") and not line.startswith("$P")
]
_MUTANTS = "0123456789.,-+ NSEWAVDMeE_x*$"
_COORDINATE = {True: re.compile(r"\d{4}(\.\d+)?"), False: re.compile(r"\d{5}(\.\d+)?")}


def _meaning(field: str, hemisphere: str, *, latitude: bool) -> float:
    """What a well-formed coordinate field says, worked out with decimals, not our parser."""
    assert _COORDINATE[latitude].fullmatch(field), field
    assert hemisphere in ("NS" if latitude else "EW"), hemisphere
    split = 2 if latitude else 3
    value = Decimal(field[:split]) + Decimal(field[split:]) / 60
    return float(-value if hemisphere in "SW" else value)


def _time_meaning(field: str) -> time | None:
    if field == "":
        return None
    assert re.fullmatch(r"\d{6}(\.\d+)?", field), field
    micro = int(field[7:].ljust(6, "0")[:6]) if len(field) > 6 else 0
    return time(int(field[:2]), int(field[2:4]), int(field[4:6]), micro, tzinfo=UTC)


def _assert_means(parsed: Sentence, fields: list[str]) -> None:
    """The parsed values are what the (mutated) text says, field by field."""
    assert isinstance(parsed, Gga | Rmc)
    at = 2 if isinstance(parsed, Gga) else 3  # GGA: time, lat…; RMC: time, status, lat…
    lat_text, ns, lon_text, ew = fields[at : at + 4]
    assert parsed.utc_time == _time_meaning(fields[1])
    if parsed.lat is None:
        assert (lat_text, ns) == ("", "")
    else:
        assert parsed.lat == pytest.approx(_meaning(lat_text, ns, latitude=True), abs=1e-12)
    if parsed.lon is None:
        assert (lon_text, ew) == ("", "")
    else:
        assert parsed.lon == pytest.approx(_meaning(lon_text, ew, latitude=False), abs=1e-12)
    if isinstance(parsed, Gga):
        assert fields[6] in list("012345678") and parsed.quality == int(fields[6])
    else:
        assert parsed.status == fields[2] and fields[2] in ("A", "V")
        if parsed.valid:
            mode = fields[12] if len(fields) > 12 else ""
            assert fields[2] == "A" and mode in ("", "A", "D", "P", "R", "F")
        knots = fields[7]
        if parsed.speed_kmh is None:
            assert knots == ""
        else:
            assert re.fullmatch(r"\d+(\.\d+)?", knots)
            assert parsed.speed_kmh == pytest.approx(float(Decimal(knots) * Decimal("1.852")))


@pytest.mark.unit
@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(_SEEDS), st.data())
def test_one_changed_character_is_refused_or_read_as_what_it_now_says(
    seed: str, data: st.DataObject
) -> None:
    body = seed[1 : seed.index("*")]
    where = data.draw(st.integers(6, len(body) - 1))  # the fields, not the address
    char = data.draw(st.sampled_from(_MUTANTS))
    assume(char != body[where])
    mutated = body[:where] + char + body[where + 1 :]
    line = sentence(mutated).decode("ascii")
    try:
        parsed = parse(line)
    except NmeaError as refused:
        assert refused.reason
        return
    assert isinstance(parsed, Gga | Rmc)  # the address was not mutated
    _assert_means(parsed, mutated.split(","))
    reference = _reference(line)
    if reference is not None and parsed.lat is not None and parsed.lon is not None:
        position = _reference_position(reference)
        if position is not None:  # pynmea2 needs a decimal point in the minutes
            assert (parsed.lat, parsed.lon) == pytest.approx(position, abs=1e-12)


# --- the unit over a pty ---------------------------------------------------------------------


@pytest.mark.integration
def test_a_recorded_receiver_replayed_over_a_pty(tmp_path: Path) -> None:
    port = PtyPort(tmp_path, name="ttyGPS")
    unit = GpsUnit(str(port.path))
    unit.open()
    try:
        # The receiver's sentences as it sent them (GPSD's # header lines are not its output).
        stream = "".join(line + "\r\n" for line in recorded("skytraq-s2525f8-bd"))
        # From another thread: the pty's buffer may be smaller than the log.
        writer = threading.Thread(target=os.write, args=(port.master_fd, stream.encode()))
        writer.start()
        expected = [
            s
            for s in (parse(line) for line in recorded("skytraq-s2525f8-bd"))
            if isinstance(s, Rmc) and s.valid
        ]
        fixes = unit.fixes(silence_timeout_s=5)
        got = [next(fixes) for _ in expected]
        assert [(f.lat, f.lon, f.when) for f in got] == [(s.lat, s.lon, s.when) for s in expected]
        assert all(f.quality == 2 for f in got)  # each RMC enriched by its own second's GGA
        # $PSTI (proprietary) and GSV/GSA/ZDA… are skipped, not counted as bad sentences.
        assert unit.bad_sentences == 0
        writer.join()
    finally:
        unit.close()
        port.close()


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
        assert simulator.wait_for_garbage(3)
        simulator.garbage = False
        # Fixes keep coming after the garbage, which is counted and skipped.
        after_garbage = next(fix for fix in fixes if unit.bad_sentences > 0)
        assert after_garbage.lat == pytest.approx(39.9, abs=0.02)
        assert unit.bad_sentences >= 3 and unit.last_refusal is not None
    finally:
        unit.close()
        simulator.close()
