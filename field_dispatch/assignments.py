"""Orders to a technician's phone and progress back, as JSON over MQTT (version 1).

Topics, as ``deploy/mosquitto/servicehall.acl`` allows them (``%u`` is the MQTT user name,
which is the technician's ``tracker_user``, the same name the phone's OwnTracks positions
use):

- ``servicehall/v1/technicians/<user>/orders`` — central → phone: ``assignment`` messages,
  ``withdrawal`` messages (an order moved to another crew: drop it), and ``ack`` answers to
  the phone's reports. QoS 1 on a persistent session, never retained (a
  retained message is the last *state* of a topic; these are a stream of events).
- ``servicehall/v1/technicians/<user>/progress`` — phone → central: ``progress`` reports.
  The broker lets only ``<user>`` write there, so central takes the reporter from the topic,
  never from the payload.

QoS 1 is at least once, so every message carries an id and applying it twice is harmless:
an ``assignment``'s ``msg_id`` is the same for a redelivery and for every technician of the
crew (the phone shows it once); a ``progress`` report's ``report_id`` becomes the order
event's id (``orders.transition`` ignores an id it has seen); an ``ack`` names the report it
answers (``ref``).

Times are integer epoch seconds (as OwnTracks ``tst``), coordinates WGS-84 ``lon``/``lat``
in degrees. ``map_url`` is the one GCJ-02 value: a link that opens Amap with the place
already shifted for Amap's tiles (:func:`gis.coords.amap_marker_url`); a phone must not
read coordinates out of it.

Parsing is strict in the way ``owntracks`` is: one JSON object, no key twice, no NaN, no
booleans for numbers, every known field checked; unknown keys are ignored so that a newer
phone can add fields. Anything else is a ``Rejected`` with a reason; the parsers raise
nothing.
"""

from __future__ import annotations

import enum
import json
import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from field_dispatch.orders import Result
from field_dispatch.owntracks import Rejected, RejectReason
from field_dispatch.vocabulary import PRIORITIES, Category, Status

E = TypeVar("E", bound=enum.StrEnum)

VERSION = 1
MAX_PAYLOAD = 8 * 1024
_ROOT = "servicehall/v1/technicians"
PROGRESS_SUBSCRIPTION = f"{_ROOT}/+/progress"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# What an MQTT topic level may hold here: no wildcards, separators or NUL (and not empty).
_USER = re.compile(r"[^/+#\x00]{1,40}")


def orders_topic(user: str) -> str:
    _check_user(user)
    return f"{_ROOT}/{user}/orders"


def progress_topic(user: str) -> str:
    _check_user(user)
    return f"{_ROOT}/{user}/progress"


def progress_user(topic: str) -> str | None:
    """The technician a progress topic belongs to; None when it is not one."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:3]) != _ROOT or parts[4] != "progress":
        return None
    return parts[3] if _USER.fullmatch(parts[3]) else None


def _check_user(user: str) -> None:
    if not _USER.fullmatch(user):
        raise ValueError(f"{user!r} is not a technician's MQTT user name")


# --- the messages -------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """An order given to the technician's crew (派单)."""

    msg_id: str
    order_id: str
    number: str  # the order number people read out (工单号)
    crew_id: str
    category: Category
    priority: int
    description: str
    lon: float
    lat: float
    dispatched_at: datetime
    due_at: datetime | None = None  # the SLA's arrive-by
    address: str | None = None
    map_url: str | None = None


@dataclass(frozen=True)
class Withdrawal:
    """An order taken from the technician's crew (改派): the phone drops it and says so."""

    msg_id: str
    order_id: str
    number: str
    withdrawn_at: datetime
    reason_zh: str = "工单已改派给其他班组"
    reason_en: str = "This order was reassigned to another crew"


class Step(enum.StrEnum):
    """What a technician reports; each is one step of ``orders``' field ladder."""

    ACCEPTED = "accepted"  # 接单
    DECLINED = "declined"  # 拒单
    EN_ROUTE = "en_route"  # 出发
    ON_SITE = "on_site"  # 到场
    RESOLVED = "resolved"  # 完工


