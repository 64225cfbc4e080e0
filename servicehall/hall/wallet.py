"""The wallet provider (扫码支付) as the hall sees it: an HTTP adapter and a simulator that
speaks the same HTTP, on the pattern of the common native-QR APIs, with HMAC-SHA256 signing.

The provider's API::

    POST {base}/v3/pay/native                  create an order, answer what the QR encodes
         {"out_trade_no", "amount_fen", "description", "notify_url", "time_expire"}
    200  {"code_url": "https://…"}
    GET  {base}/v3/pay/orders/{out_trade_no}   ask about an order (when a notify is lost)
    200  {"out_trade_no", "trade_state": NOTPAY|SUCCESS|CLOSED, "amount_fen",
          "transaction_id"?, "success_time"?}
    404  {"code": "ORDER_NOT_EXIST"}

    Every request carries X-Merchant-Id, X-Timestamp (Unix seconds), X-Nonce and
    X-Signature = hex HMAC-SHA256(key, METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n BODY).

    The provider tells the merchant at notify_url when an order is paid:
    POST {notify_url}  X-Timestamp, X-Nonce,
         X-Signature = hex HMAC-SHA256(key, TIMESTAMP \\n NONCE \\n BODY)
         {"out_trade_no", "transaction_id", "trade_state": "SUCCESS", "amount_fen",
          "success_time"}
    The merchant answers 200 {"code": "SUCCESS"}; anything else and the provider retries.

``parse_notify`` checks a notify field by field and refuses anything else with a typed
reason (a forged or stale signature, a missing field, a wrong type) — never a misread.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import http.server
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from domain.qr_payments import WalletDown, WalletPayment

log = logging.getLogger(__name__)

MAX_SKEW_S = 300
_ORDER_NO = re.compile(r"[A-Za-z0-9_-]{6,40}")
_TXN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_STATES = {"NOTPAY": "pending", "SUCCESS": "paid", "CLOSED": "closed"}


def sign(key: bytes, *parts: str | bytes) -> str:
    message = b"\n".join(p.encode() if isinstance(p, str) else p for p in parts)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class NotifyProblem(enum.StrEnum):
    MISSING_HEADER = "missing_header"
    STALE = "stale"
    BAD_SIGNATURE = "bad_signature"
    NOT_JSON = "not_json"
    BAD_FIELD = "bad_field"


class NotifyRefused(Exception):
    def __init__(self, problem: NotifyProblem, detail: str) -> None:
        super().__init__(f"{problem.value}: {detail}")
        self.problem = problem
        self.detail = detail


def parse_notify(
    headers: Mapping[str, str], body: bytes, key: bytes, now: datetime
) -> WalletPayment:
    """A provider's notify → the paid order, or ``NotifyRefused`` saying why."""
    lowered = {k.lower(): v for k, v in headers.items()}
    stamp, nonce, signature = (
        lowered.get("x-timestamp"),
        lowered.get("x-nonce"),
        lowered.get("x-signature"),
    )
    if not stamp or not nonce or not signature:
        raise NotifyRefused(NotifyProblem.MISSING_HEADER, "X-Timestamp, X-Nonce, X-Signature")
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise NotifyRefused(NotifyProblem.BAD_FIELD, "X-Timestamp is not Unix seconds")
    if abs(now.timestamp() - int(stamp)) > MAX_SKEW_S:
        raise NotifyRefused(NotifyProblem.STALE, "the timestamp is too far from now")
    expected = sign(key, stamp, nonce, body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise NotifyRefused(NotifyProblem.BAD_SIGNATURE, "the signature does not match")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise NotifyRefused(NotifyProblem.NOT_JSON, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise NotifyRefused(NotifyProblem.NOT_JSON, "the body is not a JSON object")
    if data.get("trade_state") != "SUCCESS":
        raise NotifyRefused(NotifyProblem.BAD_FIELD, "trade_state is not SUCCESS")
    paid = _order_state(data)
    if paid.txn_id is None or paid.paid_at is None:
        raise NotifyRefused(NotifyProblem.BAD_FIELD, "a paid notify needs its transaction")
    return paid


def _order_state(data: Mapping[str, Any]) -> WalletPayment:
    order_no, state, amount = (
        data.get("out_trade_no"),
        data.get("trade_state"),
        data.get("amount_fen"),
    )
    if not isinstance(order_no, str) or not _ORDER_NO.fullmatch(order_no):
        raise NotifyRefused(NotifyProblem.BAD_FIELD, "out_trade_no")
    if not isinstance(state, str) or state not in _STATES:
        raise NotifyRefused(NotifyProblem.BAD_FIELD, "trade_state")
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount < 10**12:
        raise NotifyRefused(NotifyProblem.BAD_FIELD, "amount_fen")
    txn_id: str | None = None
    paid_at: datetime | None = None
    if state == "SUCCESS":
        txn, when = data.get("transaction_id"), data.get("success_time")
        if not isinstance(txn, str) or not _TXN.fullmatch(txn):
            raise NotifyRefused(NotifyProblem.BAD_FIELD, "transaction_id")
        if not isinstance(when, str):
            raise NotifyRefused(NotifyProblem.BAD_FIELD, "success_time")
        try:
            paid_at = datetime.fromisoformat(when)
        except ValueError:
            raise NotifyRefused(NotifyProblem.BAD_FIELD, "success_time") from None
        if paid_at.tzinfo is None:
            raise NotifyRefused(NotifyProblem.BAD_FIELD, "success_time has no offset")
        txn_id = txn
    return WalletPayment(order_no, _STATES[state], amount, txn_id, paid_at)


@dataclass(frozen=True)
class WalletSettings:
    base_url: str
    merchant_id: str
    key: bytes
    notify_url: str


class HttpWallet:
    """``WalletPort`` over the provider's HTTP API."""

    def __init__(self, settings: WalletSettings, *, timeout_s: float = 5.0) -> None:
        self.settings = settings
        self._http = httpx.Client(base_url=settings.base_url, timeout=timeout_s)

    def create_order(
        self, order_id: str, amount_fen: int, description: str, expires_at: datetime
    ) -> str:
        body = {
            "out_trade_no": order_id,
            "amount_fen": amount_fen,
            "description": description,
            "notify_url": self.settings.notify_url,
            "time_expire": expires_at.astimezone(UTC).isoformat(),
        }
        data = self._request("POST", "/v3/pay/native", json.dumps(body).encode())
        code_url = data.get("code_url")
        if not isinstance(code_url, str) or not code_url.startswith(("https://", "http://")):
            raise WalletDown("the provider answered without a QR URL")
        return code_url

    def query(self, order_id: str) -> WalletPayment:
        data = self._request("GET", f"/v3/pay/orders/{order_id}", b"")
        try:
            return _order_state(data)
        except NotifyRefused as err:
            raise WalletDown(f"unreadable order state: {err}") from None

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, body: bytes) -> dict[str, Any]:
        stamp, nonce = str(int(time.time())), secrets.token_hex(12)
        headers = {
            "Content-Type": "application/json",
            "X-Merchant-Id": self.settings.merchant_id,
            "X-Timestamp": stamp,
            "X-Nonce": nonce,
            "X-Signature": sign(self.settings.key, method, path, stamp, nonce, body),
        }
        try:
            response = self._http.request(method, path, content=body, headers=headers)
        except httpx.HTTPError as err:
            raise WalletDown(f"{type(err).__name__}") from None
        if response.status_code != 200:
            raise WalletDown(f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise WalletDown("the answer is not JSON") from None
        if not isinstance(data, dict):
            raise WalletDown("the answer is not a JSON object")
        return data


@dataclass
class _SimOrder:
    out_trade_no: str
    amount_fen: int
    notify_url: str
    expires: float
    state: str = "NOTPAY"
    transaction_id: str | None = None
    success_time: str | None = None


class WalletSimulator:
    """A wallet provider on 127.0.0.1: create, query, a customer who pays, signed notifies.

    ``pay(order_no)`` is the customer scanning and paying; the notify goes out on a thread
    and is retried until the merchant answers SUCCESS. ``drop_notifies`` loses them (the
    hall must then ask). ``notified`` counts notifies the merchant accepted.
    """

    def __init__(self, merchant_id: str = "1900000109", key: bytes | None = None) -> None:
        self.merchant_id = merchant_id
        self.key = key or secrets.token_bytes(32)
        self.drop_notifies = False
        self.notified = 0
        self._orders: dict[str, _SimOrder] = {}
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._threads: list[threading.Thread] = []
        simulator = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._answer(*simulator._handle("GET", self.path, dict(self.headers), b""))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                self._answer(*simulator._handle("POST", self.path, dict(self.headers), body))

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="wallet-sim", daemon=True
        ).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def settings(self, notify_url: str) -> WalletSettings:
        return WalletSettings(self.url, self.merchant_id, self.key, notify_url)

    def pay(self, out_trade_no: str) -> str:
        """The customer pays the order; returns the provider's transaction id."""
        with self._lock:
            order = self._orders[out_trade_no]
            if order.state == "NOTPAY":
                order.state = "SUCCESS"
                order.transaction_id = "42000" + secrets.token_hex(10)
                order.success_time = datetime.now(UTC).isoformat()
            txn = order.transaction_id
            assert txn is not None  # noqa: S101 - set just above or before
        if not self.drop_notifies:
            thread = threading.Thread(target=self._notify, args=(order,), daemon=True)
            self._threads.append(thread)
            thread.start()
        return txn

    def wait_notified(self, count: int, timeout_s: float = 10.0) -> bool:
        with self._done:
            return self._done.wait_for(lambda: self.notified >= count, timeout_s)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _notify(self, order: _SimOrder) -> None:
        body = json.dumps(
            {
                "out_trade_no": order.out_trade_no,
                "transaction_id": order.transaction_id,
                "trade_state": "SUCCESS",
                "amount_fen": order.amount_fen,
                "success_time": order.success_time,
            }
        ).encode()
        for attempt in range(5):
            stamp, nonce = str(int(time.time())), secrets.token_hex(12)
            headers = {
                "Content-Type": "application/json",
                "X-Timestamp": stamp,
                "X-Nonce": nonce,
                "X-Signature": sign(self.key, stamp, nonce, body),
            }
            try:
                answer = httpx.post(order.notify_url, content=body, headers=headers, timeout=5)
                if answer.status_code == 200:
                    with self._done:
                        self.notified += 1
                        self._done.notify_all()
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2 * (attempt + 1))  # the provider's retry schedule, shortened
        log.warning("wallet simulator: notify for %s was never accepted", order.out_trade_no)

    def _handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        lowered = {k.lower(): v for k, v in headers.items()}
        stamp, nonce = lowered.get("x-timestamp", ""), lowered.get("x-nonce", "")
        expected = sign(self.key, method, path, stamp, nonce, body)
        if lowered.get("x-merchant-id") != self.merchant_id or not hmac.compare_digest(
            expected, lowered.get("x-signature", "")
        ):
            return 401, {"code": "SIGN_ERROR", "message": "signature or merchant mismatch"}
        if method == "POST" and path == "/v3/pay/native":
            try:
                data = json.loads(body)
                order = _SimOrder(
                    str(data["out_trade_no"]),
                    int(data["amount_fen"]),
                    str(data["notify_url"]),
                    datetime.fromisoformat(data["time_expire"]).timestamp(),
                )
            except (ValueError, KeyError, TypeError):
                return 400, {"code": "PARAM_ERROR", "message": "bad order"}
            with self._lock:
                self._orders.setdefault(order.out_trade_no, order)
            return 200, {"code_url": f"{self.url}/qr/{order.out_trade_no}"}
        if method == "GET" and path.startswith("/v3/pay/orders/"):
            with self._lock:
                found = self._orders.get(path.rsplit("/", 1)[1])
                if found is None:
                    return 404, {"code": "ORDER_NOT_EXIST", "message": "no such order"}
                if found.state == "NOTPAY" and time.time() > found.expires:
                    found.state = "CLOSED"
                answer: dict[str, Any] = {
                    "out_trade_no": found.out_trade_no,
                    "trade_state": found.state,
                    "amount_fen": found.amount_fen,
                }
                if found.state == "SUCCESS":
                    answer["transaction_id"] = found.transaction_id
                    answer["success_time"] = found.success_time
            return 200, answer
        return 404, {"code": "NOT_FOUND", "message": "no such resource"}
