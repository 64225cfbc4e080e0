"""The messages between central and phones: written-out payloads, hostile ones, round trips,
and the topics against the shipped Mosquitto ACL."""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from field_dispatch.assignments import (
    MAX_PAYLOAD,
    PROGRESS_SUBSCRIPTION,
    Ack,
    AckResult,
    Assignment,
    ProgressReport,
    Step,
    Withdrawal,
    encode_ack,
    encode_assignment,
    encode_progress,
    encode_withdrawal,
    message_type,
    orders_topic,
    parse_ack,
    parse_assignment,
    parse_progress,
    parse_withdrawal,
    progress_topic,
    progress_user,
)
from field_dispatch.orders import Result
from field_dispatch.owntracks import Rejected, RejectReason
from field_dispatch.vocabulary import Category, Status

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REPORT = "0b9ad1d6-2f4e-4c43-9b55-1b1f1c2a7e10"
ORDER = "019a5f0e-7c1d-7000-8000-00000000abcd"
ACL = Path(__file__).parents[2] / "deploy" / "mosquitto" / "servicehall.acl"


def progress(**fields: Any) -> bytes:
    doc = {
        "_type": "progress",
        "v": 1,
        "report_id": REPORT,
        "order_id": ORDER,
        "step": "on_site",
        "tst": 1795410000,  # 2026-11-23 05:00 UTC
    }
    doc.update(fields)
    return json.dumps({k: v for k, v in doc.items() if v is not ...}).encode()


def test_a_resolved_report_as_a_phone_writes_it() -> None:
    payload = (
        b'{"_type":"progress","v":1,"report_id":"0B9AD1D6-2F4E-4C43-9B55-1B1F1C2A7E10",'
        b'"order_id":"019a5f0e-7c1d-7000-8000-00000000abcd","step":"resolved","tst":1795410000,'
        b'"result":"fixed","note":"\xe6\x8d\xa2\xe7\xae\xa1 2 \xe7\xb1\xb3","lon":116.3589,'
        b'"lat":39.9069,"app":"tech-app 0.9"}'
    )
    assert parse_progress(payload, NOW) == ProgressReport(
        report_id=REPORT,  # upper case read as the same id, kept in one spelling
        order_id=ORDER,
        step=Step.RESOLVED,
        at=datetime(2026, 11, 23, 5, 0, tzinfo=UTC),
        result=Result.FIXED,
        note="换管 2 米",
        lon=116.3589,
        lat=39.9069,
    )


def test_a_decline_carries_its_reason() -> None:
    outcome = parse_progress(progress(step="declined", reason="车辆故障"), NOW)
    assert isinstance(outcome, ProgressReport)
    assert outcome.step is Step.DECLINED and outcome.reason == "车辆故障"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff{}", RejectReason.NOT_UTF8),
        (b"[]", RejectReason.NOT_OBJECT),
        (b'{"_type":"progress"', RejectReason.BAD_JSON),
        (progress()[:-1] + b',"tst":1}', RejectReason.DUPLICATE_KEY),
        (progress(tst=...)[:-1] + b',"tst":NaN}', RejectReason.BAD_JSON),
        (progress(_type=...), RejectReason.MISSING_FIELD),
        (progress(_type="location"), RejectReason.UNKNOWN_TYPE),
        (progress(v=...), RejectReason.MISSING_FIELD),
        (progress(v=2), RejectReason.BAD_FIELD),
        (progress(v=1.0), RejectReason.BAD_FIELD),
        (progress(v=True), RejectReason.BAD_FIELD),
        (progress(report_id=...), RejectReason.MISSING_FIELD),
        (progress(report_id="{" + REPORT + "}"), RejectReason.BAD_FIELD),
        (progress(report_id=REPORT.replace("-", "")), RejectReason.BAD_FIELD),
        (progress(order_id=42), RejectReason.BAD_FIELD),
        (progress(step=...), RejectReason.MISSING_FIELD),
        (progress(step="teleported"), RejectReason.BAD_FIELD),
        (progress(step=["on_site"]), RejectReason.BAD_FIELD),
        (progress(tst=...), RejectReason.MISSING_FIELD),
        (progress(tst=1795424400.5), RejectReason.BAD_FIELD),
        (progress(tst=True), RejectReason.BAD_FIELD),
        (progress(tst=-5), RejectReason.BAD_FIELD),
        (progress(tst=int(NOW.timestamp()) + 3600), RejectReason.IN_FUTURE),
        (progress(step="resolved"), RejectReason.MISSING_FIELD),
        (progress(step="resolved", result="magic"), RejectReason.BAD_FIELD),
        (progress(result="fixed"), RejectReason.BAD_FIELD),
        (progress(reason="tired"), RejectReason.BAD_FIELD),
        (progress(note="x" * 501), RejectReason.BAD_FIELD),
        (progress(note="a\x00b"), RejectReason.BAD_FIELD),
        (progress(lon=116.3), RejectReason.MISSING_FIELD),
        (progress(lon=200, lat=39.9), RejectReason.BAD_FIELD),
        (progress(lon=116.3, lat="39.9"), RejectReason.BAD_FIELD),
        (progress(note="x" * 400, pad="y" * MAX_PAYLOAD), RejectReason.TOO_LARGE),
    ],
)
def test_bad_reports_are_refused_with_a_reason(payload: bytes, reason: RejectReason) -> None:
    outcome = parse_progress(payload, NOW)
    assert isinstance(outcome, Rejected) and outcome.reason is reason, outcome


