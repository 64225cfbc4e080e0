"""ISO 8583 messages to and from the acquirer, as China UnionPay-style POS terminals frame them.

Bytes in, typed messages out (or a ``MessageRefused`` with a typed reason); typed messages in,
bytes out. Nothing here does I/O, logs, or keeps card data.

On the wire (all lengths big-endian, all numbers BCD, text ASCII)::

    LL LL | TPDU (5) | MTI (2, BCD) | bitmap (8) [| secondary bitmap (8)] | fields … | MAC (8)

- The 2-byte length counts everything after itself.
- The TPDU is ``60`` + destination NII (2 bytes) + source NII (2 bytes); the answer swaps the
  two addresses. It routes the message and is not covered by the MAC.
- Numeric fields are BCD; an odd number of digits is left-aligned with a ``0`` nibble on the
  right. LLVAR lengths are one BCD byte counting digits. Track 2 (field 35) is BCD with the
  ``=`` separator sent as the nibble ``D``.
- The MAC is ISO/IEC 9797-1 algorithm 3 over everything from the MTI up to the MAC field. It
  is field 64 when there is no secondary bitmap and field 128 when there is one (a reversal
  carries field 90, so its MAC is field 128); a message has exactly one of them.

Fields used (ISO 8583:1987 numbering):

====  =====================================  ===========  =====================
 no.  meaning                                format       in
====  =====================================  ===========  =====================
   2  primary account number                 n..19 LLVAR  0200
   3  processing code (000000 purchase)      n6           all
   4  amount, fen                            n12          all
   7  transmission date-time, UTC            n10 MMDDhhmmss all
  11  system trace audit number (STAN)       n6           all
  12  local time                             n6 hhmmss    all
  13  local date                             n4 MMDD      all
  14  expiry date                            n4 YYMM      0200 (when known)
  22  POS entry mode (02x magstripe, x=1 PIN) n3          0200
  25  POS condition code (00 normal)         n2           0200, 0400
  35  track 2 equivalent data                z..37 LLVAR  0200 (when the reader kept it)
  37  retrieval reference number             an12         0210, 0400 (when known), 0410
  38  authorisation code                     an6          0210 (approved)
  39  response code / reversal reason        an2          0210, 0400, 0410
  41  terminal id                            ans8         all
  42  merchant id                            ans15        all
  49  currency (156 = CNY)                   n3           all
  52  PIN block, encrypted                   b64          0200 (when a PIN was entered)
  64  MAC (no secondary bitmap)              b64          0200, 0210, 0410
  70  network management code (301 = echo)   n3           0800, 0810
  90  original data elements                 n42          0400, 0401
 128  MAC (with secondary bitmap)            b64          0400, 0401, 0800, 0810
====  =====================================  ===========  =====================

Field 90 is the original MTI (4), STAN (6), transmission date-time (10), acquiring and
forwarding institution ids (11 each, zeros when unknown). A reversal carries the original's
STAN in field 11 too, as UnionPay terminals do, and never the PAN: after a restart the terminal
no longer has it, and the acquirer finds the original by terminal id + STAN.

Network management (0800 → 0810, field 70 = 301 "echo test") carries fields 7, 11, 41, 42
and 70 only; the terminal uses it to tell whether the acquirer answers at all.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import iso8583

from devices.acquirer.codes import APPROVED
from devices.acquirer.mac import MAC_LENGTH, mac_matches, retail_mac
from devices.errors import ProtocolError

LENGTH_HEADER = 2
TPDU_LENGTH = 5
MAX_FRAME = 2048  # our largest message is ~140 bytes; anything near 64 KiB is not ours
CHINA_TIME = timezone(timedelta(hours=8), "CST")  # no daylight saving in China

TPDU_ID = 0x60
TERMINAL_TPDU = bytes.fromhex("6000030000")  # to NII 0003 (the acquirer host), from 0000

PURCHASE = "000000"
CNY = "156"
NO_INSTITUTION = "0" * 11


def _bcd(digits: int, *, variable: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "data_enc": "b",
        "len_enc": "bcd",
        "len_type": 1 if variable else 0,
        "len_count": "nibbles",
        "max_len": digits,
    }
    if variable or digits % 2:
        spec["right_pad"] = "0"
    return spec


def _text(length: int) -> dict[str, Any]:
    return {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": length}


def _binary(length: int) -> dict[str, Any]:
    return {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": length}


# The pyiso8583 spec of the fields above. A field missing here is refused when it arrives.
SPEC: dict[str, dict[str, Any]] = {
    "h": _binary(TPDU_LENGTH) | {"desc": "TPDU"},
    "t": _binary(2) | {"desc": "Message type (BCD)"},
    "p": _binary(8) | {"desc": "Primary bitmap"},
    "1": _binary(8) | {"desc": "Secondary bitmap"},
    "2": _bcd(19, variable=True) | {"desc": "Primary account number"},
    "3": _bcd(6) | {"desc": "Processing code"},
    "4": _bcd(12) | {"desc": "Amount, transaction"},
    "7": _bcd(10) | {"desc": "Transmission date and time"},
    "11": _bcd(6) | {"desc": "System trace audit number"},
    "12": _bcd(6) | {"desc": "Time, local transaction"},
    "13": _bcd(4) | {"desc": "Date, local transaction"},
    "14": _bcd(4) | {"desc": "Date, expiration"},
    "22": _bcd(3) | {"desc": "POS entry mode"},
    "25": _bcd(2) | {"desc": "POS condition code"},
    "35": _bcd(37, variable=True) | {"desc": "Track 2 data"},
    "37": _text(12) | {"desc": "Retrieval reference number"},
    "38": _text(6) | {"desc": "Authorisation identification response"},
    "39": _text(2) | {"desc": "Response code"},
    "41": _text(8) | {"desc": "Card acceptor terminal id"},
    "42": _text(15) | {"desc": "Card acceptor id code"},
    "49": _bcd(3) | {"desc": "Currency code, transaction"},
    "52": _binary(8) | {"desc": "PIN data"},
    "64": _binary(MAC_LENGTH) | {"desc": "MAC"},
    "70": _bcd(3) | {"desc": "Network management information code"},
    "90": _bcd(42) | {"desc": "Original data elements"},
    "128": _binary(MAC_LENGTH) | {"desc": "MAC (secondary)"},
}


class RefusalReason(enum.StrEnum):
    TOO_SHORT = "too_short"  # fewer bytes than the smallest message
    TOO_LONG = "too_long"  # a length header beyond MAX_FRAME
    BAD_TPDU = "bad_tpdu"
    MALFORMED = "malformed"  # the bitmap and fields do not parse
    UNKNOWN_MTI = "unknown_mti"
    UNEXPECTED_FIELD = "unexpected_field"  # a field this message type does not carry
    MISSING_FIELD = "missing_field"
    BAD_FIELD = "bad_field"  # a field with the wrong content for its format
    NO_MAC = "no_mac"
    BAD_MAC = "bad_mac"


class MessageRefused(ProtocolError):
    """Bytes that are not a message we accept. ``detail`` names fields, never their content."""

    def __init__(self, reason: RefusalReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


# --- typed messages ---------------------------------------------------------------------


@dataclass(frozen=True)
class Stamp:
    """When a message was sent: field 7 in UTC, fields 12/13 in the terminal's local time."""

    transmitted: str  # MMDDhhmmss, UTC
    local_time: str  # hhmmss
    local_date: str  # MMDD

    @classmethod
    def at(cls, moment: datetime, local_zone: timezone = CHINA_TIME) -> Stamp:
        if moment.tzinfo is None:
            raise ValueError("a message stamp needs an aware datetime")
        utc = moment.astimezone(UTC)
        local = moment.astimezone(local_zone)
        return cls(utc.strftime("%m%d%H%M%S"), local.strftime("%H%M%S"), local.strftime("%m%d"))