@dataclass(frozen=True)
class ProgressReport:
    report_id: str  # the order event's id: a report sent twice is applied once
    order_id: str
    step: Step
    at: datetime  # when the technician reported (the phone's clock)
    result: Result | None = None  # resolved only, and required there
    note: str = ""
    reason: str = ""  # declined only
    lon: float | None = None
    lat: float | None = None

    def __post_init__(self) -> None:
        if (self.step is Step.RESOLVED) != (self.result is not None):
            raise ValueError("a result goes with resolved, and only there")
        if self.reason and self.step is not Step.DECLINED:
            raise ValueError("a reason goes with declined")
        if (self.lon is None) != (self.lat is None):
            raise ValueError("lon and lat go together")


class AckResult(enum.StrEnum):
    APPLIED = "applied"
    IGNORED = "ignored"  # already known (duplicate) or overtaken (stale): nothing to do
    REFUSED = "refused"  # the order cannot take it (not your crew, not now)
    REJECTED = "rejected"  # the report itself was unreadable


@dataclass(frozen=True)
class Ack:
    ref: str | None  # the report_id answered; None when the report had none readable
    order_id: str | None
    result: AckResult
    reason: str = ""
    status: Status | None = None  # the order's status after the report
    message_zh: str = ""
    message_en: str = ""


# --- encoding -----------------------------------------------------------------------------


def _epoch(at: datetime) -> int:
    return math.floor(at.timestamp())


def _dumps(doc: dict[str, Any]) -> bytes:
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return body.encode()


def encode_assignment(a: Assignment) -> bytes:
    doc: dict[str, Any] = {
        "_type": "assignment",
        "v": VERSION,
        "msg_id": a.msg_id,
        "order_id": a.order_id,
        "number": a.number,
        "crew_id": a.crew_id,
        "category": a.category.value,
        "priority": a.priority,
        "description": a.description,
        "lon": a.lon,
        "lat": a.lat,
        "dispatched_at": _epoch(a.dispatched_at),
    }
    if a.due_at is not None:
        doc["due_at"] = _epoch(a.due_at)
    if a.address is not None:
        doc["address"] = a.address
    if a.map_url is not None:
        doc["map_url"] = a.map_url
    return _dumps(doc)


def encode_withdrawal(w: Withdrawal) -> bytes:
    return _dumps(
        {
            "_type": "withdrawal",
            "v": VERSION,
            "msg_id": w.msg_id,
            "order_id": w.order_id,
            "number": w.number,
            "withdrawn_at": _epoch(w.withdrawn_at),
            "reason_zh": w.reason_zh,
            "reason_en": w.reason_en,
        }
    )


def encode_progress(r: ProgressReport) -> bytes:
    doc: dict[str, Any] = {
        "_type": "progress",
        "v": VERSION,
        "report_id": r.report_id,
        "order_id": r.order_id,
        "step": r.step.value,
        "tst": _epoch(r.at),
    }
    if r.result is not None:
        doc["result"] = r.result.value
    if r.note:
        doc["note"] = r.note
    if r.reason:
        doc["reason"] = r.reason
    if r.lon is not None:
        doc["lon"] = r.lon
        doc["lat"] = r.lat
    return _dumps(doc)


def encode_ack(a: Ack) -> bytes:
    return _dumps(
        {
            "_type": "ack",
            "v": VERSION,
            "ref": a.ref,
            "order_id": a.order_id,
            "result": a.result.value,
            "reason": a.reason,
            "status": None if a.status is None else a.status.value,
            "message_zh": a.message_zh,
            "message_en": a.message_en,
        }
    )


# --- parsing ------------------------------------------------------------------------------


class _Refuse(Exception):
    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise _Refuse(RejectReason.DUPLICATE_KEY, key[:40])
        doc[key] = value
    return doc


def _no_constants(name: str) -> Any:
    raise _Refuse(RejectReason.BAD_JSON, f"{name} is not JSON")


def _decode(payload: bytes, kind: str) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD:
        raise _Refuse(RejectReason.TOO_LARGE, f"{len(payload)} bytes")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refuse(RejectReason.NOT_UTF8, "payload is not UTF-8") from None
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except _Refuse:
        raise
    except RecursionError:
        raise _Refuse(RejectReason.BAD_JSON, "nested too deeply") from None
    except ValueError as err:
        raise _Refuse(RejectReason.BAD_JSON, str(err)[:80]) from None
    if not isinstance(doc, dict):
        raise _Refuse(RejectReason.NOT_OBJECT, type(doc).__name__)
    found = doc.get("_type")
    if not isinstance(found, str):
        raise _Refuse(RejectReason.MISSING_FIELD, "_type")
    if found != kind:
        raise _Refuse(RejectReason.UNKNOWN_TYPE, f"{found[:40]} is not {kind}")
    version = doc.get("v")
    if version is None:
        raise _Refuse(RejectReason.MISSING_FIELD, "v")
    if isinstance(version, bool) or not isinstance(version, int) or version != VERSION:
        raise _Refuse(RejectReason.BAD_FIELD, f"v: version {VERSION} is what we speak")
    return doc


