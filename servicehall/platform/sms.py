"""Sending text messages: the seam between our notifications and an SMS gateway.

Chinese SMS gateways (carrier or cloud) take a phone number, a template or text, and answer
with a message id; they throttle per number and refuse some content. ``SmsGateway`` is what
our code depends on; an HTTP adapter and a simulator that speaks the same HTTP implement it.
Texts are never logged whole (they can carry one-time codes): only the phone, masked, and ids.
"""

from __future__ import annotations

import http.server
import json
import logging
import re
import secrets
import threading
import time
from collections import deque
from typing import Any, Protocol

import httpx


class SmsError(Exception):
    pass


class SmsUnavailable(SmsError):
    """The gateway could not be reached or failed: try again later."""


class SmsRefused(SmsError):
    """The gateway refused this message (bad number, throttled, content): do not retry as is."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


class SmsGateway(Protocol):
    def send(self, phone: str, text: str, *, key: str) -> str:
        """Send ``text`` to ``phone`` (11-digit mainland mobile). ``key`` makes a retry harmless
        (the gateway sends once per key). Returns the gateway's message id."""
        ...


def mask_phone(phone: str) -> str:
    """138****8000: what logs and screens show of a phone number."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


# --- the HTTP gateway and its simulator -----------------------------------------------------
#
# The gateway's HTTP API (the shape common to Chinese cloud SMS services, reduced):
#
#   POST {base}/v1/messages            Authorization: Bearer <api key>
#        {"phone": "13800138000", "text": "…", "key": "<idempotency key>"}
#   200  {"message_id": "…"}           sent (or sent before under this key: same id)
#   400  {"code": "InvalidPhone" | "InvalidText", "message": "…"}
#   401  {"code": "Unauthorized", …}   403 {"code": "Blocked", …} (content refused)
#   429  {"code": "Throttled", …}      too many messages to this number
#   5xx                                the gateway failed: try again later


_PHONE = re.compile(r"1[3-9][0-9]{9}")
log = logging.getLogger(__name__)


class HttpSmsGateway:
    """``SmsGateway`` over the gateway's HTTP API. Logs the masked phone and ids, never text."""

    def __init__(self, base_url: str, api_key: str, *, timeout_s: float = 5.0) -> None:
        self._url = base_url.rstrip("/") + "/v1/messages"
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._http = httpx.Client(timeout=timeout_s)

    def send(self, phone: str, text: str, *, key: str) -> str:
        try:
            response = self._http.post(
                self._url, json={"phone": phone, "text": text, "key": key}, headers=self._headers
            )
        except httpx.HTTPError as err:
            log.warning(
                "SMS to %s: gateway unreachable (%s)", mask_phone(phone), type(err).__name__
            )
            raise SmsUnavailable(type(err).__name__) from None
        if response.status_code >= 500:
            raise SmsUnavailable(f"HTTP {response.status_code}")
        body = _json_object(response.content)
        if response.status_code != 200:
            code = body.get("code") if isinstance(body.get("code"), str) else None
            raise SmsRefused(code or f"HTTP{response.status_code}", f"HTTP {response.status_code}")
        message_id = body.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise SmsUnavailable("the gateway answered without a message id")
        log.info("SMS to %s sent as %s", mask_phone(phone), message_id)
        return message_id

    def close(self) -> None:
        self._http.close()


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class SmsGatewaySimulator:
    """A gateway on 127.0.0.1 speaking the HTTP above, for the demo and tests.

    Messages are held in memory only (never logged or written); ``inbox(phone)`` is what a
    phone would have received. ``fail_next(status, code)`` makes the next sends fail.
    """

    def __init__(self, api_key: str | None = None, *, per_number_per_minute: int = 10) -> None:
        self.api_key = api_key or secrets.token_urlsafe(16)
        self._lock = threading.Lock()
        self._by_key: dict[str, str] = {}
        self._inbox: dict[str, list[str]] = {}
        self._recent: dict[str, deque[float]] = {}
        self._failures: list[tuple[int, str]] = []
        self._limit = per_number_per_minute
        self.sent_count = 0
        simulator = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # requests carry one-time codes: nothing is logged

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                status, body = simulator._handle(
                    self.path, self.headers.get("Authorization", ""), self.rfile.read(length)
                )
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="sms-simulator", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def gateway(self) -> HttpSmsGateway:
        return HttpSmsGateway(self.url, self.api_key)

    def inbox(self, phone: str) -> list[str]:
        with self._lock:
            return list(self._inbox.get(phone, []))

    def fail_next(self, status: int, code: str = "Failure", times: int = 1) -> None:
        with self._lock:
            self._failures.extend([(status, code)] * times)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            self._inbox.clear()

    def _handle(self, path: str, authorization: str, raw: bytes) -> tuple[int, dict[str, str]]:
        if path != "/v1/messages":
            return 404, {"code": "NotFound", "message": "no such resource"}
        if authorization != f"Bearer {self.api_key}":
            return 401, {"code": "Unauthorized", "message": "bad API key"}
        body = _json_object(raw)
        phone, text, key = body.get("phone"), body.get("text"), body.get("key")
        if not isinstance(phone, str) or not _PHONE.fullmatch(phone):
            return 400, {"code": "InvalidPhone", "message": "not a mainland mobile number"}
        if not isinstance(text, str) or not text or len(text) > 500:
            return 400, {"code": "InvalidText", "message": "text missing or too long"}
        if not isinstance(key, str) or not 1 <= len(key) <= 64:
            return 400, {"code": "InvalidKey", "message": "key missing or too long"}
        with self._lock:
            if self._failures:
                status, code = self._failures.pop(0)
                return status, {"code": code, "message": "simulated failure"}
            if key in self._by_key:
                return 200, {"message_id": self._by_key[key]}
            now = time.monotonic()
            recent = self._recent.setdefault(phone, deque())
            while recent and now - recent[0] > 60:
                recent.popleft()
            if len(recent) >= self._limit:
                return 429, {"code": "Throttled", "message": "too many messages to this number"}
            recent.append(now)
            message_id = "SM" + secrets.token_hex(8)
            self._by_key[key] = message_id
            self._inbox.setdefault(phone, []).append(text)
            self.sent_count += 1
            return 200, {"message_id": message_id}
