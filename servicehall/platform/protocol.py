"""uvicorn's h11 protocol, answering malformed and oversized requests with the right status.

h11 refuses a request whose head (request line and header fields) outgrows its buffer with
``error_status_hint=431`` and anything malformed with 400; uvicorn drops the hint and
answers every refusal with a plain-text 400. This protocol answers 431 Request Header
Fields Too Large, or 414 URI Too Long when the request line alone is too long, or 400 —
each in the sites' error shape — then closes the connection (what follows a refused head
cannot be framed).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from servicehall.platform.refusal import BAD_REQUEST, HEADERS_TOO_LARGE, URI_TOO_LONG

MAX_HEAD_BYTES = 16 * 1024  # h11's default; a kiosk's request head is a few hundred bytes


def _head_size(request: h11.Request) -> tuple[int, int]:
    """The request line's length and the whole head's, as they were on the wire (near enough)."""
    line = len(request.method) + len(request.target) + len(b"  HTTP/1.1\r\n")
    fields = sum(len(name) + len(value) + 4 for name, value in request.headers.raw_items())
    return line, line + fields + 2


class _Connection(h11.Connection):
    """An h11 connection that decides how to refuse the peer's bytes, and always enforces
    the head limit.

    h11 checks its limit only while a head is still incomplete, so a head that arrives in
    one read is accepted at any size; here it is measured once parsed, too.
    """

    def __init__(self, max_head_bytes: int) -> None:
        super().__init__(h11.SERVER, max_incomplete_event_size=max_head_bytes)
        self.max_head_bytes = max_head_bytes
        self.refusal = BAD_REQUEST

    def next_event(self) -> Any:
        try:
            event = super().next_event()
        except h11.RemoteProtocolError as err:
            if err.error_status_hint == HEADERS_TOO_LARGE.status:
                buffered, _closed = self.trailing_data
                self.refusal = HEADERS_TOO_LARGE if b"\n" in buffered else URI_TOO_LONG
            else:
                self.refusal = BAD_REQUEST
            raise
        if isinstance(event, h11.Request):
            line, head = _head_size(event)
            if head > self.max_head_bytes:
                self.refusal = URI_TOO_LONG if line > self.max_head_bytes else HEADERS_TOO_LARGE
                raise h11.RemoteProtocolError(
                    "request head too long", error_status_hint=self.refusal.status
                )
        return event


class HttpProtocol(H11Protocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.conn: _Connection = _Connection(config.h11_max_incomplete_event_size or MAX_HEAD_BYTES)

    def send_400_response(self, msg: str) -> None:
        """uvicorn calls this for every request h11 refuses; the status is now h11's verdict."""
        refusal = self.conn.refusal
        if refusal is BAD_REQUEST:
            # h11's own words may quote the hostile bytes; ours never do.
            detail = "not a well-formed HTTP/1.1 request"
        else:
            detail = f"the request line and headers are limited to {self.conn.max_head_bytes} bytes"
        body = refusal.body(detail)
        response = h11.Response(
            status_code=refusal.status, headers=refusal.headers(body, close=True)
        )
        for event in (response, h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()
