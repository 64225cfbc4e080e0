"""The hall API over real HTTP: no input a client can send yields a 500 or a dropped connection."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from servicedb.models import DeviceKind
from servicehall.bootstrap import build_hall
from servicehall.config import load_settings
from servicehall.demo.seed import seed_city
from servicehall.hall.api.schemas import ErrorOut
from servicehall.hall.tokens import issue_token
from servicehall.platform.database import close_database, open_database
from servicehall.platform.limits import MAX_BODY_BYTES
from servicehall.platform.runner import serving

pytestmark = pytest.mark.integration
HALL = "hall-xicheng"
NO_TICKET = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Hall:
    url: str
    kiosk: dict[str, str]
    counter: dict[str, str]

    @property
    def where(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        assert parts.hostname and parts.port
        return parts.hostname, parts.port


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    """A real hall (``build_hall``) served by the runner, as kiosks and counters reach it."""
    folder: Path = tmp_path_factory.mktemp("hall")
    settings = load_settings(
        None,
        {
            "SERVICEHALL_PATHS__DATA_DIR": str(folder),
            "SERVICEHALL_HALL__LED_BOARD": "",
            "SERVICEHALL_HALL__VOICE": "false",
            "SERVICEHALL_HALL__CENTRAL_URL": "http://127.0.0.1:1",
        },
    )
    engine = open_database(settings.database_url(HALL), auto_upgrade=True)
    seed_city(engine, premises=0)
    kiosk = issue_token(engine, HALL, DeviceKind.KIOSK, "kiosk-1")
    counter = issue_token(engine, HALL, DeviceKind.COUNTER_TERMINAL, "counter-1", counters=[1])
    close_database(engine)
    # 10:00 in the hall today, whatever the time here: the hall issues tickets only when open.
    ten_am = datetime.now(UTC).replace(hour=2, minute=0)
    site = build_hall(settings, HALL, port=0, clock=lambda: ten_am)
    try:
        with serving([site.endpoint]) as urls:
            yield Hall(
                urls[0],
                {"Authorization": f"Bearer {kiosk}"},
                {"Authorization": f"Bearer {counter}"},
            )
    finally:
        site.close()


@pytest.fixture
def http(hall: Hall) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hall.url, timeout=10) as client:
        yield client


def _refused(response: httpx.Response, status: int, code: str) -> ErrorOut:
    assert response.status_code == status, response.text
    error = ErrorOut.model_validate(response.json())
    assert error.code == code and error.message_zh and error.message_en
    return error


JSON = {"Content-Type": "application/json"}


# --- bodies that are not strict JSON: 422 with the reason ---------------------------------
@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/api/v1/tickets", b'{"category": "\\ud800"}', "lone UTF-16 surrogate"),
        ("/api/v1/tickets", b'{"category": "payment", "\\udfff": 1}', "lone UTF-16 surrogate"),
        ("/api/v1/tickets", b'{"category": "\xed\xa0\x80"}', "not UTF-8"),  # a surrogate as UTF-8
        ("/api/v1/tickets", b'{"category": "\xff"}', "not UTF-8"),
        ("/api/v1/tickets", b"hello", "not JSON"),
        ("/api/v1/tickets", b'{"category": "payment"', "not JSON"),
        ("/api/v1/tickets", b"\xef\xbb\xbf{}", "not JSON"),  # a byte order mark
        ("/api/v1/tickets", b'{"category": "payment", "category": "lottery"}', "twice"),
        ("/api/v1/tickets", b"[" * 10_000 + b"]" * 10_000, "nested deeper"),
        (f"/api/v1/tickets/{NO_TICKET}/rating", b'{"score": 18446744073709551617}', "64-bit"),
        (f"/api/v1/tickets/{NO_TICKET}/rating", b'{"score": -9223372036854775809}', "64-bit"),
        (f"/api/v1/tickets/{NO_TICKET}/rating", b'{"score": ' + b"9" * 5000 + b"}", "64-bit"),
        (f"/api/v1/tickets/{NO_TICKET}/rating", b'{"score": 1e400}', "64-bit"),
        (f"/api/v1/tickets/{NO_TICKET}/rating", b'{"score": NaN}', "NaN"),
        (f"/api/v1/tickets/{NO_TICKET}/rating", b'{"score": -Infinity}', "NaN"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 40 else None,
)
def test_bodies_that_are_not_strict_json_are_refused_with_422(
    http: httpx.Client, hall: Hall, path: str, body: bytes, reason: str
) -> None:
    error = _refused(
        http.post(path, content=body, headers={**hall.kiosk, **JSON}), 422, "InvalidRequest"
    )
    assert error.detail and reason in error.detail


def test_json_without_a_content_type_is_checked_too(http: httpx.Client, hall: Hall) -> None:
    # FastAPI reads a body with no Content-Type as JSON, so the check must as well.
    request = http.build_request(
        "POST", "/api/v1/tickets", content=b'{"category": NaN}', headers=hall.kiosk
    )
    assert "content-type" not in request.headers
    error = _refused(http.send(request), 422, "InvalidRequest")
    assert error.detail and "NaN" in error.detail


def test_other_content_types_reach_the_route_and_are_refused_there(
    http: httpx.Client, hall: Hall
) -> None:
    response = http.post(
        "/api/v1/tickets",
        content=b"category=payment",
        headers={**hall.kiosk, "Content-Type": "application/x-www-form-urlencoded"},
    )
    _refused(response, 422, "InvalidRequest")


def test_strict_json_still_takes_a_ticket(http: httpx.Client, hall: Hall) -> None:
    response = http.post(
        "/api/v1/tickets",
        content=b'{"category": "payment", "x": "\\ud83d\\ude00"}',
        headers={**hall.kiosk, **JSON},
    )
    # A valid surrogate pair passes the JSON check; the unknown field is the route's refusal.
    _refused(response, 422, "InvalidRequest")
    taken = http.post("/api/v1/tickets", json={"category": "payment"}, headers=hall.kiosk)
    assert taken.status_code == 201 and taken.json()["number"].startswith("A")


# --- sizes --------------------------------------------------------------------------------
def test_a_huge_body_is_refused_with_413_and_the_connection_kept(
    http: httpx.Client, hall: Hall
) -> None:
    huge = b'{"category": "' + b"a" * (MAX_BODY_BYTES * 4) + b'"}'
    response = http.post("/api/v1/tickets", content=huge, headers={**hall.kiosk, **JSON})
    error = _refused(response, 413, "TooLarge")
    assert error.message_zh == "请求内容过大" and error.message_en == "The request is too large"
    assert response.headers.get("connection") != "close"  # read to the end: still usable
    assert http.get("/api/v1/queue").status_code == 200


def test_a_huge_chunked_body_is_refused_with_413(http: httpx.Client, hall: Hall) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"category": "'
        for _ in range(8):
            yield b"a" * (MAX_BODY_BYTES // 4)
        yield b'"}'

    response = http.post("/api/v1/tickets", content=chunks(), headers={**hall.kiosk, **JSON})
    assert response.request.headers["transfer-encoding"] == "chunked"
    _refused(response, 413, "TooLarge")


def test_a_body_declared_enormous_is_refused_before_it_is_sent(hall: Hall) -> None:
    with socket.create_connection(hall.where, timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/tickets HTTP/1.1\r\nHost: hall\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000000000\r\n\r\n"
        )
        answer = b""
        while chunk := sock.recv(65536):  # the server answers and closes without the body
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"connection: close" in head.lower()
    assert ErrorOut.model_validate_json(body).code == "TooLarge"


def test_a_body_at_the_limit_reaches_the_route(http: httpx.Client, hall: Hall) -> None:
    padding = " " * (MAX_BODY_BYTES - len('{"category": "payment"}'))
    body = ('{"category": "payment"}' + padding).encode()
    assert len(body) == MAX_BODY_BYTES
    response = http.post("/api/v1/tickets", content=body, headers={**hall.kiosk, **JSON})
    assert response.status_code == 201


def test_huge_headers_get_431_in_the_error_shape(http: httpx.Client, hall: Hall) -> None:
    response = http.get("/api/v1/queue", headers={"X-Filler": "a" * 20_000})
    _refused(response, 431, "HeadersTooLarge")


# --- authentication -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "authorization",
    [
        "Basic a2lvc2s6c2VjcmV0",
        "Bearer",
        "Bearer ",
        "Token abc",
        "Digest username=kiosk",
        "bearer-token",
        "Bearer \x00",
        "Bearer " + "é" * 10,
        "Bearer " + "x" * 8000,
    ],
    ids=[
        "basic",
        "bare-bearer",
        "empty-token",
        "token",
        "digest",
        "no-space",
        "nul",
        "latin1",
        "long",
    ],
)
def test_bad_authorization_is_401_never_500(
    hall: Hall, http: httpx.Client, authorization: str
) -> None:
    with socket.create_connection(hall.where, timeout=10) as sock:
        # Raw bytes: httpx would refuse to send some of these headers at all.
        sock.sendall(
            b"POST /api/v1/tickets HTTP/1.1\r\nHost: hall\r\nContent-Type: application/json\r\n"
            b"Content-Length: 23\r\nConnection: close\r\nAuthorization: "
            + authorization.encode("latin-1")
            + b'\r\n\r\n{"category": "payment"}'
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    # A NUL is not allowed in a header at all: refused by the protocol before any route.
    assert status in (400, 401), answer
    error = ErrorOut.model_validate_json(body)
    assert error.code == ("BadRequest" if status == 400 else "Unauthorized")


# --- paths --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/counters/99999999999999999999999/next",
        "/api/v1/counters/-1/next",
        "/api/v1/tickets/%ED%A0%80",  # a surrogate, percent-encoded as UTF-8
        "/api/v1/tickets/%FF%FE",
        "/api/v1/tickets/" + "9" * 5000,
    ],
    ids=["huge-counter", "negative-counter", "surrogate", "not-utf8", "long-id"],
)
def test_hostile_paths_are_refused_in_the_error_shape(
    http: httpx.Client, hall: Hall, path: str
) -> None:
    method = "POST" if path.endswith("/next") else "GET"
    response = http.request(method, path, headers=hall.counter)
    _refused(response, 422, "InvalidRequest")
