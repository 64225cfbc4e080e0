"""The acquirer's daily settlement file: a fixed-width text file, as acquirers send them.

One record per line, each exactly 105 ASCII characters, lines ended by CR LF. The first
character says what a record is. Columns are 1-based and inclusive; numbers are right-aligned
and zero-padded, text is left-aligned and space-padded.

Header ``H`` (once, first)::

    1       record type "H"
    2–9     settlement date YYYYMMDD (the acquirer's local day, China time)
    10–20   acquiring institution id (11)
    21–34   file created YYYYMMDDhhmmss (China time)
    35–105  spaces

Detail ``D`` (one per settled movement)::

    1       record type "D"
    2–9     settlement date YYYYMMDD
    10–17   terminal id (8)
    18–32   merchant id (15)
    33–38   STAN of the original purchase (6)
    39–50   retrieval reference number (12)
    51–56   authorisation code (6; spaces when none)
    57–60   type: "SALE" (money taken) or "RVSL" (a sale given back by a reversal)
    61–72   amount in fen (12)
    73–91   card number, masked: BIN + "*"… + last four (19, left-aligned)
    92–105  when it happened, YYYYMMDDhhmmss (China time)

Trailer ``T`` (once, last)::

    1       record type "T"
    2–9     settlement date YYYYMMDD
    10–17   number of detail records (8)
    18–32   sum of SALE amounts in fen (15)
    33–47   sum of RVSL amounts in fen (15)
    48–105  spaces

A sale and its reversal on the same day both appear, so the net for a day is SALE − RVSL. The
parser checks every column, that the trailer's counts and sums agree with the details, and
refuses a card column that holds more than BIN + last four.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime

from devices.acquirer.protocol import CHINA_TIME
from devices.errors import ProtocolError

RECORD_LENGTH = 105
_MASKED = re.compile(r"[0-9]{6}\*{2,9}[0-9]{4}")
_STAMP = "%Y%m%d%H%M%S"


class RecordType(enum.StrEnum):
    SALE = "SALE"
    REVERSAL = "RVSL"


@dataclass(frozen=True)
class SettlementRecord:
    settlement_date: date
    terminal_id: str
    merchant_id: str
    stan: int
    rrn: str
    auth_code: str | None
    kind: RecordType
    amount_fen: int
    masked_pan: str
    at: datetime  # aware, China time


@dataclass(frozen=True)
class SettlementFile:
    day: date
    acquirer_id: str
    created_at: datetime
    records: tuple[SettlementRecord, ...]

    @property
    def sales_fen(self) -> int:
        return sum(r.amount_fen for r in self.records if r.kind is RecordType.SALE)

    @property
    def reversals_fen(self) -> int:
        return sum(r.amount_fen for r in self.records if r.kind is RecordType.REVERSAL)

    @property
    def net_fen(self) -> int:
        return self.sales_fen - self.reversals_fen


class SettlementRefused(ProtocolError):
    """A settlement file that does not follow the format. ``line`` is 1-based (0: the file)."""

    def __init__(self, line: int, detail: str) -> None:
        super().__init__(f"line {line}: {detail}" if line else detail)
        self.line = line
        self.detail = detail


def render(settlement: SettlementFile) -> bytes:
    day = settlement.day.strftime("%Y%m%d")
    lines = [
        "H"
        + day
        + _digits(settlement.acquirer_id, 11, "acquirer id")
        + settlement.created_at.astimezone(CHINA_TIME).strftime(_STAMP)
    ]
    for record in settlement.records:
        if not _MASKED.fullmatch(record.masked_pan):
            raise ValueError("a settlement record holds only a masked card number")
        lines.append(
            "D"
            + record.settlement_date.strftime("%Y%m%d")
            + _text(record.terminal_id, 8, "terminal id")
            + _text(record.merchant_id, 15, "merchant id")
            + f"{record.stan:06d}"
            + _text(record.rrn, 12, "RRN")
            + (record.auth_code or "").ljust(6)
            + record.kind.value
            + f"{record.amount_fen:012d}"
            + record.masked_pan.ljust(19)
            + record.at.astimezone(CHINA_TIME).strftime(_STAMP)
        )
    lines.append(
        "T"
        + day
        + f"{len(settlement.records):08d}"
        + f"{settlement.sales_fen:015d}"
        + f"{settlement.reversals_fen:015d}"
    )
    return "".join(line.ljust(RECORD_LENGTH) + "\r\n" for line in lines).encode("ascii")


def parse(data: bytes) -> SettlementFile:
    """A settlement file → its records, or ``SettlementRefused`` naming the line and column."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as err:
        raise SettlementRefused(0, f"a byte that is not ASCII at offset {err.start}") from None
    if not text.endswith("\r\n"):
        raise SettlementRefused(0, "the file does not end with CR LF (cut short?)")
    lines = text[:-2].split("\r\n")
    for number, line in enumerate(lines, start=1):
        if len(line) != RECORD_LENGTH:
            raise SettlementRefused(number, f"{len(line)} characters, expected {RECORD_LENGTH}")
        if not line.isprintable():
            raise SettlementRefused(number, "a control character inside a record")
    if len(lines) < 2 or lines[0][0] != "H" or lines[-1][0] != "T":
        raise SettlementRefused(0, "a file is a header, details, then a trailer")
    header, details, trailer = lines[0], lines[1:-1], lines[-1]
    day = _date(header, 1, 2, 9)
    acquirer_id = _field_digits(header, 1, 10, 20)
    created_at = _moment(header, 1, 21, 34)
    _blank(header, 1, 35, 105)
    records = tuple(_detail(line, number, day) for number, line in enumerate(details, start=2))
    settlement = SettlementFile(day, acquirer_id, created_at, records)
    last = len(lines)
    if _date(trailer, last, 2, 9) != day:
        raise SettlementRefused(last, "the trailer is for another day")
    checks = (
        (10, 17, len(records), "record count"),
        (18, 32, settlement.sales_fen, "SALE sum"),
        (33, 47, settlement.reversals_fen, "RVSL sum"),
    )
    for start, end, actual, what in checks:
        if int(_field_digits(trailer, last, start, end)) != actual:
            raise SettlementRefused(last, f"the trailer's {what} disagrees with the details")
    _blank(trailer, last, 48, 105)
    return settlement


