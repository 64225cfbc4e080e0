"""Request bodies: a size limit (413) and strict JSON (422), checked before any route runs.

A route then sees only a body it can read right. The body is read once, here, up to the
limit, and handed on whole. Refusals use the sites' error shape (``refusal``).

An oversized body is read and thrown away (up to ``drain_bytes``) before the 413 goes out,
so the client, still sending, reads our answer instead of a reset connection; a body
declared or sent beyond that is answered at once and the connection closed.
"""

from __future__ import annotations

import email.message

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicehall.platform.refusal import INVALID, TOO_LARGE
from servicehall.platform.strict_json import JsonRefused, loads_strict

MAX_BODY_BYTES = 64 * 1024  # the hall API's largest request is well under 1 KiB
DRAIN_BYTES = 4 * 1024 * 1024
# Methods whose body is content (RFC 9110 §9.3); a body on GET or DELETE has no meaning, and
# no route reads it, so its JSON is not checked (its size is: a server reads it all).
CONTENT_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            value_bytes: bytes = value
            return value_bytes
    return None


def is_json(content_type: bytes | None) -> bool:
    """What FastAPI parses as JSON: no content type at all, ``application/json``, ``…+json``."""
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type.decode("latin-1")
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class RequestLimits:
    """ASGI middleware: refuse oversized bodies (413) and JSON that is not strict JSON (422)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        drain_bytes: int = DRAIN_BYTES,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.drain_bytes = drain_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        # HTTP/1.1 has a body only with one of these two (RFC 9112 §6.3): GETs pass untouched.
        if length is None and _header(scope, b"transfer-encoding") is None:
            await self.app(scope, receive, send)
            return
        declared = int(length) if length is not None and length.isdigit() else None
        if declared is not None and declared > self.max_body_bytes + self.drain_bytes:
            await TOO_LARGE.send(send, self._limit_detail(), close=True)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left; there is no one to answer
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
            if len(body) > self.max_body_bytes:
                drained = await self._drain(receive, len(body), more)
                await TOO_LARGE.send(send, self._limit_detail(), close=not drained)
                return
        if body and scope["method"] in CONTENT_METHODS and is_json(_header(scope, b"content-type")):
            try:
                loads_strict(bytes(body))
            except JsonRefused as refused:
                await INVALID.send(send, f"body: {refused.fault.explain}")
                return
        await self.app(scope, _replay(bytes(body), receive), send)

    def _limit_detail(self) -> str:
        return f"at most {self.max_body_bytes} bytes"

    async def _drain(self, receive: Receive, received: int, more: bool) -> bool:
        """Read and drop the rest of the body, up to a bound; True when all of it was read."""
        while more:
            if received > self.max_body_bytes + self.drain_bytes:
                return False
            message = await receive()
            if message["type"] == "http.disconnect":
                return False
            received += len(message.get("body", b""))
            more = bool(message.get("more_body", False))
        return True


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body once, whole; after it, the server's own messages (a disconnect, in time)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
