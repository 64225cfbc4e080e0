"""A raw TCP link to a device behind a network port (a printer's 9100, a serial-to-Ethernet
adapter): one socket, reconnected on the next call after a failure, every call under one lock."""

from __future__ import annotations

import socket
import threading

from devices.errors import DeviceConnectionError


class TcpLink:
    def __init__(self, host: str, port: int, *, what: str, timeout_s: float = 3.0) -> None:
        """``what`` names the device in errors: "printer network 10.0.0.5:9100"."""
        self.description = f"{host}:{port}"
        self._what = what
        self._address = (host, port)
        self._timeout_s = timeout_s
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def _connected(self) -> socket.socket:
        if self._sock is None:
            try:
                self._sock = socket.create_connection(self._address, timeout=self._timeout_s)
            except OSError as err:
                raise DeviceConnectionError(f"cannot reach the {self._what}: {err}") from err
        return self._sock

    def write(self, data: bytes) -> None:
        with self._lock:
            try:
                self._connected().sendall(data)
            except OSError as err:
                self._drop()
                raise DeviceConnectionError(f"the {self._what} went away: {err}") from err

    def read(self, size: int, timeout_s: float) -> bytes:
        """Up to ``size`` bytes, or b"" when nothing came within ``timeout_s``."""
        with self._lock:
            sock = self._connected()
            sock.settimeout(timeout_s)
            try:
                data = sock.recv(size)
            except TimeoutError:
                return b""
            except OSError as err:
                self._drop()
                raise DeviceConnectionError(f"the {self._what} went away: {err}") from err
            finally:
                if self._sock is not None:
                    self._sock.settimeout(self._timeout_s)
            if not data:
                self._drop()
                raise DeviceConnectionError(f"the {self._what} closed the connection")
            return data

    def discard_input(self) -> None:
        """Throw away late answers still in the socket, so the next query reads its own."""
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
                    self._sock.setblocking(True)
                    self._sock.settimeout(self._timeout_s)

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def close(self) -> None:
        with self._lock:
            self._drop()
