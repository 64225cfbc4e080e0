"""Alpha Sign Communications Protocol (Adaptive Micro Systems, doc 9708-8061): packets as bytes.

Pure functions: values in, exact bytes out, and back (``parse_packet``) for the simulator.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from devices.errors import ProtocolError

NUL, SOH, STX, ETX, EOT, ESC, CR = b"\x00", b"\x01", b"\x02", b"\x03", b"\x04", b"\x1b", b"\r"
ACK, NAK = 0x06, 0x15
CALL_SMALL_DOTS = b"\x14"  # inside a TEXT file: show the SMALL DOTS PICTURE whose label follows
SELECT_COLOUR = (
    b"\x1c"  # CTRL-\ inside a TEXT file: the text after it is in the colour that follows
)
ALL_SIGNS = "Z"
BROADCAST = "00"
PRIORITY_LABEL = "0"

WRITE_TEXT, WRITE_SPECIAL, WRITE_SMALL_DOTS = "A", "E", "I"
ACK_RESPONSES = "s"  # special function label 73H: ACK/NAK responses on or off (Alpha 2.0/3.0)


class Position(enum.StrEnum):
    MIDDLE = " "
    TOP = '"'
    BOTTOM = "&"
    FILL = "0"


class Mode(enum.StrEnum):
    ROTATE = "a"
    HOLD = "b"
    FLASH = "c"
    ROLL_UP = "e"
    ROLL_DOWN = "f"
    SCROLL = "m"
    AUTO = "o"


class TextColour(enum.StrEnum):
    """The character after ``SELECT_COLOUR`` (doc 9708-8061, Appendix G, control code 1CH)."""

    RED = "1"
    GREEN = "2"
    AMBER = "3"
    DIM_RED = "4"
    DIM_GREEN = "5"
    BROWN = "6"
    ORANGE = "7"
    YELLOW = "8"
    RAINBOW_1 = "9"
    RAINBOW_2 = "A"
    COLOUR_MIX = "B"
    AUTOCOLOUR = "C"


def checksum(body: bytes) -> str:
    """16-bit sum of the bytes from STX through ETX inclusive, as 4 uppercase hex digits."""
    return f"{sum(body) & 0xFFFF:04X}"


def packet(command: bytes, *, type_code: str = ALL_SIGNS, address: str = BROADCAST) -> bytes:
    if len(type_code) != 1 or len(address) != 2:
        raise ValueError("type code is one character, address two hex characters")
    body = STX + command + ETX
    return (
        NUL * 5 + SOH + type_code.encode() + address.encode() + body + checksum(body).encode() + EOT
    )


def _label(label: str) -> bytes:
    if len(label) != 1 or not 0x20 <= ord(label) <= 0x75 or label == "?":
        raise ValueError(f"not a file label: {label!r}")
    return label.encode()


def write_text(
    label: str,
    message: bytes,
    *,
    position: Position = Position.FILL,
    mode: Mode = Mode.HOLD,
    colour: TextColour | None = TextColour.RED,
) -> bytes:
    """The command (not yet a packet) that writes a TEXT file. ``message`` may hold control codes.

    The colour code goes first, before any text: without one a multi-colour sign shows the
    text in its own default colour, which differs from model to model (that is how English
    calls once came out in another colour than the Chinese pictures beside them). ``None``
    sends no colour code, for the one-colour signs and the protocol's published example.
    """
    return (
        WRITE_TEXT.encode()
        + _label(label)
        + ESC
        + position.value.encode()
        + mode.value.encode()
        + (b"" if colour is None else SELECT_COLOUR + colour.value.encode())
        + message
    )


def write_priority_text(
    message: bytes,
    *,
    mode: Mode = Mode.FLASH,
    position: Position = Position.FILL,
    colour: TextColour | None = TextColour.RED,
) -> bytes:
    """The priority TEXT file shows at once over everything; an empty message ends it."""
    if not message:
        return WRITE_TEXT.encode() + PRIORITY_LABEL.encode()
    return write_text(PRIORITY_LABEL, message, position=position, mode=mode, colour=colour)


@dataclass(frozen=True)
class Picture:
    """A SMALL DOTS PICTURE: rows of colour digits ('0' off, '1' red, '2' green, '3' amber)."""

    rows: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.rows or not 1 <= len(self.rows) <= 31:
            raise ValueError("a small dots picture has 1 to 31 rows")
        width = len(self.rows[0])
        if not 1 <= width <= 255 or any(len(row) != width for row in self.rows):
            raise ValueError("every row of a dots picture has the same width, 1 to 255")
        if any(c not in "012345678" for row in self.rows for c in row):
            raise ValueError("dots picture colours are the digits 0-8")

    @property
    def height(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        return len(self.rows[0])


def write_small_dots(label: str, picture: Picture) -> bytes:
    data = b"".join(row.encode() + CR for row in picture.rows)
    return (
        WRITE_SMALL_DOTS.encode()
        + _label(label)
        + f"{picture.height:02X}{picture.width:02X}".encode()
        + data
    )


@dataclass(frozen=True)
class FileSpec:
    """One entry of the memory configuration: a TEXT file of ``size`` bytes or a DOTS picture."""

    label: str
    kind: str  # "A" text, "D" dots
    size: int = 0  # text: bytes
    height: int = 0  # dots
    width: int = 0


def memory_configuration(files: Sequence[FileSpec]) -> bytes:
    """Special function ``E$``: clears the sign's memory and allocates these files."""
    entries = b""
    for spec in files:
        if spec.kind == "A":
            entries += _label(spec.label) + f"AU{spec.size:04X}FFFF".encode()
        elif spec.kind == "D":
            entries += _label(spec.label) + f"DU{spec.height:02X}{spec.width:02X}2000".encode()
        else:
            raise ValueError(f"file kind must be A or D, not {spec.kind!r}")
    return WRITE_SPECIAL.encode() + b"$" + entries


