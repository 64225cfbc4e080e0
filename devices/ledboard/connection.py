"""Where Alpha packets go: a serial line (any pyserial port or URL) or a TCP socket.

Like the printer's connections these only open, read, write and close; the board above them
knows the protocol. Tests may hand the board any object with the same four calls (the sign
simulator's ``SignConnection`` speaks the sign's bytes in memory).
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlparse

from devices.errors import DeviceConnectionError
from devices.serial_link import SerialLink
from devices.tcp_link import TcpLink


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
        self._link = TcpLink(
            host, port, what=f"LED board at {self.description}", timeout_s=timeout_s
        )

    def write(self, data: bytes) -> None:
        self._link.write(data)

    def read(self, size: int, timeout_s: float) -> bytes:
        return self._link.read(size, timeout_s)

    def discard_input(self) -> None:
        self._link.discard_input()

    def close(self) -> None:
        self._link.close()


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