@dataclass(frozen=True)
class OriginalData:
    """Field 90: which message a reversal undoes."""

    mti: str
    stan: int
    transmitted: str  # the original's field 7
    acquirer_id: str = NO_INSTITUTION
    forwarder_id: str = NO_INSTITUTION


@dataclass(frozen=True)
class FinancialRequest:
    """0200: take ``amount_fen`` from the card. The PAN, track 2 and PIN block never show in ``repr``."""

    MTI: ClassVar[str] = "0200"
    stan: int
    amount_fen: int
    terminal_id: str
    merchant_id: str
    stamp: Stamp
    pan: str = field(repr=False)
    expiry: str | None = None  # YYMM
    track2: str | None = field(default=None, repr=False)  # PAN=YYMM… as on the stripe
    pin_block: bytes | None = field(default=None, repr=False)
    condition_code: str = "00"
    processing_code: str = PURCHASE
    currency: str = CNY

    @property
    def entry_mode(self) -> str:
        # 02 = magnetic stripe read; third digit 1 = PIN entered, 2 = no PIN.
        return "021" if self.pin_block is not None else "022"

    @property
    def masked_pan(self) -> str:
        return mask(self.pan)


@dataclass(frozen=True)
class FinancialResponse:
    """0210: the acquirer's answer. Only response code ``00`` approves."""

    MTI: ClassVar[str] = "0210"
    stan: int
    amount_fen: int
    terminal_id: str
    merchant_id: str
    stamp: Stamp
    response_code: str
    rrn: str
    auth_code: str | None = None
    processing_code: str = PURCHASE
    currency: str = CNY

    @property
    def approved(self) -> bool:
        return self.response_code == APPROVED