epochs = st.integers(1_600_000_000, int(NOW.timestamp()))
uuids = st.uuids().map(str)
short_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=30)


@st.composite
def reports(draw: st.DrawFn) -> ProgressReport:
    step = draw(st.sampled_from(Step))
    where = draw(st.none() | st.tuples(st.floats(-180, 180), st.floats(-90, 90)))
    return ProgressReport(
        report_id=draw(uuids),
        order_id=draw(uuids),
        step=step,
        at=datetime.fromtimestamp(draw(epochs), UTC),
        result=draw(st.sampled_from(Result)) if step is Step.RESOLVED else None,
        note=draw(short_text),
        reason=draw(short_text) if step is Step.DECLINED else "",
        lon=None if where is None else where[0],
        lat=None if where is None else where[1],
    )


@settings(max_examples=200, deadline=None)
@given(reports())
def test_what_a_phone_encodes_central_reads_back(report: ProgressReport) -> None:
    assert parse_progress(encode_progress(report), NOW) == report


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)
report_keys = st.sampled_from(
    ["_type", "v", "report_id", "order_id", "step", "tst", "result", "note", "reason", "lon", "lat"]
)
plausible = {
    "report_id": uuids,
    "order_id": uuids,
    "step": st.sampled_from([s.value for s in Step]),
    "tst": epochs,
    "result": st.sampled_from([r.value for r in Result]),
}


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(report_keys, json_values, max_size=11),
    st.fixed_dictionaries({}, optional={k: v for k, v in plausible.items()}),
    st.booleans(),
)
def test_hostile_reports_are_read_right_or_refused(
    noise: dict[str, Any], good: dict[str, Any], typed: bool
) -> None:
    doc = {**noise, **good}
    if typed:
        doc.update({"_type": "progress", "v": 1})
    outcome = parse_progress(json.dumps(doc).encode(), NOW)
    assert isinstance(outcome, ProgressReport | Rejected)
    if isinstance(outcome, ProgressReport):
        # Everything read is what the document said, field by field.
        assert doc["_type"] == "progress" and doc["v"] == 1 and type(doc["v"]) is int
        assert outcome.report_id == doc["report_id"].lower()
        assert uuid.UUID(outcome.order_id) == uuid.UUID(doc["order_id"])
        assert outcome.step.value == doc["step"]
        assert type(doc["tst"]) is int and outcome.at.timestamp() == doc["tst"]
        assert (outcome.result is None) == (doc.get("result") is None)
        assert outcome.note == (doc.get("note") or "")
        if outcome.lon is not None and outcome.lat is not None:
            assert outcome.lon == doc["lon"] and outcome.lat == doc["lat"]
            assert math.isfinite(outcome.lon) and math.isfinite(outcome.lat)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(payload: bytes) -> None:
    assert isinstance(parse_progress(payload, NOW), Rejected)
    assert isinstance(parse_assignment(payload, NOW), Assignment | Rejected)
    assert isinstance(parse_ack(payload), Ack | Rejected)
    assert isinstance(parse_withdrawal(payload, NOW), Withdrawal | Rejected)
    message_type(payload)


ASSIGNMENT = Assignment(
    msg_id="019a5f0e-7c1d-7000-8000-0000000000aa",
    order_id=ORDER,
    number="WO-20261123-0007",
    crew_id="019a5f0e-7c1d-7000-8000-0000000000cc",
    category=Category.BURST_MAIN,
    priority=1,
    description="阜成门内大街 108 号门前爆管，路面积水",
    lon=116.3652,
    lat=39.9142,
    dispatched_at=datetime(2026, 11, 23, 8, 55, tzinfo=UTC),
    due_at=datetime(2026, 11, 23, 9, 25, tzinfo=UTC),
    address="北京市西城区阜成门内大街 108 号",
    map_url="https://uri.amap.com/marker?position=116.371325,39.915507",
)


