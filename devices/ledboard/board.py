"""What the hall can ask of an LED board, in its own words, and the Alpha-protocol board that does it.

``HallBoard``, ``BoardMessage``, ``BoardMode`` and ``BoardColour`` are board-neutral: a second
board family implements the same calls. Alpha codes appear only inside ``AlphaBoard``.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from devices.errors import DeviceConnectionError, DeviceError, DeviceTimeout
from devices.health import DeviceHealth, HealthState, HealthTracker
from devices.ledboard import alpha
from devices.ledboard.bitmap import render_rows, split_columns
from devices.ledboard.connection import (
    BoardConnection,
    SerialBoardConnection,
    open_board_connection,
)

log = logging.getLogger(__name__)


class BoardMode(enum.Enum):
    """How a message arrives and stays on the board."""

    HOLD = "hold"
    FLASH = "flash"
    ROTATE = "rotate"
    ROLL_UP = "roll_up"
    ROLL_DOWN = "roll_down"
    SCROLL = "scroll"


class BoardColour(enum.Enum):
    RED = "red"
    GREEN = "green"
    AMBER = "amber"


@dataclass(frozen=True)
class BoardMessage:
    text: str
    mode: BoardMode = BoardMode.HOLD
    colour: BoardColour = BoardColour.RED


class HallBoard(Protocol):
    """Any board family: Alpha today; another protocol implements the same three calls."""

    def show(self, messages: Sequence[BoardMessage]) -> None: ...

    def show_priority(self, message: BoardMessage | None) -> None: ...

    @property
    def health(self) -> DeviceHealth: ...


_ALPHA_MODES = {
    BoardMode.HOLD: alpha.Mode.HOLD,
    BoardMode.FLASH: alpha.Mode.FLASH,
    BoardMode.ROTATE: alpha.Mode.ROTATE,
    BoardMode.ROLL_UP: alpha.Mode.ROLL_UP,
    BoardMode.ROLL_DOWN: alpha.Mode.ROLL_DOWN,
    BoardMode.SCROLL: alpha.Mode.SCROLL,
}
_ALPHA_TEXT_COLOURS = {
    BoardColour.RED: alpha.TextColour.RED,
    BoardColour.GREEN: alpha.TextColour.GREEN,
    BoardColour.AMBER: alpha.TextColour.AMBER,
}
# SMALL DOTS PICTURE colour digits (doc 9708-8061, Write SMALL DOTS PICTURE).
_ALPHA_DOT_COLOURS = {BoardColour.RED: "1", BoardColour.GREEN: "2", BoardColour.AMBER: "3"}

TEXT_LABELS = "ABCDEFGHIJ"
PHRASE_LABELS = "QRSTUVWXYZ"  # fixed Chinese phrases stored on the sign once (请 / 号到 / 号窗口 …)
PICTURE_LABELS = "abcdefghijklmno"  # for the normal messages
PRIORITY_PICTURE_LABELS = "pqrst"  # the priority message keeps its own, so it never overwrites them
TEXT_FILE_SIZE = 128


class BoardRejected(DeviceError):
    pass


class AlphaBoard:
    """An Alpha-protocol sign on a serial line (commonly 9600 baud 7E1), a TCP adapter or any
    ``BoardConnection``.

    Text with any non-ASCII character is drawn with a CJK font and sent as SMALL DOTS
    PICTUREs that its TEXT file calls (0x14 + label); plain ASCII goes as text. Every TEXT
    file starts with the message's colour code.

    ``expect_ack=False`` is for signs that never answer (Alpha 1.0, or ACK/NAK switched off):
    packets are written and the board stays "connected" rather than "degraded".
    ``enable_ack=True`` first asks the sign to answer every packet (Alpha 2.0/3.0 special
    function ``Es``), for signs whose ACK/NAK responses are off by default.
    """

    def __init__(
        self,
        port: str | BoardConnection,
        *,
        baudrate: int = 9600,
        bytesize: int = 7,
        parity: str = "E",
        stopbits: float = 1,
        height: int = 16,
        width: int = 160,
        address: str = alpha.BROADCAST,
        expect_ack: bool = True,
        enable_ack: bool = False,
        ack_timeout_s: float = 1.0,
        phrases: Sequence[str] = (),
        phrase_colour: BoardColour = BoardColour.RED,
    ) -> None:
        if not 1 <= width <= 255 or not 1 <= height <= 31:
            raise ValueError("an Alpha dots picture is at most 255 wide and 31 high")
        if isinstance(port, str):
            port = SerialBoardConnection(
                port,
                baudrate=baudrate,
                bytesize=bytesize,
                parity=parity,
                stopbits=stopbits,
                timeout_s=ack_timeout_s,
            )
        self._connection: BoardConnection = port
        self._tracker = HealthTracker(f"LED board {port.description}")
        self.height, self.width = height, width
        self._address = address
        self._expect_ack = expect_ack
        self._enable_ack = enable_ack
        self._ack_timeout_s = ack_timeout_s
        self._configured = False
        self._lock = threading.Lock()
        if len(phrases) > len(PHRASE_LABELS):
            raise ValueError(f"at most {len(PHRASE_LABELS)} stored phrases")
        # Longest first, so "号窗口" wins over "号" when both are stored.
        self._phrases = dict(
            sorted(zip(phrases, PHRASE_LABELS, strict=False), key=lambda kv: -len(kv[0]))
        )
        self._phrase_colour = phrase_colour

    @property
    def health(self) -> DeviceHealth:
        return self._tracker.current

    def configure(self) -> None:
        """Allocate the text files and the pictures (clears the sign's memory)."""
        if self._enable_ack:
            self._switch_ack_responses_on()
        files = [alpha.FileSpec(label, "A", size=TEXT_FILE_SIZE) for label in TEXT_LABELS]
        files += [
            alpha.FileSpec(label, "D", height=self.height, width=self.width)
            for label in PICTURE_LABELS + PRIORITY_PICTURE_LABELS
        ]
        dots = _ALPHA_DOT_COLOURS[self._phrase_colour]
        stored = {
            phrase: alpha.Picture(tuple(render_rows(phrase, height=self.height, colour=dots)))
            for phrase in self._phrases
        }
        files += [
            alpha.FileSpec(self._phrases[phrase], "D", height=picture.height, width=picture.width)
            for phrase, picture in stored.items()
        ]
        self._send(alpha.memory_configuration(files))
        for phrase, picture in stored.items():
            self._send(alpha.write_small_dots(self._phrases[phrase], picture))
        self._configured = True

    def show(self, messages: Sequence[BoardMessage]) -> None:
        with self._lock:
            if not self._configured:
                self.configure()
            pictures = iter(PICTURE_LABELS)
            labels = []
            for label, message in zip(TEXT_LABELS, messages, strict=False):
                body = self._body(message, pictures)
                self._send(
                    alpha.write_text(
                        label,
                        body,
                        mode=_ALPHA_MODES[message.mode],
                        colour=_ALPHA_TEXT_COLOURS[message.colour],
                    )
                )
                labels.append(label)
            self._send(alpha.run_sequence(labels or ["A"]))

    def show_priority(self, message: BoardMessage | None) -> None:
        with self._lock:
            if not self._configured:
                self.configure()
            if message is None:
                self._send(alpha.write_priority_text(b""))
                return
            body = self._body(message, iter(PRIORITY_PICTURE_LABELS))
            self._send(
                alpha.write_priority_text(
                    body,
                    mode=_ALPHA_MODES[message.mode],
                    colour=_ALPHA_TEXT_COLOURS[message.colour],
                )
            )

    def soft_reset(self) -> None:
        self._send(alpha.soft_reset())

    def close(self) -> None:
        self._connection.close()

    def _body(self, message: BoardMessage, labels: Iterator[str]) -> bytes:
        if message.text.isascii():
            return message.text.encode("ascii")
        composed = self._compose(message) if message.colour is self._phrase_colour else None
        if composed is not None:
            return composed
        rows = render_rows(
            message.text, height=self.height, colour=_ALPHA_DOT_COLOURS[message.colour]
        )
        body = b""
        for piece in split_columns(rows, self.width):
            label = next(labels, None)
            if label is None:
                log.warning("message too long for the board; shown cut: %r", message.text)
                break
            self._send(alpha.write_small_dots(label, alpha.Picture(tuple(piece))))
            body += alpha.CALL_SMALL_DOTS + label.encode()
        return body

    def _compose(self, message: BoardMessage) -> bytes | None:
        """The text as stored phrases plus ASCII in the sign's font: a few dozen bytes, not kilobytes.

        None when some non-ASCII part is not a stored phrase (then the whole text is drawn).
        """
        if not self._phrases:
            return None
        text = message.text
        body = b""
        index = 0
        while index < len(text):
            for phrase, label in self._phrases.items():
                if text.startswith(phrase, index):
                    body += alpha.CALL_SMALL_DOTS + label.encode()
                    index += len(phrase)
                    break
            else:
                if not text[index].isascii():
                    return None
                body += text[index].encode("ascii")
                index += 1
        return body

    def _switch_ack_responses_on(self) -> None:
        """Ask the sign to answer every packet. A sign whose responses were off may or may not
        answer this one packet, so its answer is read and set aside, never required."""
        self._write(alpha.packet(alpha.ack_responses(True), address=self._address))
        self._read_answer()

    def _write(self, frame: bytes) -> None:
        try:
            self._connection.discard_input()
            self._connection.write(frame)
        except DeviceConnectionError as err:
            self._tracker.set(HealthState.FAULT, str(err))
            raise

    def _read_answer(self) -> bytes:
        try:
            return self._connection.read(1, timeout_s=self._ack_timeout_s)
        except DeviceConnectionError as err:
            self._tracker.set(HealthState.FAULT, str(err))
            raise

    def _send(self, command: bytes) -> None:
        self._write(alpha.packet(command, address=self._address))
        if not self._expect_ack:
            self._tracker.set(HealthState.CONNECTED, "sending (the board is not asked for ACKs)")
            return
        answer = self._read_answer()
        if not answer:
            self._tracker.set(HealthState.DEGRADED, "the board does not acknowledge packets")
            raise DeviceTimeout("the LED board did not acknowledge (no ACK)")
        if answer[0] == alpha.NAK:
            self._tracker.set(HealthState.DEGRADED, "the board rejected a packet (NAK)")
            raise BoardRejected("the LED board rejected a packet (NAK)")
        if answer[0] != alpha.ACK:
            self._tracker.set(HealthState.DEGRADED, f"unexpected answer {answer[0]:#04x}")
            raise BoardRejected(f"the LED board answered {answer[0]:#04x}, not ACK")
        self._tracker.set(HealthState.CONNECTED, "acknowledging")


def open_alpha_board(
    where: str,
    *,
    line: str = "7E1",
    baudrate: int = 9600,
    width: int = 160,
    height: int = 16,
    phrases: Sequence[str] = (),
    expect_ack: bool = True,
    enable_ack: bool = False,
    ack_timeout_s: float = 1.0,
) -> AlphaBoard:
    """An Alpha board at ``where``: a serial port or pyserial URL on ``line`` (7E1, 7E2, 8N1),
    or ``tcp://host:port`` for a serial-to-Ethernet adapter."""
    connection = open_board_connection(where, line=line, baudrate=baudrate, timeout_s=ack_timeout_s)
    return AlphaBoard(
        connection,
        width=width,
        height=height,
        phrases=phrases,
        expect_ack=expect_ack,
        enable_ack=enable_ack,
        ack_timeout_s=ack_timeout_s,
    )
