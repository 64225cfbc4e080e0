"""The hall API on a real database: tokens, tickets, counter actions, errors people can read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from servicedb.models import DeviceKind
from servicehall.bootstrap import build_hall
from servicehall.config import load_settings
from servicehall.demo.seed import seed_city
from servicehall.hall.tokens import issue_token

pytestmark = pytest.mark.integration
HALL = "hall-xicheng"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    settings = load_settings(
        None,
        {
            "SERVICEHALL_PATHS__DATA_DIR": str(tmp_path),
            "SERVICEHALL_HALL__LED_BOARD": "",
            "SERVICEHALL_HALL__VOICE": "false",
        },
    )
    from servicehall.platform.database import close_database, open_database

    engine: Engine = open_database(settings.database_url(HALL), auto_upgrade=True)
    seed_city(engine, premises=0)
    kiosk = {"Authorization": f"Bearer {issue_token(engine, HALL, DeviceKind.KIOSK, 'kiosk-1')}"}
    counter = {
        "Authorization": f"Bearer {issue_token(engine, HALL, DeviceKind.COUNTER_TERMINAL, 'counter-1')}"
    }
    close_database(engine)
    process = build_hall(settings, HALL)
    with TestClient(process.endpoint.app) as test_client:
        yield test_client, kiosk, counter
    process.close()


def test_kiosk_takes_a_ticket_and_a_counter_calls_it(
    client: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    http, kiosk, counter = client
    response = http.post("/api/v1/tickets", json={"category": "payment"}, headers=kiosk)
    assert response.status_code == 201
    ticket = response.json()
    assert (
        ticket["number"] == "A001"
        and ticket["people_ahead"] == 0
        and ticket["estimate_minutes"] == 0
    )
    called = http.post("/api/v1/counters/1/next", headers=counter).json()
    assert called["ticket"]["number"] == "A001" and called["ticket"]["status"] == "called"
    assert http.get(f"/api/v1/tickets/{ticket['ticket_id']}").json()["counter"] == 1
    overview = http.get("/api/v1/queue").json()
    assert overview["now_serving"][0]["number"] == "A001"
    http.post("/api/v1/counters/1/start", headers=counter)
    assert (
        http.post(
            "/api/v1/counters/1/finish", json={"outcome": "served"}, headers=counter
        ).status_code
        == 200
    )
    assert (
        http.post(
            f"/api/v1/tickets/{ticket['ticket_id']}/rating", json={"score": 5}, headers=kiosk
        ).status_code
        == 204
    )


def test_tokens_are_required_and_scoped(
    client: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    http, kiosk, _ = client
    assert http.post("/api/v1/tickets", json={"category": "payment"}).status_code == 401
    bad = http.post(
        "/api/v1/tickets", json={"category": "payment"}, headers={"Authorization": "Bearer nope"}
    )
    assert bad.status_code == 401 and bad.json()["message_zh"] == "设备未授权"
    assert (
        http.post("/api/v1/counters/1/next", headers=kiosk).status_code == 403
    )  # kiosks cannot call


def test_clear_errors_for_bad_requests(
    client: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    http, kiosk, counter = client
    unknown = http.post("/api/v1/tickets", json={"category": "lottery"}, headers=kiosk)
    assert unknown.status_code == 404 and unknown.json()["message_en"] == "There is no such service"
    assert http.post("/api/v1/tickets", json={"category": ""}, headers=kiosk).status_code == 422
    assert (
        http.post(
            "/api/v1/tickets",
            json={"category": "payment", "priority_reason": "bribe"},
            headers=kiosk,
        ).status_code
        == 422
    )
    nothing = http.post("/api/v1/counters/1/start", headers=counter)
    assert nothing.status_code == 409 and "message_zh" in nothing.json()
    assert http.post("/api/v1/counters/99/next", headers=counter).status_code == 404
    assert http.get("/api/v1/tickets/not-a-uuid").status_code == 422
    assert (
        http.post(
            "/api/v1/tickets/00000000-0000-0000-0000-000000000000/rating",
            json={"score": 9},
            headers=kiosk,
        ).status_code
        == 422
    )


def test_transfer_park_return_and_walk_in_over_http(
    client: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    http, kiosk, counter = client
    http.post("/api/v1/tickets", json={"category": "payment"}, headers=kiosk)
    http.post("/api/v1/counters/1/next", headers=counter)
    moved = http.post(
        "/api/v1/counters/1/transfer", json={"category": "enquiry", "front": True}, headers=counter
    )
    assert moved.status_code == 200 and moved.json()["ticket"]["category"] == "enquiry"
    http.post("/api/v1/counters/1/next", headers=counter)
    assert (
        http.post("/api/v1/counters/1/park", headers=counter).json()["ticket"]["status"] == "parked"
    )
    back = http.post("/api/v1/counters/1/return", json={"number": "A001"}, headers=counter)
    assert back.json()["ticket"]["status"] == "waiting"
    walk = http.post(
        "/api/v1/counters/3/walk-in", json={"category": "new_connection"}, headers=counter
    )
    assert walk.json()["ticket"]["number"] == "B001"


def test_pages_are_served(client: tuple[TestClient, dict[str, str], dict[str, str]]) -> None:
    http, _, _ = client
    assert "叫号大屏" in http.get("/screen").text
    assert "窗口终端" in http.get("/counter").text
