"""NMEA 0183 sentences: GGA and RMC in, typed values out — every field checked, nothing guessed.

Each field is read by the NMEA 0183 (4.11) definition of its sentence: latitude exactly
``ddmm.mmmm`` with N or S, longitude ``dddmm.mmmm`` with E or W, times ``hhmmss.ss``, numbers
plain decimals (no signs where the standard has none, no exponents, no spaces). A field
may be null (empty) wherever the standard allows it, and is then None. A sentence that
breaks any of this raises ``NmeaError`` with the reason: it is never read as something
it does not say.

Chinese receivers talk as ``$GN…`` (multi-constellation) or ``$BD…``/``$GB…`` (BeiDou); GP,
GL (GLONASS) and GA (Galileo) are accepted too. Proprietary sentences (``$P…``) come back as
``Proprietary``, other sentence types as ``Other``; callers skip both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from devices.errors import ProtocolError

KNOTS_TO_KMH = 1.852
TALKERS = frozenset({"GP", "GN", "BD", "GB", "GL", "GA"})
# GGA quality: 0 invalid, 1 GPS, 2 DGPS, 3 PPS, 4 RTK fixed, 5 RTK float — positions;
# 6 estimated (dead reckoning), 7 manual input, 8 simulation — not a fix.
FIX_QUALITIES = frozenset({1, 2, 3, 4, 5})
# RMC mode indicator (NMEA 2.3+): A autonomous, D differential, P precise, R RTK, F float
# RTK are fixes; E estimated, M manual, S simulator, N no fix are not.
FIX_MODES = frozenset("ADPRF")
MODES = FIX_MODES | frozenset("EMSN")
# RMC navigational status (NMEA 4.1+): safe, caution, unsafe, or V "not provided".
NAV_STATUSES = frozenset("SCUV")
_RESERVED = frozenset("$*!\\^~")  # NMEA 0183 reserved characters: never inside a field

_TIME = re.compile(r"(\d\d)(\d\d)(\d\d)(?:\.(\d+))?")
_LAT = re.compile(r"(\d\d)(\d\d(?:\.\d+)?)")
_LON = re.compile(r"(\d\d\d)(\d\d(?:\.\d+)?)")
_UNSIGNED = re.compile(r"\d+(?:\.\d+)?")
_SIGNED = re.compile(r"-?\d+(?:\.\d+)?")
_ADDRESS = re.compile(r"[A-Z]{5}")


class NmeaError(ProtocolError):
    """The sentence was refused; ``reason`` says why (for logs and counters)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Gga:
    talker: str
    utc_time: time | None
    lat: float | None
    lon: float | None
    quality: int  # see FIX_QUALITIES
    satellites: int | None
    hdop: float | None
    altitude_m: float | None
    geoid_separation_m: float | None
    dgps_age_s: float | None
    dgps_station: int | None
    vdop: float | None = None  # 15th field of China's BDS module standard (TSCPB)

    @property
    def has_fix(self) -> bool:
        return self.quality in FIX_QUALITIES and self.lat is not None and self.lon is not None


@dataclass(frozen=True)
class Rmc:
    talker: str
    utc_time: time | None
    when: datetime | None  # date and time, when both are given
    status: str  # A valid, V warning
    lat: float | None
    lon: float | None
    speed_kmh: float | None
    course_deg: float | None
    magnetic_variation_deg: float | None  # east positive, west negative
    mode: str | None  # NMEA 2.3+, see MODES
    nav_status: str | None  # NMEA 4.1+, see NAV_STATUSES

    @property
    def valid(self) -> bool:
        """A position to use: status A, and a mode indicator (when sent) that is a fix."""
        return (
            self.status == "A"
            and (self.mode is None or self.mode in FIX_MODES)
            and self.lat is not None
            and self.lon is not None
        )


@dataclass(frozen=True)
class Other:
    talker: str
    kind: str


@dataclass(frozen=True)
class Proprietary:
    """``$P`` + manufacturer mnemonic (``$PMTK…``, ``$PUBX…``, ``$PSTI…``): not ours to read."""

    address: str


Sentence = Gga | Rmc | Other | Proprietary


def checksum(body: str) -> str:
    value = 0
    for char in body:
        value ^= ord(char)
    return f"{value:02X}"


def sentence(body: str) -> bytes:
    """``$body*CS\\r\\n`` — for simulators and tests."""
    return f"${body}*{checksum(body)}\r\n".encode("ascii")