def _str(doc: dict[str, Any], key: str, limit: int, *, required: bool = False) -> str | None:
    value = doc.get(key)
    if value is None:
        if required:
            raise _Refuse(RejectReason.MISSING_FIELD, key)
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise _Refuse(RejectReason.BAD_FIELD, f"{key} is not a string of at most {limit}")
    if any(ord(c) < 0x20 and c not in "\n\t" for c in value):
        raise _Refuse(RejectReason.BAD_FIELD, f"{key} holds control characters")
    return value


def _uuid(doc: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = doc.get(key)
    if value is None:
        if required:
            raise _Refuse(RejectReason.MISSING_FIELD, key)
        return None
    # Only the canonical form: braces, URNs and bare hex would each be read the same, but a
    # report id is compared as text when it becomes an event id.
    if not isinstance(value, str) or not _UUID.fullmatch(value.lower()):
        raise _Refuse(RejectReason.BAD_FIELD, f"{key} is not a UUID")
    return value.lower()


def _int(doc: dict[str, Any], key: str) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Refuse(RejectReason.BAD_FIELD, f"{key} is not an integer")
    return value


def _epoch_field(
    doc: dict[str, Any], key: str, now: datetime, max_skew: timedelta, *, required: bool
) -> datetime | None:
    value = _int(doc, key)
    if value is None:
        if required:
            raise _Refuse(RejectReason.MISSING_FIELD, key)
        return None
    if value <= 0:
        raise _Refuse(RejectReason.BAD_FIELD, f"{key} is not after 1970")
    if value > (now + max_skew).timestamp():
        raise _Refuse(RejectReason.IN_FUTURE, f"{key} {value} is ahead of our clock")
    return datetime.fromtimestamp(value, UTC)


def _coordinate(doc: dict[str, Any], key: str, bound: float) -> float | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Refuse(RejectReason.BAD_FIELD, f"{key} is not a number")
    number = float(value)
    if not (math.isfinite(number) and -bound <= number <= bound):
        raise _Refuse(RejectReason.BAD_FIELD, f"{key} out of range")
    return number


def _position(doc: dict[str, Any], *, required: bool) -> tuple[float | None, float | None]:
    lon = _coordinate(doc, "lon", 180)
    lat = _coordinate(doc, "lat", 90)
    if (lon is None) != (lat is None):
        raise _Refuse(RejectReason.MISSING_FIELD, "lat" if lat is None else "lon")
    if required and lon is None:
        raise _Refuse(RejectReason.MISSING_FIELD, "lon")
    return lon, lat


def _member(doc: dict[str, Any], key: str, enum_cls: type[E]) -> E | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Refuse(RejectReason.BAD_FIELD, f"{key} is not a string")
    try:
        return enum_cls(value)
    except ValueError:
        raise _Refuse(RejectReason.BAD_FIELD, f"{key}: {value[:40]!r} is not known") from None


def parse_progress(
    payload: bytes, now: datetime, *, max_skew: timedelta = timedelta(minutes=5)
) -> ProgressReport | Rejected:
    """A phone's report; ``now`` is our clock (a report from the future is refused)."""
    try:
        doc = _decode(payload, "progress")
        report_id = _uuid(doc, "report_id")
        order_id = _uuid(doc, "order_id")
        step = _member(doc, "step", Step)
        if step is None:
            raise _Refuse(RejectReason.MISSING_FIELD, "step")
        at = _epoch_field(doc, "tst", now, max_skew, required=True)
        result = _member(doc, "result", Result)
        if step is Step.RESOLVED and result is None:
            raise _Refuse(RejectReason.MISSING_FIELD, "result")
        if step is not Step.RESOLVED and result is not None:
            raise _Refuse(RejectReason.BAD_FIELD, "result goes with resolved only")
        reason = _str(doc, "reason", 200) or ""
        if reason and step is not Step.DECLINED:
            raise _Refuse(RejectReason.BAD_FIELD, "reason goes with declined only")
        lon, lat = _position(doc, required=False)
        assert report_id is not None and order_id is not None and at is not None  # noqa: S101
        return ProgressReport(
            report_id=report_id,
            order_id=order_id,
            step=step,
            at=at,
            result=result,
            note=_str(doc, "note", 500) or "",
            reason=reason,
            lon=lon,
            lat=lat,
        )
    except _Refuse as refusal:
        return Rejected(refusal.reason, refusal.detail)


def parse_assignment(
    payload: bytes, now: datetime, *, max_skew: timedelta = timedelta(minutes=5)
) -> Assignment | Rejected:
    """An assignment as a phone reads it; ``now`` is the phone's clock."""
    try:
        doc = _decode(payload, "assignment")
        priority = _int(doc, "priority")
        if priority is None:
            raise _Refuse(RejectReason.MISSING_FIELD, "priority")
        if priority not in PRIORITIES:
            raise _Refuse(RejectReason.BAD_FIELD, "priority is not 1..5")
        category = _member(doc, "category", Category)
        if category is None:
            raise _Refuse(RejectReason.MISSING_FIELD, "category")
        lon, lat = _position(doc, required=True)
        dispatched_at = _epoch_field(doc, "dispatched_at", now, max_skew, required=True)
        # A deadline is in the future by nature: no skew check on it.
        due_at = _epoch_field(doc, "due_at", now, timedelta(days=3650), required=False)
        map_url = _str(doc, "map_url", 500)
        if map_url is not None and not map_url.startswith("https://"):
            raise _Refuse(RejectReason.BAD_FIELD, "map_url is not an https link")
        msg_id, order_id, crew_id = (_uuid(doc, key) for key in ("msg_id", "order_id", "crew_id"))
        number = _str(doc, "number", 32, required=True)
        description = _str(doc, "description", 2000, required=True)
        assert None not in (msg_id, order_id, crew_id, number, description)  # noqa: S101
        assert lon is not None and lat is not None and dispatched_at is not None  # noqa: S101
        return Assignment(
            msg_id=str(msg_id),
            order_id=str(order_id),
            number=str(number),
            crew_id=str(crew_id),
            category=category,
            priority=priority,
            description=str(description),
            lon=lon,
            lat=lat,
            dispatched_at=dispatched_at,
            due_at=due_at,
            address=_str(doc, "address", 200),
            map_url=map_url,
        )
    except _Refuse as refusal:
        return Rejected(refusal.reason, refusal.detail)


def parse_withdrawal(
    payload: bytes, now: datetime, *, max_skew: timedelta = timedelta(minutes=5)
) -> Withdrawal | Rejected:
    """A withdrawal as a phone reads it; ``now`` is the phone's clock."""
    try:
        doc = _decode(payload, "withdrawal")
        msg_id, order_id = (_uuid(doc, key) for key in ("msg_id", "order_id"))
        number = _str(doc, "number", 32, required=True)
        at = _epoch_field(doc, "withdrawn_at", now, max_skew, required=True)
        assert None not in (msg_id, order_id, number, at)  # noqa: S101 - required above
        assert at is not None  # noqa: S101
        return Withdrawal(
            msg_id=str(msg_id),
            order_id=str(order_id),
            number=str(number),
            withdrawn_at=at,
            reason_zh=_str(doc, "reason_zh", 200) or Withdrawal.reason_zh,
            reason_en=_str(doc, "reason_en", 200) or Withdrawal.reason_en,
        )
    except _Refuse as refusal:
        return Rejected(refusal.reason, refusal.detail)


def parse_ack(payload: bytes) -> Ack | Rejected:
    try:
        doc = _decode(payload, "ack")
        result = _member(doc, "result", AckResult)
        if result is None:
            raise _Refuse(RejectReason.MISSING_FIELD, "result")
        return Ack(
            ref=_uuid(doc, "ref", required=False),
            order_id=_uuid(doc, "order_id", required=False),
            result=result,
            reason=_str(doc, "reason", 200) or "",
            status=_member(doc, "status", Status),
            message_zh=_str(doc, "message_zh", 200) or "",
            message_en=_str(doc, "message_en", 200) or "",
        )
    except _Refuse as refusal:
        return Rejected(refusal.reason, refusal.detail)


def message_type(payload: bytes) -> str | None:
    """The ``_type`` of a message on the orders topic, to pick its parser; None if unreadable."""
    try:
        doc = json.loads(payload[:MAX_PAYLOAD].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    kind = doc.get("_type") if isinstance(doc, dict) else None
    return kind if isinstance(kind, str) else None


def new_report_id() -> str:
    return str(uuid.uuid4())
