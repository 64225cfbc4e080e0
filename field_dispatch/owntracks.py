"""OwnTracks JSON from technicians' phones: topic + payload bytes in, a typed fix or a typed
rejection out; and the encoder the van bridge (NMEA → OwnTracks) publishes with.

Field by field after the OwnTracks booklet (booklet/tech/json): a ``location`` on
``owntracks/<user>/<device>`` requires ``lat`` and ``lon`` (degrees) and ``tst`` (integer
epoch seconds of the fix); ``acc`` (m), ``alt`` (m), ``vac`` (m), ``vel`` (km/h), ``cog``
(degrees), ``batt`` (%), ``bs`` (0–3), ``t`` (trigger), ``tid``, ``conn``, ``created_at``
are optional, and zero ``acc alt cog vac vel`` may be left out. The booklet types most of
them as integers, but Android sends fractional ``acc`` on transitions and some trackers on
locations, so measurements accept any finite number; ``tst`` and ``batt`` must be integers.

Refused, never misread: a payload that is not one JSON object, has a key twice (which of the
two would we believe?), NaN/Infinity, booleans where numbers belong, coordinates out of
range, a ``tst`` more than ``max_skew`` ahead of our clock, or more than ``MAX_PAYLOAD``
bytes. A negative ``acc``/``vel``/``cog`` is Core Location's "unknown" (iOS passes it on)
and becomes None. ``lwt`` (the broker's Last Will for the phone) is returned as ``Lwt`` so
presence can follow it; ``transition``, ``waypoint``, ``cmd``, ``card`` and the other
booklet types, and the ``…/event``, ``…/cmd``, ``…/info`` sub-topics, are ``Ignored``.
``parse`` raises nothing.
"""

from __future__ import annotations

import enum
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_PAYLOAD = 16 * 1024  # a location is ~300 bytes; inregions lists make a few KiB at most
KNOWN_TYPES = frozenset(
    {
        "beacon",
        "card",
        "cmd",
        "configuration",
        "encrypted",
        "location",
        "lwt",
        "request",
        "status",
        "steps",
        "transition",
        "waypoint",
        "waypoints",
    }
)


class RejectReason(enum.StrEnum):
    BAD_TOPIC = "bad_topic"
    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    BAD_JSON = "bad_json"
    NOT_OBJECT = "not_object"
    DUPLICATE_KEY = "duplicate_key"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_FIELD = "missing_field"
    BAD_FIELD = "bad_field"
    IN_FUTURE = "in_future"


@dataclass(frozen=True)
class Rejected:
    reason: RejectReason
    detail: str


@dataclass(frozen=True)
class Fix:
    user: str
    device: str
    at: datetime  # tst: when the phone took the fix (UTC)
    lon: float
    lat: float
    acc_m: float | None = None
    vel_kmh: float | None = None
    cog_deg: float | None = None
    batt_pct: int | None = None
    alt_m: float | None = None
    trigger: str | None = None
    tid: str | None = None
    created_at: datetime | None = None  # when the phone built the message (extended data)

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("Fix.at must be timezone-aware")


@dataclass(frozen=True)
class Lwt:
    """The broker's Last Will for a phone: it is gone since now; ``tst`` is when it connected."""

    user: str
    device: str
    connected_at: datetime


@dataclass(frozen=True)
class Ignored:
    user: str
    device: str
    kind: str  # the _type, or the sub-topic


Parsed = Fix | Lwt | Ignored | Rejected


class _Refuse(Exception):
    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def split_topic(topic: str) -> tuple[str, str, str | None] | None:
    """``owntracks/<user>/<device>[/<sub>]`` → (user, device, sub); None when it is not one."""
    parts = topic.split("/")
    if len(parts) not in (3, 4) or parts[0] != "owntracks":
        return None
    if any(not p or "+" in p or "#" in p or "\x00" in p for p in parts[1:]):
        return None
    return parts[1], parts[2], parts[3] if len(parts) == 4 else None