def parse(line: bytes | str) -> Sentence:
    """One sentence (with or without its CR LF) → typed value, or ``NmeaError`` with the reason."""
    if isinstance(line, bytes):
        try:
            text = line.decode("ascii")
        except UnicodeDecodeError:
            raise NmeaError("not ASCII") from None
    else:
        text = line
    text = text.rstrip("\r\n")
    if not text.startswith("$"):
        raise NmeaError("a sentence starts with $")
    body, star, sent = text[1:].partition("*")
    if not star:
        raise NmeaError("no checksum")
    if len(sent) != 2 or any(c not in "0123456789ABCDEFabcdef" for c in sent):
        raise NmeaError(f"checksum field {sent!r} is not two hex digits")
    bad = next((c for c in body if not 0x20 <= ord(c) <= 0x7E or c in _RESERVED), None)
    if bad is not None:
        raise NmeaError(f"character {bad!r} is not allowed in a sentence")
    if sent.upper() != checksum(body):
        raise NmeaError(f"checksum {sent} does not match {checksum(body)}")
    fields = body.split(",")
    address = fields[0]
    if address.startswith("P") and len(address) >= 4:
        return Proprietary(address)
    if not _ADDRESS.fullmatch(address):
        raise NmeaError(f"address field {address!r} is not a talker and sentence type")
    talker, kind = address[:2], address[2:]
    if kind not in ("GGA", "RMC"):
        return Other(talker, kind)
    if talker not in TALKERS:
        raise NmeaError(f"{kind} from unknown talker {talker!r}")
    return _gga(talker, fields) if kind == "GGA" else _rmc(talker, fields)


def _fields(fields: list[str], kind: str, required: int, optional: int = 0) -> list[str]:
    """The data fields after the address, padded with nulls up to the optional ones.

    Later NMEA versions append fields; receivers also send empty trailing ones. Any field
    beyond those the standard defines must be empty, or the sentence is not what we think.
    """
    data = fields[1:]
    if len(data) < required:
        raise NmeaError(f"{kind} has {len(data)} fields, needs {required}")
    known = required + optional
    if any(data[known:]):
        raise NmeaError(f"{kind} has more fields than NMEA 0183 defines")
    return (data + [""] * optional)[:known]


def _time(value: str) -> time | None:
    if value == "":
        return None
    match = _TIME.fullmatch(value)
    if not match:
        raise NmeaError(f"time {value!r} is not hhmmss.ss")
    hours, minutes, seconds = (int(part) for part in match.group(1, 2, 3))
    if hours > 23 or minutes > 59 or seconds > 59:
        raise NmeaError(f"time {value!r} is out of range")
    # Digits beyond microseconds are cut, never rounded up into the next second.
    micro = int((match.group(4) or "").ljust(6, "0")[:6])
    return time(hours, minutes, seconds, micro, tzinfo=UTC)


def _coordinate(value: str, hemisphere: str, *, latitude: bool) -> float | None:
    axis = "latitude" if latitude else "longitude"
    if value == "" and hemisphere == "":
        return None
    if value == "" or hemisphere == "":
        raise NmeaError(f"{axis} and its hemisphere come together or not at all")
    hemispheres = ("N", "S") if latitude else ("E", "W")
    if hemisphere not in hemispheres:
        raise NmeaError(f"{axis} hemisphere {hemisphere!r} is not {' or '.join(hemispheres)}")
    match = (_LAT if latitude else _LON).fullmatch(value)
    if not match:
        shape = "ddmm.mmmm" if latitude else "dddmm.mmmm"
        raise NmeaError(f"{axis} {value!r} is not {shape}")
    degrees, minutes = int(match.group(1)), float(match.group(2))
    limit = 90 if latitude else 180
    if minutes >= 60:
        raise NmeaError(f"{axis} minutes {match.group(2)} are 60 or more")
    if degrees > limit or (degrees == limit and minutes > 0):
        raise NmeaError(f"{axis} {value!r} is beyond {limit} degrees")
    result = degrees + minutes / 60
    return -result if hemisphere in ("S", "W") else result


def _number(value: str, what: str, *, signed: bool = False) -> float | None:
    if value == "":
        return None
    if not (_SIGNED if signed else _UNSIGNED).fullmatch(value):
        raise NmeaError(f"{what} {value!r} is not a {'signed ' if signed else ''}decimal")
    return float(value)


def _metres(value: float | None, unit: str, what: str) -> float | None:
    # The unit field may stand alone next to a null value (receivers send ",,M,").
    if unit not in ("M", "") or (value is not None and unit != "M"):
        raise NmeaError(f"{what} unit {unit!r} is not M (metres)")
    return value


