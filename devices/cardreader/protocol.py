"""Parse what a magnetic-stripe reader sends: ISO/IEC 7813 track 1 and/or track 2.

Bytes in, a typed card (or a typed reason) out. Readers send one or both tracks, with or
without the LRC character after the end sentinel, ended by CR or CR LF. Nothing here logs
or keeps the track data; error details never contain it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from devices.cardreader.card import CardSummary, SwipedCard, mask_pan
from devices.cardreader.errors import CardExpired, NotABankCard, SwipeAgain

TRACK1_MAX = 79
TRACK2_MAX = 40
_PAN = re.compile(r"\d{12,19}")


def luhn_ok(number: str) -> bool:
    if not number.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def lrc_track1(track: str) -> str:
    """LRC of a track 1 string from ``%`` through ``?``: XOR of the 6-bit codes (ISO/IEC 7811-2)."""
    value = 0
    for char in track:
        value ^= (ord(char) - 0x20) & 0x3F
    return chr(value + 0x20)


def lrc_track2(track: str) -> str:
    """LRC of a track 2 string from ``;`` through ``?``: XOR of the 4 data bits of each character."""
    value = 0
    for char in track:
        value ^= (ord(char) - 0x30) & 0x0F
    return chr(value + 0x30)


@dataclass(frozen=True)
class _Track:
    pan: str
    name: str | None
    expiry: str | None  # YYMM
    service_code: str | None


def parse_swipe(data: bytes, *, today: date) -> SwipedCard:
    """One swipe as the reader sent it (terminator optional) → a card, or a ``CardReadError``."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise SwipeAgain("the reader sent bytes that are not ASCII") from None
    text = text.strip("\r\n\x00 ")
    if not text:
        raise SwipeAgain("nothing was read")
    if any(not (0x20 <= ord(c) <= 0x7E) for c in text):
        raise SwipeAgain("the reader sent control characters inside the tracks")

    track1 = track2 = None
    position = 0
    while position < len(text):
        sentinel = text[position]
        if sentinel == "%" and track1 is None:
            track1, position = _take(text, position, lrc_track1, TRACK1_MAX, next_sentinel=";")
        elif sentinel == ";" and track2 is None:
            track2, position = _take(text, position, lrc_track2, TRACK2_MAX, next_sentinel=None)
        else:
            raise SwipeAgain(f"unexpected character at position {position}")

    parsed1 = _parse_track1(track1) if track1 is not None else None
    parsed2 = _parse_track2(track2) if track2 is not None else None
    if parsed1 and parsed2 and parsed1.pan != parsed2.pan:
        raise SwipeAgain("track 1 and track 2 disagree")
    primary = parsed2 or parsed1
    assert primary is not None  # noqa: S101 - the loop read at least one track
    pan = primary.pan
    if not luhn_ok(pan):
        raise NotABankCard("the card number fails the Luhn check")
    expiry = (parsed2.expiry if parsed2 else None) or (parsed1.expiry if parsed1 else None)
    service = (parsed2.service_code if parsed2 else None) or (
        parsed1.service_code if parsed1 else None
    )
    year = month = None
    if expiry:
        year, month = 2000 + int(expiry[:2]), int(expiry[2:])
        if not 1 <= month <= 12:
            raise SwipeAgain("the expiry date is not a month")
        if (year, month) < (today.year, today.month):
            raise CardExpired(f"expired at the end of {month:02d}/{year}")
    summary = CardSummary(
        masked_pan=mask_pan(pan),
        bin=pan[:6],
        last4=pan[-4:],
        expiry_year=year,
        expiry_month=month,
        holder_name=parsed1.name if parsed1 else None,
        service_code=service,
        chip_preferred=service is not None and service[0] in "26",
        tracks=tuple(n for n, t in ((1, parsed1), (2, parsed2)) if t),
    )
    return SwipedCard(summary, pan)


def _take(
    text: str, start: int, lrc: Callable[[str], str], limit: int, next_sentinel: str | None
) -> tuple[str, int]:
    end = text.find("?", start + 1)
    if end < 0:
        raise SwipeAgain("a track has no end sentinel (half a swipe?)")
    track = text[start : end + 1]
    if len(track) > limit:
        raise SwipeAgain("a track is longer than the standard allows")
    position = end + 1
    if position < len(text):
        candidate = text[position]
        if candidate == lrc(track):
            position += 1
        elif candidate != next_sentinel:
            raise SwipeAgain("the LRC check failed")
    return track, position


def _parse_track1(track: str) -> _Track:
    body = track[1:-1]
    if not body or body[0] != "B":
        raise NotABankCard("track 1 format code is not B (not a bank card)")
    fields = body[1:].split("^", 2)
    if len(fields) != 3:
        raise SwipeAgain("track 1 does not have its field separators")
    pan, name, rest = fields
    if not _PAN.fullmatch(pan):
        raise NotABankCard("track 1 has no card number")
    if not 2 <= len(name) <= 26 and name:
        raise SwipeAgain("track 1 name field has the wrong length")
    expiry, service = _expiry_and_service(rest, separator="^")
    return _Track(pan, _holder(name), expiry, service)


def _parse_track2(track: str) -> _Track:
    body = track[1:-1]
    if any(not (0x30 <= ord(c) <= 0x3F) for c in body):
        raise SwipeAgain("track 2 holds characters outside its set")
    pan, separator, rest = body.partition("=")
    if not separator:
        raise SwipeAgain("track 2 has no field separator")
    if not _PAN.fullmatch(pan):
        raise NotABankCard("track 2 has no card number")
    expiry, service = _expiry_and_service(rest, separator="=")
    return _Track(pan, None, expiry, service)


def _expiry_and_service(rest: str, separator: str) -> tuple[str | None, str | None]:
    # An empty field is marked by its separator alone.
    expiry: str | None = None
    if rest.startswith(separator):
        rest = rest[1:]
    else:
        expiry, rest = rest[:4], rest[4:]
        if not (len(expiry) == 4 and expiry.isdigit()):
            raise SwipeAgain("the expiry date is unreadable")
    service: str | None = None
    if rest.startswith(separator):
        rest = rest[1:]
    elif rest:
        service = rest[:3]
        if not (len(service) == 3 and service.isdigit()):
            raise SwipeAgain("the service code is unreadable")
    return expiry, service


def _holder(name: str) -> str | None:
    name = name.strip()
    if not name:
        return None
    surname, _, given = name.partition("/")
    return f"{given.strip()} {surname.strip()}".strip() if given else surname.strip()
