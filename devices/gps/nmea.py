"""NMEA 0183 sentences: GGA and RMC in, typed values out; checksums; knots to km/h.

Chinese receivers talk as ``$GN…`` (multi-constellation) or ``$BD…`` (BeiDou); all talkers
are accepted. Other sentence types are recognised as such and ignored by callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from devices.errors import ProtocolError

KNOTS_TO_KMH = 1.852
TALKERS = ("GP", "GN", "BD", "GB", "GL", "GA")


class NmeaError(ProtocolError):
    pass


@dataclass(frozen=True)
class Gga:
    talker: str
    utc_time: time
    lat: float | None
    lon: float | None
    quality: int  # 0 invalid, 1 GPS, 2 DGPS, 4 RTK fixed, 5 RTK float, 6 estimated
    satellites: int | None
    hdop: float | None
    altitude_m: float | None

    @property
    def has_fix(self) -> bool:
        return self.quality > 0 and self.lat is not None and self.lon is not None


@dataclass(frozen=True)
class Rmc:
    talker: str
    when: datetime | None
    valid: bool
    lat: float | None
    lon: float | None
    speed_kmh: float | None
    course_deg: float | None


@dataclass(frozen=True)
class Other:
    talker: str
    kind: str


Sentence = Gga | Rmc | Other


def checksum(body: str) -> str:
    value = 0
    for char in body:
        value ^= ord(char)
    return f"{value:02X}"


def sentence(body: str) -> bytes:
    """``$body*CS\\r\\n`` — for simulators and tests."""
    return f"${body}*{checksum(body)}\r\n".encode("ascii")


def parse(line: bytes | str) -> Sentence:
    try:
        text = line.decode("ascii") if isinstance(line, bytes) else line
    except UnicodeDecodeError:
        raise NmeaError("not ASCII") from None
    text = text.strip()
    if not text.startswith("$"):
        raise NmeaError("a sentence starts with $")
    body, star, sent = text[1:].partition("*")
    if not star:
        raise NmeaError("no checksum")
    if sent.upper() != checksum(body):
        raise NmeaError(f"checksum {sent!r} does not match")
    fields = body.split(",")
    address = fields[0]
    if len(address) != 5:
        raise NmeaError(f"unknown address field {address!r}")
    talker, kind = address[:2], address[2:]
    if kind == "GGA":
        return _gga(talker, fields)
    if kind == "RMC":
        return _rmc(talker, fields)
    return Other(talker, kind)


def _number(value: str, what: str) -> float | None:
    if value == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise NmeaError(f"{what} is not a number") from None


def _coordinate(value: str, hemisphere: str, degree_digits: int, limit: float) -> float | None:
    if value == "" and hemisphere == "":
        return None
    if len(value) < degree_digits + 2 or hemisphere not in ("N", "S", "E", "W"):
        raise NmeaError("malformed coordinate")
    try:
        degrees = int(value[:degree_digits])
        minutes = float(value[degree_digits:])
    except ValueError:
        raise NmeaError("malformed coordinate") from None
    if not 0 <= minutes < 60:
        raise NmeaError("minutes out of range")
    result = degrees + minutes / 60
    if result > limit:
        raise NmeaError("coordinate out of range")
    return -result if hemisphere in ("S", "W") else result


def _time(value: str) -> time:
    if len(value) < 6 or not value[:6].isdigit():
        raise NmeaError("malformed time")
    try:
        fraction = float(value[6:]) if len(value) > 6 else 0.0
        return time(
            int(value[:2]),
            int(value[2:4]),
            int(value[4:6]),
            round(fraction * 1_000_000) % 1_000_000,
            tzinfo=UTC,
        )
    except ValueError:
        raise NmeaError("malformed time") from None


def _gga(talker: str, fields: list[str]) -> Gga:
    if len(fields) < 10:
        raise NmeaError("GGA has too few fields")
    quality_text = fields[6]
    if not quality_text.isdigit():
        raise NmeaError("GGA fix quality is not a digit")
    satellites = fields[7]
    return Gga(
        talker=talker,
        utc_time=_time(fields[1]),
        lat=_coordinate(fields[2], fields[3], 2, 90),
        lon=_coordinate(fields[4], fields[5], 3, 180),
        quality=int(quality_text),
        satellites=int(satellites) if satellites.isdigit() else None,
        hdop=_number(fields[8], "HDOP"),
        altitude_m=_number(fields[9], "altitude"),
    )


def _rmc(talker: str, fields: list[str]) -> Rmc:
    if len(fields) < 10:
        raise NmeaError("RMC has too few fields")
    status = fields[2]
    if status not in ("A", "V"):
        raise NmeaError("RMC status is neither A nor V")
    when = None
    day = fields[9]
    if day:
        if len(day) != 6 or not day.isdigit():
            raise NmeaError("malformed date")
        try:
            year = int(day[4:6])
            # Two-digit years: GPS began in 1980, so 80-99 are the 1900s.
            on = date(year + (1900 if year >= 80 else 2000), int(day[2:4]), int(day[0:2]))
        except ValueError:
            raise NmeaError("malformed date") from None
        when = datetime.combine(on, _time(fields[1]))
    knots = _number(fields[7], "speed")
    return Rmc(
        talker=talker,
        when=when,
        valid=status == "A",
        lat=_coordinate(fields[3], fields[4], 2, 90),
        lon=_coordinate(fields[5], fields[6], 3, 180),
        speed_kmh=None if knots is None else knots * KNOTS_TO_KMH,
        course_deg=_number(fields[8], "course"),
    )
