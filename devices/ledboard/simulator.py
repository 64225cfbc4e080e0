"""An Alpha-protocol sign: decodes packets, keeps its files, answers ACK/NAK, shows a picture.

``AlphaSign`` is the sign itself (bytes in, answer bytes out); ``AlphaSignSimulator`` puts
it on a pty, ``SignConnection`` hands it to a board in memory (a test transport).
``frame()`` is what the board shows now (the priority file if set, else the first file of
the run sequence) as rows of colour digits; ``render_png`` and ``terminal_view`` draw it.
Text without a colour code shows in the sign's default colour (amber here, as on many
multi-colour signs). Faults: no ACK, NAK everything, garbage answers, unplug and replug.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import threading
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

from devices.errors import ProtocolError
from devices.ledboard import alpha
from devices.ledboard.bitmap import render_rows
from devices.pty_port import PtyPort

log = logging.getLogger(__name__)

_LED_COLOURS = {"1": (255, 40, 30), "2": (40, 230, 60), "3": (255, 170, 0)}
DEFAULT_TEXT_COLOUR = "3"  # what this sign shows text in when no colour code precedes it
# Colour codes after 1CH → dot colours: the first eight are the same digits as in pictures;
# rainbow, colour mix and autocolour are drawn red.
_TEXT_TO_DOTS = {code: code for code in "12345678"} | {code: "1" for code in "9ABC"}


@dataclass
class TextFile:
    position: str
    mode: str
    message: bytes


@dataclass
class SignState:
    allocated: dict[str, str] = field(default_factory=dict)  # label → "A" / "D"
    texts: dict[str, TextFile] = field(default_factory=dict)
    pictures: dict[str, list[str]] = field(default_factory=dict)
    priority: TextFile | None = None
    sequence: list[str] = field(default_factory=list)
    ack_responses: bool = True  # the sign answers every packet with ACK or NAK
    packets: int = 0
    rejected: int = 0


def apply(state: SignState, command: bytes) -> None:
    """Change the sign's state as the command says (raises ProtocolError for nonsense)."""
    if not command:
        raise ProtocolError("empty command")
    code, rest = chr(command[0]), command[1:]
    if code == alpha.WRITE_TEXT:
        if not rest:
            raise ProtocolError("write text without a label")
        label, rest = chr(rest[0]), rest[1:]
        if label == alpha.PRIORITY_LABEL and not rest:
            state.priority = None
            return
        if len(rest) < 3 or rest[:1] != alpha.ESC:
            raise ProtocolError("text file without ESC, position and mode")
        text = TextFile(chr(rest[1]), chr(rest[2]), bytes(rest[3:]))
        if label == alpha.PRIORITY_LABEL:
            state.priority = text
        else:
            state.texts[label] = text
    elif code == alpha.WRITE_SMALL_DOTS:
        if len(rest) < 5:
            raise ProtocolError("dots picture header too short")
        label = chr(rest[0])
        try:
            height, width = int(rest[1:3], 16), int(rest[3:5], 16)
        except ValueError as err:
            raise ProtocolError("dots picture size is not hex") from err
        rows = bytes(rest[5:]).split(alpha.CR)[:height]
        if len(rows) != height or any(len(row) != width for row in rows):
            raise ProtocolError("dots picture rows do not match its size")
        state.pictures[label] = [row.decode("ascii", errors="replace") for row in rows]
    elif code == alpha.WRITE_SPECIAL:
        function = rest[:1]
        if function == b"$":
            state.allocated = {chr(rest[i]): chr(rest[i + 1]) for i in range(1, len(rest) - 10, 11)}
            state.texts.clear()
            state.pictures.clear()
        elif function == b"." and rest[1:2] == b"T":
            state.sequence = [chr(b) for b in rest[3:]]
        elif function == b",":
            state.priority = None
        elif function == alpha.ACK_RESPONSES.encode() and rest[1:] in (b"0", b"1"):
            state.ack_responses = rest[1:] == b"1"
        else:
            raise ProtocolError(f"special function {function!r} not supported by this sign")
    else:
        raise ProtocolError(f"command code {code!r} not supported by this sign")


def frame(state: SignState, height: int) -> list[str]:
    """What the board shows now, as rows of colour digits."""
    text = state.priority
    if text is None:
        labels = [label for label in state.sequence if label in state.texts] or sorted(state.texts)
        text = state.texts[labels[0]] if labels else None
    if text is None or not text.message:
        return ["0"] * height
    rows = [""] * height
    message = text.message
    index = 0
    ascii_run = ""
    colour = DEFAULT_TEXT_COLOUR

    def flush() -> None:
        nonlocal ascii_run
        if ascii_run:
            for i, row in enumerate(render_rows(ascii_run, height=height, colour=colour)):
                rows[i] += row
            ascii_run = ""

    while index < len(message):
        byte = message[index]
        if byte == alpha.SELECT_COLOUR[0] and index + 1 < len(message):
            flush()
            colour = _TEXT_TO_DOTS.get(chr(message[index + 1]), colour)
            index += 2
            continue
        if byte == alpha.CALL_SMALL_DOTS[0] and index + 1 < len(message):
            flush()
            picture = state.pictures.get(chr(message[index + 1]), ["0"] * height)
            for i in range(height):
                rows[i] += picture[i] if i < len(picture) else "0" * len(picture[0])
            index += 2
            continue
        if 0x20 <= byte < 0x7F:
            ascii_run += chr(byte)
        index += 1
    flush()
    return [row or "0" for row in rows]


