"""What the hall can ask of an LED board, and the Alpha-protocol board that does it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from devices.errors import DeviceError, DeviceTimeout
from devices.health import DeviceHealth, HealthState
from devices.ledboard import alpha
from devices.ledboard.bitmap import render_rows, split_columns
from devices.serial_link import SerialLink

log = logging.getLogger(__name__)


class Colour:
    RED = "1"
    GREEN = "2"
    AMBER = "3"


@dataclass(frozen=True)
class BoardMessage:
    text: str
    mode: alpha.Mode = alpha.Mode.HOLD
    colour: str = Colour.RED


class HallBoard(Protocol):
    """Any board family: Alpha today; another protocol implements the same three calls."""

    def show(self, messages: Sequence[BoardMessage]) -> None: ...

    def show_priority(self, message: BoardMessage | None) -> None: ...

    @property
    def health(self) -> DeviceHealth: ...


TEXT_LABELS = "ABCDEFGHIJ"
PHRASE_LABELS = "QRSTUVWXYZ"  # fixed Chinese phrases stored on the sign once (请 / 号到 / 号窗口 …)
PICTURE_LABELS = "abcdefghijklmno"  # for the normal messages
PRIORITY_PICTURE_LABELS = "pqrst"  # the priority message keeps its own, so it never overwrites them
TEXT_FILE_SIZE = 128


class BoardRejected(DeviceError):
    pass


class AlphaBoard:
    """An Alpha-protocol sign on a serial line (commonly 9600 baud 7E1).

    Text with any non-ASCII character is drawn with a CJK font and sent as SMALL DOTS
    PICTUREs that its TEXT file calls (0x14 + label); plain ASCII goes as text.
    """

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        bytesize: int = 7,
        parity: str = "E",
        stopbits: float = 1,
        height: int = 16,
        width: int = 160,
        address: str = alpha.BROADCAST,
        expect_ack: bool = True,
        ack_timeout_s: float = 1.0,
        phrases: Sequence[str] = (),
    ) -> None:
        if not 1 <= width <= 255 or not 1 <= height <= 31:
            raise ValueError("an Alpha dots picture is at most 255 wide and 31 high")
        self._link = SerialLink(
            port,
            name=f"LED board {port}",
            baudrate=baudrate,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
            timeout_s=ack_timeout_s,
        )
        self.height, self.width = height, width
        self._address = address
        self._expect_ack = expect_ack
        self._ack_timeout_s = ack_timeout_s
        self._configured = False
        self._lock = threading.Lock()
        if len(phrases) > len(PHRASE_LABELS):
            raise ValueError(f"at most {len(PHRASE_LABELS)} stored phrases")
        # Longest first, so "号窗口" wins over "号" when both are stored.
        self._phrases = dict(
            sorted(zip(phrases, PHRASE_LABELS, strict=False), key=lambda kv: -len(kv[0]))
        )

    @property
    def health(self) -> DeviceHealth:
        return self._link.health.current

    def configure(self) -> None:
        """Allocate the text files and the pictures (clears the sign's memory)."""
        files = [alpha.FileSpec(label, "A", size=TEXT_FILE_SIZE) for label in TEXT_LABELS]
        files += [
            alpha.FileSpec(label, "D", height=self.height, width=self.width)
            for label in PICTURE_LABELS + PRIORITY_PICTURE_LABELS
        ]
        stored = {
            phrase: alpha.Picture(tuple(render_rows(phrase, height=self.height)))
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
                self._send(alpha.write_text(label, body, mode=message.mode))
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
            self._send(alpha.write_priority_text(body, mode=message.mode))

    def soft_reset(self) -> None:
        self._send(alpha.soft_reset())

    def close(self) -> None:
        self._link.close()

    def _body(self, message: BoardMessage, labels: Iterator[str]) -> bytes:
        if message.text.isascii():
            return message.text.encode("ascii")
        composed = self._compose(message.text)
        if composed is not None:
            return composed
        rows = render_rows(message.text, height=self.height, colour=message.colour)
        body = b""
        for piece in split_columns(rows, self.width):
            label = next(labels, None)
            if label is None:
                log.warning("message too long for the board; shown cut: %r", message.text)
                break
            self._send(alpha.write_small_dots(label, alpha.Picture(tuple(piece))))
            body += alpha.CALL_SMALL_DOTS + label.encode()
        return body

    def _compose(self, text: str) -> bytes | None:
        """The text as stored phrases plus ASCII in the sign's font: a few dozen bytes, not kilobytes.

        None when some non-ASCII part is not a stored phrase (then the whole text is drawn).
        """
        if not self._phrases:
            return None
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

    def _send(self, command: bytes) -> None:
        frame = alpha.packet(command, address=self._address)
        self._link.reset_input()
        self._link.write(frame)
        if not self._expect_ack:
            return
        answer = self._link.read(1, timeout_s=self._ack_timeout_s)
        if not answer:
            self._link.health.set(HealthState.DEGRADED, "the board does not acknowledge packets")
            raise DeviceTimeout("the LED board did not acknowledge (no ACK)")
        if answer[0] == alpha.NAK:
            self._link.health.set(HealthState.DEGRADED, "the board rejected a packet (NAK)")
            raise BoardRejected("the LED board rejected a packet (NAK)")
        if answer[0] != alpha.ACK:
            self._link.health.set(HealthState.DEGRADED, f"unexpected answer {answer[0]:#04x}")
            raise BoardRejected(f"the LED board answered {answer[0]:#04x}, not ACK")
        self._link.health.set(HealthState.CONNECTED, "acknowledging")
