"""Decode ESC/POS bytes back into what a printer would do — for the simulator and for tests.

Understands the commands servicehall sends (and python-escpos emits); anything else is
reported as an unknown command and skipped, never a crash. Works on a stream: ``feed()``
takes any chunk and keeps an incomplete command for the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Text:
    text: str
    align: str
    bold: bool
    size: int


@dataclass
class Qr:
    data: str


@dataclass
class Cut:
    pass


@dataclass
class StatusQuery:
    n: int


@dataclass
class Unknown:
    data: bytes


Event = Text | Qr | Cut | StatusQuery | Unknown

# Fixed-length commands: prefix → total length.
_FIXED = {
    b"\x1b@": 2,
    b"\x1ba": 3,
    b"\x1bE": 3,
    b"\x1b-": 3,
    b"\x1b!": 3,
    b"\x1bM": 3,
    b"\x1bt": 3,
    b"\x1bd": 3,
    b"\x1bJ": 3,
    b"\x1b2": 2,
    b"\x1b3": 3,
    b"\x1bG": 3,
    b"\x1b{": 3,
    b"\x1bp": 5,
    b"\x1d!": 3,
    b"\x1dB": 3,
    b"\x1db": 3,
    b"\x1dL": 4,
    b"\x1dW": 4,
    b"\x1dh": 3,
    b"\x1dw": 3,
    b"\x1dH": 3,
    b"\x1df": 3,
    b"\x1c&": 2,
    b"\x1c.": 2,
    b"\x10\x04": 3,
}
_ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}


@dataclass
class EscPosDecoder:
    events: list[Event] = field(default_factory=list)
    _buffer: bytearray = field(default_factory=bytearray)
    _text: bytearray = field(default_factory=bytearray)
    _align: str = "left"
    _bold: bool = False
    _size: int = 1
    _qr_data: bytes = b""

    def feed(self, data: bytes) -> list[Event]:
        """Decode what can be decoded; return the events this chunk completed."""
        start = len(self.events)
        self._buffer += data
        while self._buffer:
            consumed = self._step()
            if consumed == 0:
                break
            del self._buffer[:consumed]
        return self.events[start:]

    def _flush_text(self) -> None:
        if self._text:
            self.events.append(
                Text(
                    self._text.decode("gb18030", errors="replace"),
                    self._align,
                    self._bold,
                    self._size,
                )
            )
            self._text.clear()

    def _step(self) -> int:
        buffer = self._buffer
        first = buffer[0]
        if first == 0x0A:
            self._flush_text()
            return 1
        if first >= 0x20 or first == 0x0D:
            if first != 0x0D:
                self._text.append(first)
            return 1
        if first not in (0x1B, 0x1D, 0x1C, 0x10):
            self._flush_text()
            self.events.append(Unknown(bytes(buffer[:1])))
            return 1
        if len(buffer) < 2:
            return 0
        prefix = bytes(buffer[:2])
        if prefix == b"\x1d(":  # GS ( k pL pH cn fn …
            if len(buffer) < 5:
                return 0
            total = 5 + buffer[3] + 256 * buffer[4]
            if len(buffer) < total:
                return 0
            self._function(bytes(buffer[:total]))
            return total
        if prefix == b"\x1dV":  # GS V m [n]
            if len(buffer) < 3:
                return 0
            total = 4 if buffer[2] in (65, 66, 97, 98, 103, 104) else 3
            if len(buffer) < total:
                return 0
            self._flush_text()
            self.events.append(Cut())
            return total
        length = _FIXED.get(prefix)
        if length is None:
            self._flush_text()
            self.events.append(Unknown(prefix))
            return 2
        if len(buffer) < length:
            return 0
        argument = buffer[length - 1]
        if prefix == b"\x1ba":
            self._flush_text()
            self._align = _ALIGN.get(argument, "left")
        elif prefix == b"\x1bE":
            self._bold = bool(argument & 1)
        elif prefix == b"\x1d!":
            self._size = max((argument >> 4) & 7, argument & 7) + 1
        elif prefix == b"\x1b!":
            self._size = 2 if argument & 0x30 else 1
        elif prefix == b"\x1b@":
            self._flush_text()
            self._align, self._bold, self._size = "left", False, 1
        elif prefix == b"\x10\x04":
            self.events.append(StatusQuery(argument))
        return length

    def _function(self, command: bytes) -> None:
        cn, fn = command[5:6], command[6:7]
        if cn == b"1" and fn == b"P":  # store QR data
            self._qr_data = command[8:]
        elif cn == b"1" and fn == b"Q":  # print the stored QR
            self._flush_text()
            self.events.append(Qr(self._qr_data.decode("utf-8", errors="replace")))
