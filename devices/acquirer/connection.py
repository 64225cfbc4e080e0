"""A TCP connection that only opens, writes and reads length-framed messages.

One connection per exchange ("short connection", as most POS acquirers run): a connection
that saw a timeout or a refused answer is closed, so a late answer can never be read as the
answer to the next message.
"""

from __future__ import annotations

import socket
import time
from types import TracebackType

from devices.acquirer.errors import AcquirerUnreachable, AnswerTimeout, ConnectionCut
from devices.acquirer.protocol import LENGTH_HEADER, frame, frame_length


def read_frame(sock: socket.socket, timeout_s: float) -> bytes:
    """The next message from ``sock`` without its length header.

    Raises ``AnswerTimeout`` when it is not whole by the deadline, ``ConnectionCut`` when the
    peer closes first, ``MessageRefused`` for a length no message of ours has.
    """
    deadline = time.monotonic() + timeout_s
    length = frame_length(_read_exactly(sock, LENGTH_HEADER, deadline))
    return _read_exactly(sock, length, deadline)


def _read_exactly(sock: socket.socket, size: int, deadline: float) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AnswerTimeout(f"{len(chunks)} of {size} bytes before the deadline")
        sock.settimeout(left)
        try:
            chunk = sock.recv(size - len(chunks))
        except TimeoutError:
            raise AnswerTimeout(f"{len(chunks)} of {size} bytes before the deadline") from None
        except OSError as err:
            raise ConnectionCut(f"the connection broke: {err.strerror or err}") from None
        if not chunk:
            raise ConnectionCut(f"the peer closed after {len(chunks)} of {size} bytes")
        chunks += chunk
    return bytes(chunks)


class FrameConnection:
    def __init__(self, host: str, port: int, *, connect_timeout_s: float = 5.0) -> None:
        self.host = host
        self.port = port
        self._connect_timeout_s = connect_timeout_s
        self._sock: socket.socket | None = None

    def open(self) -> None:
        try:
            self._sock = socket.create_connection(
                (self.host, self.port), timeout=self._connect_timeout_s
            )
        except OSError as err:
            raise AcquirerUnreachable(
                f"cannot connect to the acquirer at {self.host}:{self.port}: {err.strerror or err}"
            ) from None
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, payload: bytes) -> None:
        sock = self._require()
        try:
            sock.sendall(frame(payload))
        except OSError as err:
            raise ConnectionCut(f"sending failed: {err.strerror or err}") from None

    def receive(self, timeout_s: float) -> bytes:
        return read_frame(self._require(), timeout_s)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> FrameConnection:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise ConnectionCut("the connection is not open")
        return self._sock