@dataclass(frozen=True)
class ReversalRequest:
    """0400 (first try) or 0401 (a repeat of it): undo the financial request in ``original``."""

    stan: int  # the original's STAN
    amount_fen: int
    terminal_id: str
    merchant_id: str
    stamp: Stamp
    reason_code: str  # field 39, see codes.REVERSAL_*
    original: OriginalData
    rrn: str | None = None  # the original's, when its answer arrived
    repeat: bool = False
    condition_code: str = "00"
    processing_code: str = PURCHASE
    currency: str = CNY

    @property
    def MTI(self) -> str:  # noqa: N802 - the same name as the other messages' class constant
        return "0401" if self.repeat else "0400"


@dataclass(frozen=True)
class ReversalResponse:
    """0410: the acquirer has handled the reversal (``00``, or ``25`` when it had no original)."""

    MTI: ClassVar[str] = "0410"
    stan: int
    amount_fen: int
    terminal_id: str
    merchant_id: str
    stamp: Stamp
    response_code: str
    rrn: str | None = None
    processing_code: str = PURCHASE
    currency: str = CNY


ECHO_TEST = "301"


@dataclass(frozen=True)
class EchoRequest:
    """0800 echo test: is the acquirer there and are our keys right?"""

    MTI: ClassVar[str] = "0800"
    stan: int
    terminal_id: str
    merchant_id: str
    transmitted: str  # field 7, MMDDhhmmss UTC
    code: str = ECHO_TEST


@dataclass(frozen=True)
class EchoResponse:
    MTI: ClassVar[str] = "0810"
    stan: int
    terminal_id: str
    merchant_id: str
    transmitted: str
    response_code: str
    code: str = ECHO_TEST


Message = (
    FinancialRequest
    | FinancialResponse
    | ReversalRequest
    | ReversalResponse
    | EchoRequest
    | EchoResponse
)


def mask(pan: str) -> str:
    """BIN + last four, the most of a card number that may be shown or stored (PCI DSS 3.4.1)."""
    return pan[:6] + "*" * max(len(pan) - 10, 0) + pan[-4:]


# --- framing ----------------------------------------------------------------------------


def frame(payload: bytes) -> bytes:
    """Put the 2-byte big-endian length in front of a message."""
    if len(payload) > MAX_FRAME:
        raise ValueError(f"a message of {len(payload)} bytes is longer than {MAX_FRAME}")
    return len(payload).to_bytes(LENGTH_HEADER, "big") + payload


def frame_length(header: bytes) -> int:
    """How many bytes follow a length header; refuses lengths no message of ours has."""
    if len(header) != LENGTH_HEADER:
        raise MessageRefused(RefusalReason.TOO_SHORT, "a length header is two bytes")
    length = int.from_bytes(header, "big")
    if length < TPDU_LENGTH + 2 + 8 + MAC_LENGTH:
        raise MessageRefused(RefusalReason.TOO_SHORT, f"a frame of {length} bytes")
    if length > MAX_FRAME:
        raise MessageRefused(RefusalReason.TOO_LONG, f"a frame of {length} bytes")
    return length


def answer_tpdu(tpdu: bytes) -> bytes:
    """The TPDU of an answer: the request's with destination and source swapped."""
    return tpdu[:1] + tpdu[3:5] + tpdu[1:3]


# --- encoding ---------------------------------------------------------------------------


