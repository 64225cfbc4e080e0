"""Card readers. Callers depend on ``CardReader``; an EMV (PC/SC) reader can implement it later."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Protocol

from devices.cardreader.card import SwipedCard
from devices.cardreader.protocol import parse_swipe
from devices.health import DeviceHealth
from devices.serial_link import SerialLink

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 256  # tracks 1 + 2 with sentinels and LRCs fit in well under this
# A swipe's bytes arrive within tens of milliseconds; older leftovers are a pulled card.
STALE_PARTIAL_S = 2.0


class CardReader(Protocol):
    """Anything that turns a presented card into a ``SwipedCard``.

    ``read_card`` returns None when no card was presented before the timeout, raises a
    ``CardReadError`` subclass for a card that cannot be used (tell the customer its
    ``message_zh`` / ``message_en``), and ``DeviceConnectionError`` when the reader is gone.
    """

    def read_card(self, timeout_s: float) -> SwipedCard | None: ...

    @property
    def health(self) -> DeviceHealth: ...

    def close(self) -> None: ...


class MagstripeSerialReader:
    """A serial magnetic-stripe reader that sends the tracks as ASCII ended by CR or CR LF."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        today: Callable[[], date] = date.today,
        min_backoff_s: float = 0.5,
    ) -> None:
        # min_backoff_s: the first wait before reopening a port that went away (doubling).
        self._link = SerialLink(
            port,
            name=f"card reader {port}",
            baudrate=baudrate,
            timeout_s=0.2,
            min_backoff_s=min_backoff_s,
        )
        self._today = today
        self._partial = bytearray()  # a swipe's bytes so far (memory only, never logged)
        self._partial_at = 0.0

    @property
    def health(self) -> DeviceHealth:
        return self._link.health.current

    def open(self) -> None:
        self._link.open()

    def read_card(self, timeout_s: float) -> SwipedCard | None:
        """Bytes of a swipe that came before the deadline are kept for the next call: the
        kiosk reads in short polls, and a swipe straddling two of them is still one card."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            chunk = self._link.read(1, timeout_s=min(left, 0.2))
            if not chunk:
                continue
            now = time.monotonic()
            if self._partial and now - self._partial_at > STALE_PARTIAL_S:
                # A half line left long ago (a card pulled out mid-swipe) is not this swipe.
                log.info("card reader: dropped %d stale bytes", len(self._partial))
                self._partial.clear()
            self._partial += chunk
            self._partial_at = now
            if chunk not in b"\r\n" and len(self._partial) < MAX_LINE_BYTES:
                continue
            line = bytes(self._partial)
            self._partial.clear()
            if line.strip(b"\r\n\x00 "):
                card = parse_swipe(line, today=self._today())
                log.info("card read: %s", card)  # masked by SwipedCard.__repr__
                return card

    def close(self) -> None:
        self._link.close()
