"""Real-time status (DLE EOT n) of an ESC/POS printer: bytes in, a typed status out.

Each answer is one byte with bit 1 and bit 4 set and bits 0 and 7 clear (Epson ESC/POS
reference, DLE EOT). n=1 printer status, n=2 offline cause, n=4 paper roll sensor.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from devices.errors import ProtocolError
from devices.health import HealthState

DLE_EOT = b"\x10\x04"
PRINTER_STATUS, OFFLINE_CAUSE, PAPER_SENSOR = 1, 2, 4


def query(n: int) -> bytes:
    return DLE_EOT + bytes([n])


class Paper(enum.StrEnum):
    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"


@dataclass(frozen=True)
class PrinterStatus:
    online: bool
    cover_open: bool
    paper: Paper
    error: bool

    @property
    def health(self) -> tuple[HealthState, str]:
        if self.cover_open:
            return HealthState.FAULT, "cover open"
        if self.paper is Paper.OUT:
            return HealthState.FAULT, "paper out"
        if self.error:
            return HealthState.FAULT, "printer error (cutter or mechanism)"
        if not self.online:
            return HealthState.FAULT, "printer offline"
        if self.paper is Paper.NEAR_END:
            return HealthState.DEGRADED, "paper near end"
        return HealthState.CONNECTED, "ready"


def _check(byte: int, what: str) -> int:
    if byte & 0b1001_0011 != 0b0001_0010:
        raise ProtocolError(
            f"{what} status byte {byte:#04x} does not have the fixed bits of DLE EOT"
        )
    return byte


def parse_status(printer: int, offline: int, paper: int) -> PrinterStatus:
    printer = _check(printer, "printer")
    offline = _check(offline, "offline-cause")
    paper = _check(paper, "paper-sensor")
    if paper & 0b0110_0000:
        roll = Paper.OUT
    elif paper & 0b0000_1100:
        roll = Paper.NEAR_END
    else:
        roll = Paper.OK
    return PrinterStatus(
        online=not printer & 0b0000_1000,
        cover_open=bool(offline & 0b0000_0100),
        paper=Paper.OUT if offline & 0b0010_0000 else roll,
        error=bool(offline & 0b0100_0000),
    )


def encode_status(status: PrinterStatus) -> tuple[int, int, int]:
    """The three bytes a printer in ``status`` answers (for simulators and tests)."""
    base = 0b0001_0010
    printer = base | (0 if status.online else 0b0000_1000)
    offline = (
        base | (0b0000_0100 if status.cover_open else 0) | (0b0100_0000 if status.error else 0)
    )
    offline |= 0b0010_0000 if status.paper is Paper.OUT else 0
    paper = base | {Paper.OK: 0, Paper.NEAR_END: 0b0000_1100, Paper.OUT: 0b0110_1100}[status.paper]
    return printer, offline, paper