def test_an_assignment_reads_back_and_names_its_type() -> None:
    payload = encode_assignment(ASSIGNMENT)
    assert message_type(payload) == "assignment"
    assert parse_assignment(payload, NOW) == ASSIGNMENT
    doc = json.loads(payload)
    # Stored WGS-84 goes out as is; the Amap link is the only GCJ-02 value.
    assert (doc["lon"], doc["lat"]) == (116.3652, 39.9142)
    assert doc["dispatched_at"] == 1795424100 and doc["due_at"] == 1795425900


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"priority": 0}, RejectReason.BAD_FIELD),
        ({"priority": "1"}, RejectReason.BAD_FIELD),
        ({"category": "flood"}, RejectReason.BAD_FIELD),
        ({"lat": None}, RejectReason.MISSING_FIELD),
        ({"map_url": "javascript:alert(1)"}, RejectReason.BAD_FIELD),
        ({"msg_id": "x"}, RejectReason.BAD_FIELD),
        ({"description": None}, RejectReason.MISSING_FIELD),
        ({"_type": "ack"}, RejectReason.UNKNOWN_TYPE),
    ],
)
def test_bad_assignments_are_refused(change: dict[str, Any], reason: RejectReason) -> None:
    doc = {**json.loads(encode_assignment(ASSIGNMENT)), **change}
    outcome = parse_assignment(json.dumps(doc).encode(), NOW)
    assert isinstance(outcome, Rejected) and outcome.reason is reason, outcome


def test_acks_read_back() -> None:
    ack = Ack(
        REPORT,
        ORDER,
        AckResult.REFUSED,
        "not_assigned_crew",
        Status.DISPATCHED,
        "此工单未派给您的班组",
        "This order is not assigned to your crew",
    )
    assert message_type(encode_ack(ack)) == "ack"
    assert parse_ack(encode_ack(ack)) == ack
    unreadable = Ack(None, None, AckResult.REJECTED, "bad_json")
    assert parse_ack(encode_ack(unreadable)) == unreadable


def test_topics_per_technician() -> None:
    assert orders_topic("crew-north-1-1") == "servicehall/v1/technicians/crew-north-1-1/orders"
    assert progress_user(progress_topic("crew-north-1-1")) == "crew-north-1-1"
    assert mqtt.topic_matches_sub(PROGRESS_SUBSCRIPTION, progress_topic("a"))
    for topic in (
        "servicehall/v1/technicians/a/orders",
        "servicehall/v1/technicians/+/progress",
        "servicehall/v1/technicians/a/progress/x",
        "servicehall/v2/technicians/a/progress",
        "owntracks/a/progress",
    ):
        assert progress_user(topic) is None, topic
    for user in ("", "a/b", "+", "#", "x" * 41):
        with pytest.raises(ValueError):
            orders_topic(user)


def _acl_patterns(access: str) -> list[str]:
    found = []
    for line in ACL.read_text().splitlines():
        match = re.fullmatch(r"pattern (read|write|readwrite) (\S+)", line.strip())
        if match and access in match.group(1):
            found.append(match.group(2))
    return found


def test_the_shipped_acl_covers_our_topics_for_the_phone_itself_only() -> None:
    def allowed(access: str, user: str, topic: str) -> bool:
        return any(
            mqtt.topic_matches_sub(p.replace("%u", user), topic) for p in _acl_patterns(access)
        )

    me, other = "crew-north-1-1", "crew-north-1-2"
    assert allowed("read", me, orders_topic(me))
    assert allowed("write", me, progress_topic(me))
    assert not allowed("read", me, orders_topic(other))
    assert not allowed("write", me, progress_topic(other))
    assert allowed("write", me, "owntracks/crew-north-1-1/phone")


def test_a_report_id_is_the_same_event_twice() -> None:
    report = ProgressReport(REPORT, ORDER, Step.ACCEPTED, NOW - timedelta(seconds=5))
    assert encode_progress(report) == encode_progress(report)


WITHDRAWAL = Withdrawal(
    msg_id="019a5f0e-7c1d-7000-8000-0000000000dd",
    order_id=ORDER,
    number="WO-20261123-0007",
    withdrawn_at=datetime(2026, 11, 23, 9, 1, tzinfo=UTC),
)


def test_a_withdrawal_reads_back_and_names_its_type() -> None:
    payload = encode_withdrawal(WITHDRAWAL)
    assert message_type(payload) == "withdrawal"
    assert parse_withdrawal(payload, NOW) == WITHDRAWAL
    # An assignment is not a withdrawal, nor the other way round.
    assert isinstance(parse_assignment(payload, NOW), Rejected)
    assert isinstance(parse_withdrawal(encode_assignment(ASSIGNMENT), NOW), Rejected)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"order_id": "x"}, RejectReason.BAD_FIELD),
        ({"number": None}, RejectReason.MISSING_FIELD),
        ({"withdrawn_at": None}, RejectReason.MISSING_FIELD),
        ({"withdrawn_at": True}, RejectReason.BAD_FIELD),
        ({"v": 2}, RejectReason.BAD_FIELD),
    ],
)
def test_bad_withdrawals_are_refused(change: dict[str, Any], reason: RejectReason) -> None:
    doc = {**json.loads(encode_withdrawal(WITHDRAWAL)), **change}
    outcome = parse_withdrawal(json.dumps(doc).encode(), NOW)
    assert isinstance(outcome, Rejected) and outcome.reason is reason, outcome