def parse(
    topic: str,
    payload: bytes,
    now: datetime,
    *,
    max_skew: timedelta = timedelta(minutes=5),
) -> Parsed:
    """One MQTT message from a phone, judged against the booklet and our clock ``now``."""
    where = split_topic(topic)
    if where is None:
        return Rejected(RejectReason.BAD_TOPIC, "expected owntracks/<user>/<device>")
    user, device, sub = where
    if len(payload) > MAX_PAYLOAD:
        return Rejected(RejectReason.TOO_LARGE, f"{len(payload)} bytes")
    try:
        doc = _decode(payload)
        kind = doc.get("_type")
        if not isinstance(kind, str):
            raise _Refuse(RejectReason.MISSING_FIELD, "_type")
        if kind not in KNOWN_TYPES:
            raise _Refuse(RejectReason.UNKNOWN_TYPE, kind[:40])
        if sub is not None or kind not in ("location", "lwt"):
            return Ignored(user, device, sub or kind)
        if kind == "lwt":
            return Lwt(user, device, _tst(doc, "tst", now, max_skew))
        return _location(user, device, doc, now, max_skew)
    except _Refuse as refusal:
        return Rejected(refusal.reason, refusal.detail)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise _Refuse(RejectReason.DUPLICATE_KEY, key[:40])
        doc[key] = value
    return doc


def _no_constants(name: str) -> Any:
    raise _Refuse(RejectReason.BAD_JSON, f"{name} is not JSON")


def _decode(payload: bytes) -> dict[str, Any]:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refuse(RejectReason.NOT_UTF8, "payload is not UTF-8") from None
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except _Refuse:
        raise
    except RecursionError:  # deeply nested arrays
        raise _Refuse(RejectReason.BAD_JSON, "nested too deeply") from None
    except ValueError as err:  # JSONDecodeError, and integers past the digit limit
        raise _Refuse(RejectReason.BAD_JSON, str(err)[:80]) from None
    if not isinstance(doc, dict):
        raise _Refuse(RejectReason.NOT_OBJECT, type(doc).__name__)
    return doc


def _number(doc: dict[str, Any], key: str, *, required: bool = False) -> float | None:
    value = doc.get(key)
    if value is None:
        if required:
            raise _Refuse(RejectReason.MISSING_FIELD, key)
        return None
    # bool is an int in Python; JSON true is not a number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Refuse(RejectReason.BAD_FIELD, f"{key} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise _Refuse(RejectReason.BAD_FIELD, f"{key} is not finite")
    return number


def _integer(doc: dict[str, Any], key: str) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Refuse(RejectReason.BAD_FIELD, f"{key} is not an integer")
    return value


def _tst(doc: dict[str, Any], key: str, now: datetime, max_skew: timedelta) -> datetime:
    value = _integer(doc, key)
    if value is None:
        raise _Refuse(RejectReason.MISSING_FIELD, key)
    if value <= 0:
        raise _Refuse(RejectReason.BAD_FIELD, f"{key} is not after 1970")
    if value > (now + max_skew).timestamp():
        raise _Refuse(RejectReason.IN_FUTURE, f"{key} {value} is ahead of our clock")
    return datetime.fromtimestamp(value, UTC)


def _unknown_if_negative(value: float | None) -> float | None:
    return None if value is None or value < 0 else value


def _text(doc: dict[str, Any], key: str, limit: int) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise _Refuse(RejectReason.BAD_FIELD, f"{key} is not a short string")
    return value