def encode(message: Message, mac_key: bytes, *, tpdu: bytes = TERMINAL_TPDU) -> bytes:
    """A message as it goes on the wire after the length header: TPDU, MTI, bitmaps, fields, MAC."""
    if len(tpdu) != TPDU_LENGTH or tpdu[0] != TPDU_ID:
        raise ValueError("a TPDU is 5 bytes starting with 0x60")
    fields = _fields_of(message)
    mac_field = "128" if any(int(key) > 64 for key in fields) else "64"
    doc: dict[str, str] = {"h": tpdu.hex().upper(), "t": message.MTI, **fields}
    doc[mac_field] = "00" * MAC_LENGTH
    try:
        raw, _ = iso8583.encode(doc, SPEC)
    except iso8583.EncodeError as err:
        # Our own values broke a format: a bug or bad input from the caller, not the wire.
        raise ValueError(f"cannot encode field {err.field}: {err.msg}") from None
    mac = retail_mac(mac_key, bytes(raw[TPDU_LENGTH:-MAC_LENGTH]))
    return bytes(raw[:-MAC_LENGTH]) + mac


def _fields_of(message: Message) -> dict[str, str]:
    if isinstance(message, EchoRequest | EchoResponse):
        fields = {
            "7": message.transmitted,
            "11": f"{_stan(message.stan):06d}",
            "41": _text_value(message.terminal_id, 8, "terminal id"),
            "42": _text_value(message.merchant_id, 15, "merchant id"),
            "70": message.code,
        }
        if isinstance(message, EchoResponse):
            fields["39"] = message.response_code
        return _checked(message.MTI, fields)
    fields = {
        "3": _digits(message.processing_code, 6, "processing code"),
        "4": _digits(f"{_amount(message.amount_fen):012d}", 12, "amount"),
        "7": message.stamp.transmitted,
        "11": f"{_stan(message.stan):06d}",
        "12": message.stamp.local_time,
        "13": message.stamp.local_date,
        "41": _text_value(message.terminal_id, 8, "terminal id"),
        "42": _text_value(message.merchant_id, 15, "merchant id"),
        "49": _digits(message.currency, 3, "currency"),
    }
    if isinstance(message, FinancialRequest):
        fields["2"] = _pan(message.pan)
        fields["22"] = message.entry_mode
        fields["25"] = message.condition_code
        if message.expiry is not None:
            fields["14"] = message.expiry
        if message.track2 is not None:
            fields["35"] = message.track2.replace("=", "D")
        if message.pin_block is not None:
            if len(message.pin_block) != 8:
                raise ValueError("a PIN block is 8 bytes")
            fields["52"] = message.pin_block.hex().upper()
    elif isinstance(message, FinancialResponse):
        fields["37"] = message.rrn
        fields["39"] = message.response_code
        if message.auth_code is not None:
            fields["38"] = message.auth_code
    elif isinstance(message, ReversalRequest):
        fields["25"] = message.condition_code
        fields["39"] = message.reason_code
        original = message.original
        fields["90"] = (
            f"{original.mti}{_stan(original.stan):06d}{original.transmitted}"
            f"{original.acquirer_id}{original.forwarder_id}"
        )
        if message.rrn is not None:
            fields["37"] = message.rrn
    else:
        fields["39"] = message.response_code
        if message.rrn is not None:
            fields["37"] = message.rrn
    return _checked(message.MTI, fields)


def _checked(mti: str, fields: dict[str, str]) -> dict[str, str]:
    # Check what we send with the same rules we apply to what we receive.
    try:
        _check_fields(mti, fields)
    except MessageRefused as err:
        raise ValueError(f"cannot send this {mti}: {err.detail}") from None
    return fields


def _amount(amount_fen: int) -> int:
    if not 0 < amount_fen < 10**12:
        raise ValueError("an amount is 1 to 999,999,999,999 fen")
    return amount_fen


def _stan(stan: int) -> int:
    if not 0 < stan < 10**6:
        raise ValueError("a STAN is 1 to 999999")
    return stan


def _digits(value: str, length: int, what: str) -> str:
    if len(value) != length or not value.isascii() or not value.isdigit():
        raise ValueError(f"the {what} must be {length} digits")
    return value


def _pan(pan: str) -> str:
    if not _PAN.fullmatch(pan):
        raise ValueError("a card number is 12 to 19 digits")
    return pan


def _text_value(value: str, length: int, what: str) -> str:
    if len(value) != length or not _PRINTABLE.fullmatch(value):
        raise ValueError(f"the {what} must be {length} printable ASCII characters")
    return value


# --- decoding ---------------------------------------------------------------------------