def _detail(line: str, number: int, day: date) -> SettlementRecord:
    if line[0] != "D":
        raise SettlementRefused(number, f"record type {line[0]!r} between header and trailer")
    if _date(line, number, 2, 9) != day:
        raise SettlementRefused(number, "a detail for another day")
    kind_text = _column(line, 57, 60)
    try:
        kind = RecordType(kind_text)
    except ValueError:
        raise SettlementRefused(number, "columns 57–60: type is not SALE or RVSL") from None
    masked = _column(line, 73, 91).rstrip(" ")
    if not _MASKED.fullmatch(masked):
        raise SettlementRefused(number, "columns 73–91: not a masked card number")
    stan = int(_field_digits(line, number, 33, 38))
    if stan == 0:
        raise SettlementRefused(number, "columns 33–38: STAN 000000")
    auth = _column(line, 51, 56)
    if auth.strip() and not auth.isalnum():
        raise SettlementRefused(number, "columns 51–56: authorisation code")
    return SettlementRecord(
        settlement_date=day,
        terminal_id=_field_text(line, number, 10, 17),
        merchant_id=_field_text(line, number, 18, 32),
        stan=stan,
        rrn=_field_alnum(line, number, 39, 50),
        auth_code=auth if auth.strip() else None,
        kind=kind,
        amount_fen=int(_field_digits(line, number, 61, 72)),
        masked_pan=masked,
        at=_moment(line, number, 92, 105),
    )


def _column(line: str, start: int, end: int) -> str:
    return line[start - 1 : end]


def _field_digits(line: str, number: int, start: int, end: int) -> str:
    value = _column(line, start, end)
    if not (value.isascii() and value.isdigit()):
        raise SettlementRefused(number, f"columns {start}–{end}: not digits")
    return value


def _field_alnum(line: str, number: int, start: int, end: int) -> str:
    value = _column(line, start, end)
    if not (value.isascii() and value.isalnum()):
        raise SettlementRefused(number, f"columns {start}–{end}: not letters and digits")
    return value


def _field_text(line: str, number: int, start: int, end: int) -> str:
    value = _column(line, start, end)
    if value != value.strip() or not value:
        raise SettlementRefused(number, f"columns {start}–{end}: padded or empty")
    return value


def _blank(line: str, number: int, start: int, end: int) -> None:
    if _column(line, start, end).strip():
        raise SettlementRefused(number, f"columns {start}–{end} must be spaces")


def _date(line: str, number: int, start: int, end: int) -> date:
    value = _field_digits(line, number, start, end)
    return _when(value, "%Y%m%d", f"columns {start}–{end}", number).date()


def _moment(line: str, number: int, start: int, end: int) -> datetime:
    value = _field_digits(line, number, start, end)
    return _when(value, _STAMP, f"columns {start}–{end}", number)


def _when(value: str, pattern: str, where: str, number: int) -> datetime:
    try:
        moment = datetime.strptime(value, pattern).replace(tzinfo=CHINA_TIME)
    except ValueError:
        moment = None
    # strptime takes any year; a settlement file's dates are this century's.
    if moment is None or not 2000 <= moment.year <= 2099:
        raise SettlementRefused(number, f"{where}: not a date")
    return moment


def _digits(value: str, length: int, what: str) -> str:
    if len(value) != length or not (value.isascii() and value.isdigit()):
        raise ValueError(f"the {what} must be {length} digits")
    return value


def _text(value: str, length: int, what: str) -> str:
    if len(value) != length or not value.isascii() or not value.isprintable():
        raise ValueError(f"the {what} must be {length} printable ASCII characters")
    return value
