"""A serial connection that only opens, closes, reads and writes — and reopens after an unplug.

Any port pyserial accepts works: a device path, a pty, or a URL (``socket://``, ``loop://``,
``rfc2217://``). Every read has a timeout; when the port is gone, callers get a
``DeviceConnectionError`` at once and the link retries opening with exponential backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, NoReturn

from devices.errors import DeviceConnectionError, DeviceTimeout
from devices.health import HealthState, HealthTracker

log = logging.getLogger(__name__)

POLL_S = 0.05  # how long one read waits; callers' timeouts are deadlines over many reads

try:
    import serial
except ImportError:  # pragma: no cover - exercised only without the extra
    serial = None

# pyserial lets termios.error through when the port refuses a setting (a pty refuses 7E1).
_REFUSED: tuple[type[BaseException], ...]
try:
    import termios

    _REFUSED = (termios.error,)
except ImportError:  # pragma: no cover - not on POSIX
    _REFUSED = ()


def _require_pyserial() -> Any:
    if serial is None:
        raise DeviceConnectionError("pyserial is not installed: pip install 'servicehall[devices]'")
    return serial


class SerialLink:
    def __init__(
        self,
        port: str,
        *,
        name: str,
        baudrate: int = 9600,
        bytesize: int = 8,
        parity: str = "N",
        stopbits: float = 1,
        timeout_s: float = 1.0,
        min_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.port = port
        self.health = HealthTracker(name)
        self._settings = {
            "baudrate": baudrate,
            "bytesize": bytesize,
            "parity": parity,
            "stopbits": stopbits,
        }
        self._timeout_s = timeout_s
        self._min_backoff_s = min_backoff_s
        self._max_backoff_s = max_backoff_s
        self._backoff_s = min_backoff_s
        self._next_attempt = 0.0
        self._serial: Any = None
        self._lock = threading.RLock()

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def open(self) -> None:
        """Open now, or raise ``DeviceConnectionError`` saying when the next try will be."""
        with self._lock:
            if self._serial is not None:
                return
            now = time.monotonic()
            if now < self._next_attempt:
                raise DeviceConnectionError(
                    f"{self.port} is not available; next try in {self._next_attempt - now:.1f} s"
                )
            pyserial = _require_pyserial()
            try:
                # Each read waits at most POLL_S; callers' timeouts are deadlines over many reads.
                self._serial = pyserial.serial_for_url(
                    self.port,
                    timeout=POLL_S,
                    write_timeout=self._timeout_s,
                    **self._settings,
                )
            except (pyserial.SerialException, OSError, ValueError, *_REFUSED) as err:
                self._next_attempt = now + self._backoff_s
                self._backoff_s = min(self._backoff_s * 2, self._max_backoff_s)
                line = f"{self._settings['baudrate']} {self._settings['bytesize']}{self._settings['parity']}{self._settings['stopbits']:g}"
                reason = f"cannot open {self.port} at {line}: {err}"
                self.health.set(HealthState.FAULT, reason)
                raise DeviceConnectionError(reason) from err
            self._backoff_s = self._min_backoff_s
            self.health.set(HealthState.CONNECTED, f"open on {self.port}")

    def close(self) -> None:
        with self._lock:
            if self._serial is not None:
                try:
                    self._serial.close()
                except Exception:
                    log.debug("closing %s failed", self.port, exc_info=True)
                self._serial = None

    def write(self, data: bytes) -> None:
        with self._lock:
            self.open()
            try:
                self._serial.write(data)
                self._serial.flush()
            except Exception as err:
                self._lost(err)

    def read(self, size: int, timeout_s: float | None = None) -> bytes:
        """Up to ``size`` bytes: as soon as any arrive, or none when the timeout passes.

        The port keeps a short fixed timeout and this loops to the deadline: changing a
        pyserial timeout reconfigures the port (tcsetattr) on every call.
        """
        deadline = time.monotonic() + (self._timeout_s if timeout_s is None else timeout_s)
        while True:
            with self._lock:
                self.open()
                try:
                    data = bytes(self._serial.read(size))
                except Exception as err:
                    self._lost(err)
            if data or time.monotonic() >= deadline:
                return data

    def read_until(self, terminators: bytes, timeout_s: float, max_bytes: int = 4096) -> bytes:
        """Bytes up to and including the first of ``terminators``; ``DeviceTimeout`` if none came."""
        deadline = time.monotonic() + timeout_s
        buffer = bytearray()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DeviceTimeout(f"no complete answer from {self.port} within {timeout_s:g} s")
            chunk = self.read(1, timeout_s=min(left, 0.2))
            if not chunk:
                continue
            buffer += chunk
            if chunk in terminators or len(buffer) >= max_bytes:
                return bytes(buffer)

    def reset_input(self) -> None:
        with self._lock:
            if self._serial is not None:
                try:
                    self._serial.reset_input_buffer()
                except Exception as err:
                    self._lost(err)

    def _lost(self, err: BaseException) -> NoReturn:
        self.close()
        self._next_attempt = time.monotonic() + self._backoff_s
        self.health.set(HealthState.FAULT, f"{self.port} went away: {err}")
        raise DeviceConnectionError(f"{self.port} went away: {err}") from err