_ALWAYS = frozenset({"3", "4", "7", "11", "12", "13", "41", "42", "49"})
_REQUIRED: dict[str, frozenset[str]] = {
    "0200": _ALWAYS | {"2", "22", "25"},
    "0210": _ALWAYS | {"37", "39"},
    "0400": _ALWAYS | {"25", "39", "90"},
    "0401": _ALWAYS | {"25", "39", "90"},
    "0410": _ALWAYS | {"39"},
    "0800": frozenset({"7", "11", "41", "42", "70"}),
    "0810": frozenset({"7", "11", "39", "41", "42", "70"}),
}
_OPTIONAL: dict[str, frozenset[str]] = {
    "0200": frozenset({"14", "35", "52"}),
    "0210": frozenset({"38"}),
    "0400": frozenset({"37"}),
    "0401": frozenset({"37"}),
    "0410": frozenset({"37"}),
    "0800": frozenset(),
    "0810": frozenset(),
}

_PAN = re.compile(r"[0-9]{12,19}")
_PRINTABLE = re.compile(r"[\x20-\x7e]*")
_ALNUM = re.compile(r"[0-9A-Za-z]*")
_TRACK2 = re.compile(r"[0-9]{12,19}D[0-9D]*")


def decode(payload: bytes, mac_key: bytes) -> Message:
    """One message (after the length header) → a typed message, or ``MessageRefused``.

    The MAC is checked before anything in the message is believed; a message whose MAC is
    missing or wrong is refused whatever it says.
    """
    if len(payload) < TPDU_LENGTH + 2 + 8 + MAC_LENGTH:
        raise MessageRefused(RefusalReason.TOO_SHORT, f"{len(payload)} bytes")
    if len(payload) > MAX_FRAME:
        raise MessageRefused(RefusalReason.TOO_LONG, f"{len(payload)} bytes")
    if payload[0] != TPDU_ID:
        raise MessageRefused(RefusalReason.BAD_TPDU, f"TPDU id {payload[0]:02X}, expected 60")
    try:
        doc, _ = iso8583.decode(payload, SPEC)
    except iso8583.DecodeError as err:
        # err.msg and err.field describe the position only; the bytes stay out of the message.
        raise MessageRefused(RefusalReason.MALFORMED, f"field {err.field}: {err.msg}") from None
    except KeyError as err:
        raise MessageRefused(
            RefusalReason.UNEXPECTED_FIELD, f"field {err.args[0]} is not in our specification"
        ) from None
    mti = doc["t"]
    if mti not in _REQUIRED:
        raise MessageRefused(RefusalReason.UNKNOWN_MTI, f"message type {mti}")
    fields = {key: value for key, value in doc.items() if key.isdigit() and key != "1"}
    secondary = "1" in doc
    mac_field, other = ("128", "64") if secondary else ("64", "128")
    if other in fields:
        raise MessageRefused(
            RefusalReason.UNEXPECTED_FIELD, f"field {other} beside field {mac_field}"
        )
    if mac_field not in fields:
        raise MessageRefused(RefusalReason.NO_MAC, f"no field {mac_field}")
    # The MAC field is the last one in the message, so it covers MTI .. the byte before it.
    if not mac_matches(mac_key, payload[TPDU_LENGTH:-MAC_LENGTH], payload[-MAC_LENGTH:]):
        raise MessageRefused(RefusalReason.BAD_MAC, f"field {mac_field} does not verify")
    del fields[mac_field]
    if secondary and not any(64 < int(key) < 128 for key in fields):
        raise MessageRefused(RefusalReason.MALFORMED, "a secondary bitmap with no field in it")
    _check_fields(mti, fields)
    return _message(mti, fields)


def _check_fields(mti: str, fields: dict[str, str]) -> None:
    present = set(fields)
    missing = _REQUIRED[mti] - present
    if missing:
        raise MessageRefused(
            RefusalReason.MISSING_FIELD, f"{mti} without field(s) {_numbers(missing)}"
        )
    extra = present - _REQUIRED[mti] - _OPTIONAL[mti]
    if extra:
        raise MessageRefused(
            RefusalReason.UNEXPECTED_FIELD, f"{mti} with field(s) {_numbers(extra)}"
        )
    for key, value in fields.items():
        if not _FIELD_OK[key](value):
            raise MessageRefused(RefusalReason.BAD_FIELD, f"field {key} has the wrong format")


def _numbers(keys: set[str] | frozenset[str]) -> str:
    return ", ".join(sorted(keys, key=int))


