"""Where receipt bytes go: serial, network (port 9100), USB or a file. Only open/read/write/close."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

from devices.errors import DeviceConnectionError
from devices.serial_link import SerialLink
from devices.tcp_link import TcpLink


class PrinterConnection(Protocol):
    description: str
    can_read: bool

    def write(self, data: bytes) -> None: ...

    def read(self, size: int, timeout_s: float) -> bytes: ...

    def close(self) -> None: ...


class SerialPrinter:
    can_read = True

    def __init__(self, port: str, baudrate: int = 19200) -> None:
        self.description = f"serial {port}"
        self._link = SerialLink(port, name=f"printer {port}", baudrate=baudrate, timeout_s=1.0)

    def write(self, data: bytes) -> None:
        self._link.write(data)

    def read(self, size: int, timeout_s: float) -> bytes:
        return self._link.read(size, timeout_s=timeout_s)

    def discard_input(self) -> None:
        self._link.reset_input()

    def close(self) -> None:
        self._link.close()


class NetworkPrinter:
    """A raw TCP printer (JetDirect, port 9100). Reconnects on the next call after a failure."""

    can_read = True

    def __init__(self, host: str, port: int = 9100, timeout_s: float = 3.0) -> None:
        self.description = f"network {host}:{port}"
        self._link = TcpLink(host, port, what=f"printer at {self.description}", timeout_s=timeout_s)

    def write(self, data: bytes) -> None:
        self._link.write(data)

    def read(self, size: int, timeout_s: float) -> bytes:
        return self._link.read(size, timeout_s)

    def discard_input(self) -> None:
        self._link.discard_input()

    def close(self) -> None:
        self._link.close()


class FilePrinter:
    """Appends to a file or device node (e.g. /dev/usb/lp0). Cannot answer status."""

    can_read = False

    def __init__(self, path: Path) -> None:
        self.description = f"file {path}"
        self._path = path

    def write(self, data: bytes) -> None:
        try:
            with self._path.open("ab") as out:
                out.write(data)
        except OSError as err:
            raise DeviceConnectionError(f"cannot write to {self._path}: {err.strerror}") from err

    def read(self, size: int, timeout_s: float) -> bytes:
        return b""

    def close(self) -> None:
        pass


class UsbPrinter:
    """A USB printer through python-escpos (needs pyusb and access to the device)."""

    can_read = True

    def __init__(self, vendor: int, product: int) -> None:
        self.description = f"usb {vendor:04x}:{product:04x}"
        try:
            from escpos.printer import Usb
        except ImportError as err:
            raise DeviceConnectionError(
                "USB printers need python-escpos with pyusb: pip install 'servicehall[devices]' pyusb"
            ) from err
        try:
            self._usb: Any = Usb(vendor, product)
            self._usb.open()
        except Exception as err:
            raise DeviceConnectionError(
                f"cannot open USB printer {self.description}: {err}"
            ) from err

    def write(self, data: bytes) -> None:
        try:
            self._usb._raw(data)
        except Exception as err:
            raise DeviceConnectionError(f"USB printer {self.description} failed: {err}") from err

    def read(self, size: int, timeout_s: float) -> bytes:
        try:
            return bytes(self._usb._read())[:size]
        except Exception:
            return b""

    def close(self) -> None:
        self._usb.close()


def open_connection(url: str) -> PrinterConnection:
    """``tcp://host[:9100]``, ``usb://04b8:0202``, ``file:///path``, ``serial:///dev/ttyS0?baud=19200``,
    a device path, or any pyserial URL (``socket://``, ``rfc2217://``, ``loop://``)."""
    parsed = urlparse(url)
    if parsed.scheme == "tcp":
        if not parsed.hostname:
            raise DeviceConnectionError(f"printer URL {url!r} has no host")
        return NetworkPrinter(parsed.hostname, parsed.port or 9100)
    if parsed.scheme == "usb":
        try:
            vendor, product = (int(part, 16) for part in parsed.netloc.split(":"))
        except ValueError as err:
            raise DeviceConnectionError(
                f"printer URL {url!r}: expected usb://VID:PID in hex"
            ) from err
        return UsbPrinter(vendor, product)
    if parsed.scheme == "file":
        return FilePrinter(Path(parsed.path))
    if parsed.scheme == "serial":
        baud = int(parse_qs(parsed.query).get("baud", ["19200"])[0])
        return SerialPrinter(parsed.path, baud)
    return SerialPrinter(url)