def _one_of(value: str, allowed: frozenset[str], what: str) -> str | None:
    if value == "":
        return None
    if value not in allowed:
        raise NmeaError(f"{what} {value!r} is not one of {''.join(sorted(allowed))}")
    return value


def _gga(talker: str, fields: list[str]) -> Gga:
    # hhmmss.ss, lat, N/S, lon, E/W, quality, satellites, HDOP, altitude, M, geoid, M,
    # age of DGPS data, DGPS station id, [VDOP — China's "Technical Specification of
    # Communication Protocol for BDS Compatible Positioning Module" appends it]
    (
        utc,
        lat,
        ns,
        lon,
        ew,
        quality,
        satellites,
        hdop,
        altitude,
        altitude_unit,
        geoid,
        geoid_unit,
        age,
        station,
        vdop,
    ) = _fields(fields, "GGA", 14, optional=1)
    if len(quality) != 1 or quality not in "012345678":
        raise NmeaError(f"GGA fix quality {quality!r} is not a digit 0-8")
    if satellites and not (satellites.isdigit() and len(satellites) <= 2):
        raise NmeaError(f"GGA satellites {satellites!r} is not a count 0-99")
    if station and not (station.isdigit() and len(station) <= 4 and int(station) <= 1023):
        raise NmeaError(f"GGA DGPS station {station!r} is not 0000-1023")
    return Gga(
        talker=talker,
        utc_time=_time(utc),
        lat=_coordinate(lat, ns, latitude=True),
        lon=_coordinate(lon, ew, latitude=False),
        quality=int(quality),
        satellites=int(satellites) if satellites else None,
        hdop=_number(hdop, "HDOP"),
        altitude_m=_metres(_number(altitude, "altitude", signed=True), altitude_unit, "altitude"),
        geoid_separation_m=_metres(
            _number(geoid, "geoid separation", signed=True), geoid_unit, "geoid separation"
        ),
        dgps_age_s=_number(age, "DGPS age"),
        dgps_station=int(station) if station else None,
        vdop=_number(vdop, "VDOP"),
    )


def _date(value: str) -> date | None:
    if value == "":
        return None
    if len(value) != 6 or not value.isdigit():
        raise NmeaError(f"date {value!r} is not ddmmyy")
    year = int(value[4:6])
    try:
        # Two-digit years: GPS began in 1980, so 80-99 are the 1900s.
        return date(year + (1900 if year >= 80 else 2000), int(value[2:4]), int(value[0:2]))
    except ValueError:
        raise NmeaError(f"date {value!r} is not a calendar date") from None


def _rmc(talker: str, fields: list[str]) -> Rmc:
    # hhmmss.ss, A/V, lat, N/S, lon, E/W, knots, course, ddmmyy, variation, E/W,
    # [mode (2.3+)], [navigational status (4.1+)]
    (
        utc,
        status,
        lat,
        ns,
        lon,
        ew,
        knots_text,
        course_text,
        day,
        variation_text,
        variation_side,
        mode,
        nav_status,
    ) = _fields(fields, "RMC", 11, optional=2)
    if status not in ("A", "V"):
        raise NmeaError(f"RMC status {status!r} is neither A nor V")
    at = _time(utc)
    on = _date(day)
    knots = _number(knots_text, "speed")
    course = _number(course_text, "course")
    if course is not None and course > 360:
        raise NmeaError(f"course {course_text!r} is more than 360 degrees")
    variation = _number(variation_text, "magnetic variation")
    if variation_side not in ("", "E", "W"):
        raise NmeaError(f"magnetic variation side {variation_side!r} is not E or W")
    if variation is not None:
        if variation_side == "" or variation > 180:
            raise NmeaError(
                f"magnetic variation {variation_text!r}{variation_side} is not 0-180 E/W"
            )
        variation = -variation if variation_side == "W" else variation
    return Rmc(
        talker=talker,
        utc_time=at,
        when=datetime.combine(on, at) if on is not None and at is not None else None,
        status=status,
        lat=_coordinate(lat, ns, latitude=True),
        lon=_coordinate(lon, ew, latitude=False),
        speed_kmh=None if knots is None else knots * KNOTS_TO_KMH,
        course_deg=course,
        magnetic_variation_deg=variation,
        mode=_one_of(mode, MODES, "RMC mode indicator"),
        nav_status=_one_of(nav_status, NAV_STATUSES, "RMC navigational status"),
    )