def _is_digits(length: int) -> Callable[[str], bool]:
    return lambda value: len(value) == length and value.isdigit() and value.isascii()


def _hhmmss(value: str) -> bool:
    return _is_digits(6)(value) and value[:2] < "24" and value[2:4] < "60" and value[4:] < "60"


def _mmdd(value: str) -> bool:
    return _is_digits(4)(value) and "01" <= value[:2] <= "12" and "01" <= value[2:] <= "31"


def _mmddhhmmss(value: str) -> bool:
    return len(value) == 10 and _mmdd(value[:4]) and _hhmmss(value[4:])


def _yymm(value: str) -> bool:
    return _is_digits(4)(value) and "01" <= value[2:] <= "12"


def _stan_ok(value: str) -> bool:
    return _is_digits(6)(value) and value != "000000"


def _original_ok(value: str) -> bool:
    return (
        _is_digits(42)(value)
        and value[:4] == "0200"
        and _stan_ok(value[4:10])
        and _mmddhhmmss(value[10:20])
    )


_FIELD_OK: dict[str, Callable[[str], bool]] = {
    "2": lambda v: bool(_PAN.fullmatch(v)),
    "3": _is_digits(6),
    "4": lambda v: _is_digits(12)(v) and v != "0" * 12,
    "7": _mmddhhmmss,
    "11": _stan_ok,
    "12": _hhmmss,
    "13": _mmdd,
    "14": _yymm,
    "22": _is_digits(3),
    "25": _is_digits(2),
    "35": lambda v: bool(_TRACK2.fullmatch(v)) and len(v) <= 37,
    "37": lambda v: len(v) == 12 and bool(_ALNUM.fullmatch(v)),
    "38": lambda v: len(v) == 6 and bool(_ALNUM.fullmatch(v)),
    "39": lambda v: len(v) == 2 and bool(_ALNUM.fullmatch(v)),
    "41": lambda v: len(v) == 8 and bool(_PRINTABLE.fullmatch(v)),
    "42": lambda v: len(v) == 15 and bool(_PRINTABLE.fullmatch(v)),
    "49": _is_digits(3),
    "52": lambda v: len(v) == 16,
    "70": _is_digits(3),
    "90": _original_ok,
}


def _message(mti: str, f: dict[str, str]) -> Message:
    if mti in ("0800", "0810"):
        echo: dict[str, Any] = {
            "stan": int(f["11"]),
            "terminal_id": f["41"],
            "merchant_id": f["42"],
            "transmitted": f["7"],
            "code": f["70"],
        }
        if mti == "0800":
            return EchoRequest(**echo)
        return EchoResponse(**echo, response_code=f["39"])
    common: dict[str, Any] = {
        "stan": int(f["11"]),
        "amount_fen": int(f["4"]),
        "terminal_id": f["41"],
        "merchant_id": f["42"],
        "stamp": Stamp(f["7"], f["12"], f["13"]),
        "processing_code": f["3"],
        "currency": f["49"],
    }
    if mti == "0200":
        pin = bytes.fromhex(f["52"]) if "52" in f else None
        track2 = f["35"].replace("D", "=") if "35" in f else None
        if f["22"] != ("021" if pin is not None else "022"):
            raise MessageRefused(RefusalReason.BAD_FIELD, "field 22 disagrees with field 52")
        if track2 is not None and track2.partition("=")[0] != f["2"]:
            raise MessageRefused(RefusalReason.BAD_FIELD, "fields 2 and 35 name different cards")
        return FinancialRequest(
            **common,
            pan=f["2"],
            expiry=f.get("14"),
            track2=track2,
            pin_block=pin,
            condition_code=f["25"],
        )
    if mti == "0210":
        return FinancialResponse(
            **common, response_code=f["39"], rrn=f["37"], auth_code=f.get("38")
        )
    if mti in ("0400", "0401"):
        o = f["90"]
        original = OriginalData(o[:4], int(o[4:10]), o[10:20], o[20:31], o[31:42])
        if original.stan != common["stan"]:
            raise MessageRefused(RefusalReason.BAD_FIELD, "fields 11 and 90 name different STANs")
        return ReversalRequest(
            **common,
            reason_code=f["39"],
            original=original,
            rrn=f.get("37"),
            repeat=mti == "0401",
            condition_code=f["25"],
        )
    return ReversalResponse(**common, response_code=f["39"], rrn=f.get("37"))
