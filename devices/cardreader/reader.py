"""Card readers. Callers depend on ``CardReader``; an EMV (PC/SC) reader can implement it later."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Protocol

from devices.cardreader.card import SwipedCard
from devices.cardreader.protocol import parse_swipe
from devices.errors import DeviceTimeout
from devices.health import DeviceHealth
from devices.serial_link import SerialLink

log = logging.getLogger(__name__)


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

    @property
    def health(self) -> DeviceHealth:
        return self._link.health.current

    def open(self) -> None:
        self._link.open()

    def read_card(self, timeout_s: float) -> SwipedCard | None:
        import time

        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self._link.read_until(b"\r\n", timeout_s=left, max_bytes=256)
            except DeviceTimeout:
                return None
            if line.strip(b"\r\n\x00 "):
                card = parse_swipe(line, today=self._today())
                log.info("card read: %s", card)  # masked by SwipedCard.__repr__
                return card

    def close(self) -> None:
        self._link.close()