def soft_reset() -> bytes:
    return WRITE_SPECIAL.encode() + b","


def ack_responses(enabled: bool) -> bytes:
    """Special function ``Es``: the sign answers every packet with ACK or NAK ("1") or not ("0").

    Alpha 2.0 and 3.0 signs only (doc 9708-8061, Table 15, label 73H, as alphasignpy reads
    it); an Alpha 1.0 sign such as a BetaBrite ignores it and never answers.
    """
    return WRITE_SPECIAL.encode() + ACK_RESPONSES.encode() + (b"1" if enabled else b"0")


def run_sequence(labels: Sequence[str]) -> bytes:
    """Special function ``E.``: show these TEXT files in this order."""
    return WRITE_SPECIAL.encode() + b".TU" + b"".join(_label(label) for label in labels)


@dataclass(frozen=True)
class Packet:
    type_code: str
    address: str
    command: bytes


def parse_packet(data: bytes) -> tuple[Packet, int]:
    """Parse one packet from the start of ``data`` (after any NULs); return it and bytes used.

    Raises ``ProtocolError`` for framing or checksum errors and ``IncompletePacket`` when more
    bytes are needed.
    """
    start = 0
    while start < len(data) and data[start] == 0:
        start += 1
    if start >= len(data):
        raise IncompletePacket("only NULs so far")
    if data[start] != SOH[0]:
        raise ProtocolError(f"expected SOH at byte {start}, got {data[start]:#04x}")
    if len(data) < start + 5:
        raise IncompletePacket("header not complete")
    type_code = chr(data[start + 1])
    address = data[start + 2 : start + 4].decode("ascii", errors="replace")
    if data[start + 4] != STX[0]:
        raise ProtocolError("expected STX after the address")
    etx = data.find(ETX, start + 5)
    if etx < 0:
        raise IncompletePacket("no ETX yet")
    if len(data) < etx + 6:
        raise IncompletePacket("checksum not complete")
    body = data[start + 4 : etx + 1]
    sent = data[etx + 1 : etx + 5].decode("ascii", errors="replace")
    if data[etx + 5] != EOT[0]:
        raise ProtocolError("expected EOT after the checksum")
    if sent.upper() != checksum(body):
        raise ProtocolError(f"checksum {sent} does not match {checksum(body)}")
    return Packet(type_code, address, data[start + 5 : etx]), etx + 6


class IncompletePacket(ProtocolError):
    pass
