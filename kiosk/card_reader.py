"""The kiosk's magnetic-stripe reader: one serial line, three kinds of card (``kiosk.cards``).

``devices.cardreader.reader.MagstripeSerialReader`` knows bank cards only; the kiosk also
takes the utility's customer and VIP cards on the same reader, so it reads the line itself
(through ``devices.serial_link.SerialLink``, which reopens the port after an unplug) and
classifies it. Nothing here logs track data: a swipe is logged by its masked ``repr``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from datetime import date
from typing import Protocol

from devices.errors import DeviceConnectionError
from devices.health import DeviceHealth, HealthState
from devices.serial_link import SerialLink
from kiosk.cards import Swipe, parse_kiosk_swipe

log = logging.getLogger(__name__)

MAX_LINE = 256  # two tracks and their sentinels are under 130 bytes
QUIET_S = 0.5  # a swipe's bytes come together; this long without its CR means it was cut


class SwipeReader(Protocol):
    """Returns a swipe, None when nobody swiped before the timeout, raises ``CardReadError``
    for a card that cannot be used and ``DeviceConnectionError`` when the reader is gone."""

    @property
    def health(self) -> DeviceHealth: ...

    def read_swipe(self, timeout_s: float) -> Swipe | None: ...

    def close(self) -> None: ...


class KioskCardReader:
    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        today: Callable[[], date] = date.today,
        account_prefix: str = "XC",
        min_backoff_s: float = 0.5,
        max_backoff_s: float = 5.0,
    ) -> None:
        # A kiosk's reader comes back within seconds of a replug; keep the backoff short.
        self._link = SerialLink(
            port,
            name=f"card reader {port}",
            baudrate=baudrate,
            timeout_s=0.2,
            min_backoff_s=min_backoff_s,
            max_backoff_s=max_backoff_s,
        )
        self._today = today
        self._prefix = account_prefix  # a customer card holds the account's digits only
        self._buffer = bytearray()  # in memory only; track data never goes further
        self._last_byte = 0.0

    @property
    def health(self) -> DeviceHealth:
        return self._link.health.current

    def probe(self) -> DeviceHealth:
        """Open the port if it is closed (after an unplug), so health says what is true now."""
        with contextlib.suppress(DeviceConnectionError):
            self._link.open()
        return self.health

    def read_swipe(self, timeout_s: float) -> Swipe | None:
        """The next swipe, or None. Bytes are kept between calls: a swipe that arrives as
        one call's time runs out is finished by the next, never cut in two."""
        deadline = time.monotonic() + timeout_s
        while True:
            line = self._next_line()
            if line is not None:
                if line.strip(b"\r\n\x00 "):
                    swipe = parse_kiosk_swipe(
                        line, today=self._today(), account_prefix=self._prefix
                    )
                    log.info("card read: %r", swipe)
                    return swipe
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                chunk = self._link.read(256, timeout_s=min(left, 0.1))
            except DeviceConnectionError:
                self._buffer.clear()
                raise
            if chunk:
                self._buffer += chunk
                self._last_byte = time.monotonic()

    def _next_line(self) -> bytes | None:
        """A whole line from the buffer; or what is there once the line went quiet without
        its CR (a reader that lost the end of a swipe), so it is refused, not kept."""
        for end, byte in enumerate(self._buffer):
            if byte in b"\r\n":
                line = bytes(self._buffer[: end + 1])
                del self._buffer[: end + 1]
                return line
        too_long = len(self._buffer) > MAX_LINE
        gone_quiet = self._buffer and time.monotonic() - self._last_byte > QUIET_S
        if too_long or gone_quiet:
            line = bytes(self._buffer)
            self._buffer.clear()
            return line
        return None

    def close(self) -> None:
        self._buffer.clear()
        self._link.close()
        self._link.health.set(HealthState.FAULT, "closed")