def _location(
    user: str, device: str, doc: dict[str, Any], now: datetime, max_skew: timedelta
) -> Fix:
    lat = _number(doc, "lat", required=True)
    lon = _number(doc, "lon", required=True)
    assert lat is not None and lon is not None  # noqa: S101 - required=True
    if not -90 <= lat <= 90:
        raise _Refuse(RejectReason.BAD_FIELD, "lat out of range")
    if not -180 <= lon <= 180:
        raise _Refuse(RejectReason.BAD_FIELD, "lon out of range")
    at = _tst(doc, "tst", now, max_skew)
    cog = _unknown_if_negative(_number(doc, "cog"))
    if cog is not None and cog > 360:
        raise _Refuse(RejectReason.BAD_FIELD, "cog out of range")
    batt = _integer(doc, "batt")
    if batt is not None and not 0 <= batt <= 100:
        raise _Refuse(RejectReason.BAD_FIELD, "batt out of range")
    bs = _integer(doc, "bs")
    if bs is not None and not 0 <= bs <= 3:
        raise _Refuse(RejectReason.BAD_FIELD, "bs out of range")
    # One character; the apps, Greenwich and Queclink devices each define their own letters.
    trigger = _text(doc, "t", 1)
    created = doc.get("created_at")
    created_at = None
    if created is not None:
        created_at = _tst(doc, "created_at", now, max_skew)
    return Fix(
        user=user,
        device=device,
        at=at,
        lon=lon,
        lat=lat,
        acc_m=_unknown_if_negative(_number(doc, "acc")),
        vel_kmh=_unknown_if_negative(_number(doc, "vel")),
        cog_deg=None if cog is None else cog % 360,
        batt_pct=batt,
        alt_m=_number(doc, "alt"),
        trigger=trigger,
        tid=_text(doc, "tid", 8),
        created_at=created_at,
    )


def topic_for(user: str, device: str) -> str:
    topic = f"owntracks/{user}/{device}"
    if split_topic(topic) is None:
        raise ValueError(f"{user!r}/{device!r} make no OwnTracks topic")
    return topic


def to_owntracks(fix: Fix) -> bytes:
    """The booklet's ``location`` JSON for a fix (what a phone would have sent).

    ``tst`` is whole seconds (floored); ``acc alt cog vel`` are rounded to integers as the
    booklet types them; absent values are left out; ``tid`` defaults to the device's last
    two characters as the apps do.
    """
    doc: dict[str, Any] = {
        "_type": "location",
        "lat": fix.lat,
        "lon": fix.lon,
        "tst": math.floor(fix.at.timestamp()),
        "tid": fix.tid if fix.tid is not None else fix.device[-2:],
    }
    for key, value in (
        ("acc", fix.acc_m),
        ("alt", fix.alt_m),
        ("cog", fix.cog_deg),
        ("vel", fix.vel_kmh),
    ):
        if value is not None:
            doc[key] = round(value)
    if fix.batt_pct is not None:
        doc["batt"] = fix.batt_pct
    if fix.trigger is not None:
        doc["t"] = fix.trigger
    if fix.created_at is not None:
        doc["created_at"] = math.floor(fix.created_at.timestamp())
    return json.dumps(doc, separators=(",", ":"), sort_keys=True, allow_nan=False).encode()


# --- the live position of each technician -------------------------------------------------


class Verdict(enum.StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # the same instant as the last fix (a QoS 1 redelivery)
    OUT_OF_ORDER = "out_of_order"  # older than the position we already hold


@dataclass
class FixFilter:
    """Keeps each user's last-known position monotone in time and says who has gone quiet.

    A phone queues fixes while offline and sends them when it is back, and QoS 1 delivers
    some twice; the live map must not jump back to where the crew was an hour ago. A fix at
    the same ``tst`` as the last one is a duplicate even if its coordinates differ (the
    first wins); an older one is out of order. Both are dropped from the live position (the
    adapter may still store them in the track history). Keyed by user — the technician —
    so a second device of the same person does not make the position flicker back.
    """

    stale_after: timedelta = timedelta(minutes=10)

    def __post_init__(self) -> None:
        self._last: dict[str, Fix] = {}
        self.counts: dict[Verdict, int] = dict.fromkeys(Verdict, 0)

    def offer(self, fix: Fix) -> Verdict:
        last = self._last.get(fix.user)
        if last is None or fix.at > last.at:
            self._last[fix.user] = fix
            verdict = Verdict.ACCEPTED
        elif fix.at == last.at:
            verdict = Verdict.DUPLICATE
        else:
            verdict = Verdict.OUT_OF_ORDER
        self.counts[verdict] += 1
        return verdict

    def last(self, user: str) -> Fix | None:
        return self._last.get(user)

    def is_stale(self, user: str, now: datetime) -> bool:
        """True when the user's newest fix is older than ``stale_after`` (or there is none)."""
        last = self._last.get(user)
        return last is None or now - last.at > self.stale_after

    def stale(self, now: datetime) -> list[str]:
        return sorted(user for user, fix in self._last.items() if now - fix.at > self.stale_after)
