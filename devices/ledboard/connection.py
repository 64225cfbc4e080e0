"""Where Alpha packets go: a serial line (any pyserial port or URL) or a TCP socket.

Like the printer's connections these only open, read, write and close; the board above them
knows the protocol. Tests may hand the board any object with the same four calls (the sign
simulator's ``SignConnection`` speaks the sign's bytes in memory).
"""

from __future__ import annotations

import socket
import threading
from typing import Protocol
from urllib.parse import urlparse

from devices.errors import DeviceConnectionError
from devices.serial_link import SerialLink


class BoardConnection(Protocol):
    description: str

    def write(self, data: bytes) -> None: ...

    def read(self, size: int, timeout_s: float) -> bytes: ...

    def discard_input(self) -> None: ...

    def close(self) -> None: ...


LINES = {"7E1": (7, "E", 1.0), "7E2": (7, "E", 2.0), "8N1": (8, "N", 1.0), "7O1": (7, "O", 1.0)}


class SerialBoardConnection:
    """A sign on a serial line; reopens after an unplug (``SerialLink``)."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        bytesize: int = 7,
        parity: str = "E",
        stopbits: float = 1,
        timeout_s: float = 1.0,
        min_backoff_s: float = 0.5,
    ) -> None:
        self.description = f"serial {port}"
        self._link = SerialLink(
            port,
            name=f"LED board {port}",
            baudrate=baudrate,
            bytesize=bytesize,
            parity=parity,
            stopbits=stopbits,
            timeout_s=timeout_s,
            min_backoff_s=min_backoff_s,
        )

    def write(self, data: bytes) -> None:
        self._link.write(data)

    def read(self, size: int, timeout_s: float) -> bytes:
        return self._link.read(size, timeout_s=timeout_s)

    def discard_input(self) -> None:
        self._link.reset_input()

    def close(self) -> None:
        self._link.close()


class TcpBoardConnection:
    """A sign behind a serial-to-Ethernet adapter (raw TCP). Reconnects on the next call."""

    def __init__(self, host: str, port: int, *, timeout_s: float = 3.0) -> None:
        self.description = f"tcp {host}:{port}"
        self._address = (host, port)
        self._timeout_s = timeout_s
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def _connected(self) -> socket.socket:
        if self._sock is None:
            try:
                self._sock = socket.create_connection(self._address, timeout=self._timeout_s)
            except OSError as err:
                raise DeviceConnectionError(
                    f"cannot reach the LED board at {self.description}: {err}"
                ) from err
        return self._sock

    def write(self, data: bytes) -> None:
        with self._lock:
            try:
                self._connected().sendall(data)
            except OSError as err:
                self._drop()
                raise DeviceConnectionError(
                    f"LED board {self.description} went away: {err}"
                ) from err

    def read(self, size: int, timeout_s: float) -> bytes:
        with self._lock:
            sock = self._connected()
            sock.settimeout(timeout_s)
            try:
                data = sock.recv(size)
            except TimeoutError:
                return b""
            except OSError as err:
                self._drop()
                raise DeviceConnectionError(
                    f"LED board {self.description} went away: {err}"
                ) from err
            finally:
                if self._sock is not None:
                    self._sock.settimeout(self._timeout_s)
            if not data:
                self._drop()
                raise DeviceConnectionError(f"LED board {self.description} closed the connection")
            return data

    def discard_input(self) -> None:
        """Throw away late answers, so the next packet reads its own ACK."""
        with self._lock:
            if self._sock is None:
                return
            self._sock.setblocking(False)
            try:
                while self._sock.recv(4096):
                    pass
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                self._drop()
                return
            finally:
                if self._sock is not None:
                    self._sock.settimeout(self._timeout_s)

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def close(self) -> None:
        with self._lock:
            self._drop()


def open_board_connection(
    where: str, *, line: str = "7E1", baudrate: int = 9600, timeout_s: float = 1.0
) -> BoardConnection:
    """``tcp://host:port`` for a network adapter; otherwise a serial port or pyserial URL.

    ``line`` is data bits, parity and stop bits: Alpha signs usually run 7E1 (some 7E2);
    a simulator on a pty takes 8N1.
    """
    parsed = urlparse(where)
    if parsed.scheme == "tcp":
        if not parsed.hostname or not parsed.port:
            raise DeviceConnectionError(f"LED board address {where!r}: expected tcp://host:port")
        return TcpBoardConnection(parsed.hostname, parsed.port, timeout_s=max(timeout_s, 1.0))
    try:
        bytesize, parity, stopbits = LINES[line.upper()]
    except KeyError:
        raise ValueError(f"line must be one of {', '.join(LINES)}, not {line!r}") from None
    return SerialBoardConnection(
        where,
        baudrate=baudrate,
        bytesize=bytesize,
        parity=parity,
        stopbits=stopbits,
        timeout_s=timeout_s,
    )