def render_png(rows: list[str], path: Path, *, dot: int = 6) -> Path:
    width = max(len(row) for row in rows)
    image = Image.new("RGB", (width * dot + dot, len(rows) * dot + dot), (12, 12, 12))
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(rows):
        for x, value in enumerate(row):
            colour = _LED_COLOURS.get(value, (45, 35, 35))
            cx, cy = dot // 2 + x * dot + dot // 2, dot // 2 + y * dot + dot // 2
            draw.ellipse(
                [cx - dot // 2 + 1, cy - dot // 2 + 1, cx + dot // 2 - 1, cy + dot // 2 - 1],
                fill=colour,
            )
    image.save(path)
    return path


def terminal_view(rows: list[str]) -> str:
    return "\n".join(
        "".join("█" if value != "0" else " " for value in row).rstrip() for row in rows
    )


class AlphaSign:
    """The sign's logic: feed it bytes as they arrive, get back what it answers."""

    def __init__(self, *, height: int = 16, acks: bool = True) -> None:
        self.height = height
        self.nak_everything = False
        self.garbage_answers = False
        self.state = SignState(ack_responses=acks)
        self._buffer = bytearray()
        self._changed = threading.Condition()

    @property
    def acks(self) -> bool:
        """Whether the sign answers packets at all (off on Alpha 1.0 signs, or switched off)."""
        return self.state.ack_responses

    @acks.setter
    def acks(self, value: bool) -> None:
        self.state.ack_responses = value

    def frame(self) -> list[str]:
        with self._changed:
            return frame(self.state, self.height)

    def wait_for_packets(self, count: int, timeout_s: float = 5.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.state.packets >= count, timeout_s)

    def receive(self, data: bytes) -> bytes:
        """Take bytes from the line; return the answers (ACK / NAK bytes) they caused."""
        self._buffer += data
        answers = bytearray()
        while self._buffer:
            try:
                packet, used = alpha.parse_packet(bytes(self._buffer))
            except alpha.IncompletePacket:
                break
            except ProtocolError as err:
                log.info("sign: bad packet (%s); resynchronising", err)
                next_start = self._buffer.find(b"\x01", 1)
                del self._buffer[: next_start if next_start > 0 else len(self._buffer)]
                answers += self._answer(alpha.NAK)
                with self._changed:
                    self.state.rejected += 1
                continue
            del self._buffer[:used]
            ok = not self.nak_everything
            if ok:
                try:
                    with self._changed:
                        apply(self.state, packet.command)
                except ProtocolError as err:
                    log.info("sign: refused command (%s)", err)
                    ok = False
            with self._changed:
                self.state.packets += 1
                self._changed.notify_all()
            answers += self._answer(alpha.ACK if ok else alpha.NAK)
        return bytes(answers)

    def _answer(self, byte: int) -> bytes:
        if not self.state.ack_responses:
            return b""
        return b"\xa5" if self.garbage_answers else bytes([byte])


class SignConnection:
    """A ``BoardConnection`` straight into an ``AlphaSign``: the same bytes, no serial line."""

    def __init__(self, sign: AlphaSign) -> None:
        self.description = "in-memory Alpha sign"
        self.sign = sign
        self.written = bytearray()  # everything the board sent, for byte-level checks
        self._answers = bytearray()

    def write(self, data: bytes) -> None:
        self.written += data
        self._answers += self.sign.receive(data)

    def read(self, size: int, timeout_s: float) -> bytes:
        data = bytes(self._answers[:size])
        del self._answers[:size]
        return data

    def discard_input(self) -> None:
        self._answers.clear()

    def close(self) -> None:
        pass


class AlphaSignSimulator:
    """An ``AlphaSign`` on a pty, read by a thread; unplug and replug like a USB adapter."""

    def __init__(
        self, link_dir: Path | None = None, *, height: int = 16, acks: bool = True
    ) -> None:
        self.sign = AlphaSign(height=height, acks=acks)
        self._port = PtyPort(link_dir, name="ttyLED")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alpha-sim", daemon=True)
        self._thread.start()

    @property
    def path(self) -> str:
        return str(self._port.path)

    @property
    def height(self) -> int:
        return self.sign.height

    @property
    def state(self) -> SignState:
        return self.sign.state

    @property
    def acks(self) -> bool:
        return self.sign.acks

    @acks.setter
    def acks(self, value: bool) -> None:
        self.sign.acks = value

    @property
    def nak_everything(self) -> bool:
        return self.sign.nak_everything

    @nak_everything.setter
    def nak_everything(self, value: bool) -> None:
        self.sign.nak_everything = value

    @property
    def garbage_answers(self) -> bool:
        return self.sign.garbage_answers

    @garbage_answers.setter
    def garbage_answers(self, value: bool) -> None:
        self.sign.garbage_answers = value

    def frame(self) -> list[str]:
        return self.sign.frame()

    def wait_for_packets(self, count: int, timeout_s: float = 5.0) -> bool:
        return self.sign.wait_for_packets(count, timeout_s)

    def unplug(self) -> None:
        self._port.unplug()

    def replug(self) -> None:
        self._port.replug()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._port.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            fd = self._port.master_fd
            if fd < 0:
                self._stop.wait(0.05)
                continue
            try:
                ready, _, _ = select.select([fd], [], [], 0.05)
                data = os.read(fd, 4096) if ready else b""
            except OSError:
                self._stop.wait(0.05)
                continue
            if data:
                answer = self.sign.receive(data)
                if answer:
                    with contextlib.suppress(OSError):
                        os.write(self._port.master_fd, answer)
