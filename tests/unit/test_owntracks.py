"""OwnTracks JSON: published example payloads, hostile ones, the encoder, the live filter."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from field_dispatch.owntracks import (
    MAX_PAYLOAD,
    Fix,
    FixFilter,
    Ignored,
    Lwt,
    Rejected,
    RejectReason,
    Verdict,
    parse,
    to_owntracks,
    topic_for,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# The OwnTracks booklet's quick-setup guide (guide/quicksetup), as mosquitto_sub shows it.
BOOKLET_TOPIC = "owntracks/jane/nokia"
BOOKLET = (
    b'{"_type":"location","SSID":"mywifi","alt":154,"batt":53,"conn":"w",'
    b'"created_at":1706856299,"lat":48.856826,"lon":2.292713,"tid":"j1","tst":1706856298,"vel":0}'
)
# The OwnTracks Android app's own instrumented tests (ContactActivityTests).
ANDROID = (
    b'{"_type":"location","acc":20,"al":0,"batt":100,"bs":0,"conn":"w","created_at":1610748273,'
    b'"lat":51.2,"lon":-4,"tid":"aa","tst":1610799026,"vac":40,"vel":7}'
)
# A transition as an Android phone published it (fractional acc), from a user's log.
TRANSITION = (
    b'{"_type":"transition","acc":77.6,"desc":"Casa","event":"enter","lat":44.2792575,'
    b'"lon":11.9055914,"t":"l","tid":"ic","tst":1546871106,"wtst":1546866906}'
)


@pytest.mark.unit
def test_the_booklets_example() -> None:
    fix = parse(BOOKLET_TOPIC, BOOKLET, NOW)
    assert fix == Fix(
        user="jane",
        device="nokia",
        at=datetime(2024, 2, 2, 6, 44, 58, tzinfo=UTC),
        lon=2.292713,
        lat=48.856826,
        vel_kmh=0.0,
        batt_pct=53,
        alt_m=154.0,
        tid="j1",
        created_at=datetime(2024, 2, 2, 6, 44, 59, tzinfo=UTC),
    )


@pytest.mark.unit
def test_the_android_apps_test_payload() -> None:
    fix = parse("owntracks/aa/phone", ANDROID, NOW)
    assert isinstance(fix, Fix)
    assert (fix.lat, fix.lon, fix.acc_m, fix.vel_kmh, fix.batt_pct) == (51.2, -4.0, 20.0, 7.0, 100)
    assert fix.at == datetime(2021, 1, 16, 12, 10, 26, tzinfo=UTC)


@pytest.mark.unit
def test_lwt_and_the_types_we_do_not_use() -> None:
    assert parse("owntracks/jane/nokia", b'{"_type":"lwt","tst":1706856000}', NOW) == Lwt(
        "jane", "nokia", datetime(2024, 2, 2, 6, 40, tzinfo=UTC)
    )
    assert parse("owntracks/eric/device/event", TRANSITION, NOW) == Ignored(
        "eric", "device", "event"
    )
    assert parse("owntracks/eric/device", TRANSITION, NOW) == Ignored(
        "eric", "device", "transition"
    )
    waypoint = b'{"_type":"waypoint","desc":"Home","lat":1,"lon":2,"rad":50,"tst":1}'
    assert parse("owntracks/eric/device", waypoint, NOW) == Ignored("eric", "device", "waypoint")


@pytest.mark.unit
def test_core_locations_negative_unknowns_become_none() -> None:
    payload = (
        b'{"_type":"location","lat":39.9,"lon":116.4,"tst":1795000000,"vel":-1,"cog":-1,"acc":-1}'
    )
    fix = parse("owntracks/t1/iphone", payload, NOW)
    assert isinstance(fix, Fix) and (fix.vel_kmh, fix.cog_deg, fix.acc_m) == (None, None, None)


def location(**fields: Any) -> bytes:
    doc: dict[str, Any] = {"_type": "location", "lat": 39.9, "lon": 116.4, "tst": 1795000000}
    doc.update(fields)
    return json.dumps({k: v for k, v in doc.items() if v is not ...}).encode()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("owntracks/jane", location(), RejectReason.BAD_TOPIC),
        ("owntracks/+/nokia", location(), RejectReason.BAD_TOPIC),
        ("servicehall/jane/nokia", location(), RejectReason.BAD_TOPIC),
        ("owntracks//nokia", location(), RejectReason.BAD_TOPIC),
        ("owntracks/j/n", b"\xff\xfe{}", RejectReason.NOT_UTF8),
        ("owntracks/j/n", b'{"_type":"location",', RejectReason.BAD_JSON),
        ("owntracks/j/n", b'{"_type":"location","lat":NaN,"lon":1,"tst":1}', RejectReason.BAD_JSON),
        (
            "owntracks/j/n",
            b'{"_type":"location","lat":Infinity,"lon":1,"tst":1}',
            RejectReason.BAD_JSON,
        ),
        ("owntracks/j/n", b"[" * 5000 + b"]" * 5000, RejectReason.BAD_JSON),
        ("owntracks/j/n", b'{"tst":' + b"9" * 5000 + b"}", RejectReason.BAD_JSON),
        ("owntracks/j/n", b"[1,2]", RejectReason.NOT_OBJECT),
        ("owntracks/j/n", b'"location"', RejectReason.NOT_OBJECT),
        ("owntracks/j/n", b"{}", RejectReason.MISSING_FIELD),
        ("owntracks/j/n", b'{"_type":"teleport"}', RejectReason.UNKNOWN_TYPE),
        (
            "owntracks/j/n",
            b'{"_type":"location","lat":1,"lat":2,"lon":1,"tst":1}',
            RejectReason.DUPLICATE_KEY,
        ),
        ("owntracks/j/n", location(lat=...), RejectReason.MISSING_FIELD),
        ("owntracks/j/n", location(tst=...), RejectReason.MISSING_FIELD),
        ("owntracks/j/n", location(lat=90.5), RejectReason.BAD_FIELD),
        ("owntracks/j/n", location(lon=-180.1), RejectReason.BAD_FIELD),
        ("owntracks/j/n", location(lat=True), RejectReason.BAD_FIELD),
        ("owntracks/j/n", location(lat="39.9"), RejectReason.BAD_FIELD),
        (
            "owntracks/j/n",
            b'{"_type":"location","lat":1e400,"lon":1,"tst":1}',
            RejectReason.BAD_FIELD,
        ),
        ("owntracks/j/n", location(tst=1795000000.5), RejectReason.BAD_FIELD),
        ("owntracks/j/n", location(tst=0), RejectReason.BAD_FIELD),
        ("owntracks/j/n", location(tst=int(NOW.timestamp()) + 3600), RejectReason.IN_FUTURE),
        ("owntracks/j/n", location(tst=10**30), RejectReason.IN_FUTURE),
        ("owntracks/j/n", location(batt=101), RejectReason.BAD_FIELD),
        ("owntracks/j/n", location(batt=50.5), RejectReason.BAD_FIELD),
        ("owntracks/j/n", location(bs=7), RejectReason.BAD_FIELD),
        ("owntracks/j/n", location(cog=361), RejectReason.BAD_FIELD),
        ("owntracks/j/n", location(t="long"), RejectReason.BAD_FIELD),
        ("owntracks/j/n", location(tid=["j", "1"]), RejectReason.BAD_FIELD),
        ("owntracks/j/n", location(inregions=["x" * MAX_PAYLOAD]), RejectReason.TOO_LARGE),
    ],
)
def test_refused_with_a_reason(topic: str, payload: bytes, reason: RejectReason) -> None:
    outcome = parse(topic, payload, NOW)
    assert isinstance(outcome, Rejected) and outcome.reason is reason, outcome


@pytest.mark.unit
def test_the_encoder_writes_the_booklets_fields() -> None:
    fix = Fix(
        user="t07",
        device="van3",
        at=datetime(2026, 11, 23, 8, 0, 0, 700000, tzinfo=UTC),
        lon=116.3589,
        lat=39.9069,
        acc_m=4.6,
        vel_kmh=35.9,
        cog_deg=90.2,
        trigger="t",
    )
    assert topic_for("t07", "van3") == "owntracks/t07/van3"
    assert to_owntracks(fix) == (
        b'{"_type":"location","acc":5,"cog":90,"lat":39.9069,"lon":116.3589,'
        b'"t":"t","tid":"n3","tst":1795420800,"vel":36}'
    )


finite_lat = st.floats(-90, 90, allow_nan=False)
finite_lon = st.floats(-180, 180, allow_nan=False)
whole = st.integers(0, 2000).map(float)


@st.composite
def fixes(draw: st.DrawFn) -> Fix:
    return Fix(
        user=draw(st.sampled_from(["t01", "t02", "张三"])),
        device=draw(st.sampled_from(["phone", "van1"])),
        at=datetime.fromtimestamp(draw(st.integers(1_500_000_000, int(NOW.timestamp()))), UTC),
        lon=draw(finite_lon),
        lat=draw(finite_lat),
        acc_m=draw(st.none() | whole),
        vel_kmh=draw(st.none() | whole),
        cog_deg=draw(st.none() | st.integers(0, 359).map(float)),
        batt_pct=draw(st.none() | st.integers(0, 100)),
        alt_m=draw(st.none() | st.integers(-400, 9000).map(float)),
        trigger=draw(st.none() | st.sampled_from(list("pcbrutv"))),
        tid=draw(st.none() | st.text(min_size=1, max_size=2)),
    )


@pytest.mark.unit
@settings(max_examples=300, deadline=None)
@given(fixes())
def test_what_we_encode_parses_back_to_the_same_fix(fix: Fix) -> None:
    back = parse(topic_for(fix.user, fix.device), to_owntracks(fix), NOW)
    expected_tid = fix.tid if fix.tid is not None else fix.device[-2:]
    assert back == Fix(**{**fix.__dict__, "tid": expected_tid})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)
location_keys = st.sampled_from(
    [
        "_type",
        "lat",
        "lon",
        "tst",
        "acc",
        "vel",
        "cog",
        "batt",
        "bs",
        "alt",
        "t",
        "tid",
        "created_at",
    ]
)


@pytest.mark.unit
@settings(max_examples=300, deadline=None)
@given(st.dictionaries(location_keys, json_values, max_size=13), st.booleans())
def test_hostile_location_objects_are_parsed_right_or_refused(
    doc: dict[str, Any], typed: bool
) -> None:
    if typed:
        doc["_type"] = "location"
    payload = json.dumps(doc).encode()  # NaN/Infinity included: JSON that Python writes
    outcome = parse("owntracks/u/d", payload, NOW)
    assert isinstance(outcome, Fix | Lwt | Ignored | Rejected)
    if isinstance(outcome, Fix):
        assert -90 <= outcome.lat <= 90 and -180 <= outcome.lon <= 180
        assert outcome.lat == doc["lat"] and outcome.lon == doc["lon"]
        assert outcome.at.timestamp() == doc["tst"] and outcome.at <= NOW + timedelta(minutes=5)
        for value in (outcome.acc_m, outcome.vel_kmh, outcome.cog_deg, outcome.alt_m):
            assert value is None or math.isfinite(value)
        assert outcome.batt_pct is None or 0 <= outcome.batt_pct <= 100


@pytest.mark.unit
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30), st.binary(max_size=200))
def test_random_topics_and_bytes_never_raise(topic: str, payload: bytes) -> None:
    assert isinstance(parse(topic, payload, NOW), Fix | Lwt | Ignored | Rejected)


def fix_at(user: str, seconds: int, lon: float = 116.4) -> Fix:
    return Fix(user=user, device="phone", at=NOW + timedelta(seconds=seconds), lon=lon, lat=39.9)


@pytest.mark.unit
def test_the_filter_drops_redeliveries_and_late_fixes_and_flags_silence() -> None:
    live = FixFilter(stale_after=timedelta(minutes=10))
    assert live.offer(fix_at("t1", 0)) is Verdict.ACCEPTED
    assert live.offer(fix_at("t1", 60, lon=116.5)) is Verdict.ACCEPTED
    assert live.offer(fix_at("t1", 60, lon=116.6)) is Verdict.DUPLICATE
    assert live.offer(fix_at("t1", 30)) is Verdict.OUT_OF_ORDER
    last = live.last("t1")
    assert last is not None and last.lon == 116.5
    assert live.offer(fix_at("t2", 0)) is Verdict.ACCEPTED
    assert not live.is_stale("t1", NOW + timedelta(minutes=11))
    assert live.stale(NOW + timedelta(minutes=10, seconds=30)) == ["t2"]
    assert live.is_stale("nobody", NOW)
    assert live.counts == {Verdict.ACCEPTED: 3, Verdict.DUPLICATE: 1, Verdict.OUT_OF_ORDER: 1}


@pytest.mark.unit
@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 50)), max_size=40))
def test_the_live_position_never_goes_back_in_time(reports: list[tuple[str, int]]) -> None:
    live = FixFilter()
    newest: dict[str, int] = {}
    for user, second in reports:
        before = live.last(user)
        live.offer(fix_at(user, second))
        after = live.last(user)
        assert after is not None and (before is None or after.at >= before.at)
        newest[user] = max(newest.get(user, second), second)
    for user, second in newest.items():
        last = live.last(user)
        assert last is not None and last.at == NOW + timedelta(seconds=second)
