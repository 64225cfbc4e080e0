"""Refusals made below the apps (protocol, limits, shutdown), in the sites' one error shape.

The hall's ``ErrorOut`` is ``{code, message_zh, message_en, detail}``; the platform knows no
site, so it writes the same four fields itself. A client can never tell whether a 413 came
from the middleware or from a route.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.types import Send


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message_zh: str
    message_en: str

    def body(self, detail: str | None = None) -> bytes:
        # ASCII escapes: the detail is ours, but a body that cannot fail to encode is cheap.
        fields: dict[str, Any] = {
            "code": self.code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "detail": detail,
        }
        return json.dumps(fields, ensure_ascii=True).encode("ascii")

    def headers(self, body: bytes, *, close: bool = False) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode("ascii")),
        ]
        if close:
            headers.append((b"connection", b"close"))
        return headers

    async def send(self, send: Send, detail: str | None = None, *, close: bool = False) -> None:
        """Answer an ASGI request with this refusal."""
        body = self.body(detail)
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": self.headers(body, close=close),
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})


BAD_REQUEST = Refusal(400, "BadRequest", "请求无法识别", "The request could not be understood")
TOO_LARGE = Refusal(413, "TooLarge", "请求内容过大", "The request is too large")
URI_TOO_LONG = Refusal(414, "UriTooLong", "请求地址过长", "The request address is too long")
INVALID = Refusal(422, "InvalidRequest", "输入有误", "The request has invalid fields")
HEADERS_TOO_LARGE = Refusal(
    431, "HeadersTooLarge", "请求头过大", "The request headers are too large"
)
