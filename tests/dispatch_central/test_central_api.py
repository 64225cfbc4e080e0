"""Central's work-order, caller and console API over a real database, as the console uses it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from domain.bus import EventBus
from servicedb.models import ConsoleRole
from servicehall.central.api.shapes import ErrorOut
from servicehall.central.app import create_central_app
from servicehall.central.dispatch import build_dispatch
from servicehall.platform.health import HealthBoard
from tests.dispatch_central.builders import (
    CENTRAL,
    PHONE,
    PIN,
    City,
    Clock,
    add_console_staff,
    build_city,
)

pytestmark = pytest.mark.integration


@dataclass
class Rig:
    http: TestClient
    city: City
    clock: Clock
    tokens: dict[str, str]

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def call(self, who: str, method: str, path: str, body: Any = None, **headers: str) -> Any:
        response = self.http.request(
            method, f"/api/v1{path}", json=body, headers={**self.as_(who), **headers}
        )
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def refused(
        self, who: str | None, method: str, path: str, body: Any = None
    ) -> tuple[int, ErrorOut]:
        headers = self.as_(who) if who else {}
        response = self.http.request(method, f"/api/v1{path}", json=body, headers=headers)
        assert response.status_code >= 400, response.text
        return response.status_code, ErrorOut.model_validate(response.json())


@pytest.fixture
def rig(sqlite_db: Engine) -> Iterator[Rig]:
    city = build_city(sqlite_db)
    add_console_staff(
        sqlite_db, city.central_id, "D001", ConsoleRole.DISPATCHER, ConsoleRole.SUPERVISOR
    )
    add_console_staff(sqlite_db, city.central_id, "A001", ConsoleRole.AGENT)
    clock = Clock()
    # The periodic job is not due within a test (an hour); tests call the parts themselves.
    parts = build_dispatch(
        sqlite_db, CENTRAL, EventBus(), sweep_interval_s=3600, auto_dispatch_priority=0, clock=clock
    )
    app = create_central_app(sqlite_db, HealthBoard(CENTRAL, "central"), parts)
    with TestClient(app) as http:
        tokens = {}
        for staff in ("D001", "A001"):
            answer = http.post("/api/v1/console/session", json={"staff_no": staff, "pin": PIN})
            assert answer.status_code == 200, answer.text
            tokens[staff] = answer.json()["token"]
        yield Rig(http, city, clock, tokens)


def test_sign_in_roles_and_refusals_in_one_shape(rig: Rig) -> None:
    assert rig.call("D001", "GET", "/console/me")["roles"] == ["dispatcher", "supervisor"]
    status, error = rig.refused(None, "GET", "/console/state")
    assert (status, error.code) == (401, "Unauthorized") and error.message_zh == "请先登录"
    wrong = rig.http.post("/api/v1/console/session", json={"staff_no": "D001", "pin": "0000"})
    assert wrong.status_code == 401 and wrong.json()["message_en"].startswith(
        "Wrong staff number or PIN"
    )
    order = rig.call(
        "A001",
        "POST",
        "/work-orders",
        {"category": "leak", "description": "漏水", "lon": 116.36, "lat": 39.91},
    )
    status, error = rig.refused(
        "A001",
        "POST",
        f"/work-orders/{order['id']}/dispatch",
        {"crew_id": str(rig.city.crews["crew-burst"])},
    )
    assert (status, error.code) == (403, "RoleRequired")
    rig.call("A001", "DELETE", "/console/session")
    assert rig.refused("A001", "GET", "/console/me")[0] == 401


def test_an_agent_looks_a_caller_up_and_logs_an_order_once(rig: Rig) -> None:
    card = rig.call("A001", "GET", "/callers?phone=%2B86%20138%200013%208000")
    assert card["known"] and card["phone"] == PHONE
    (customer,) = card["customers"]
    assert [a["account_no"] for a in customer["accounts"]] == ["XC000000001", "XC000000002"]
    assert customer["accounts"][0]["arrears_fen"] == 5000
    body = {
        "category": "meter_fault",
        "description": "水表不走",
        "account_no": "XC000000001",
        "contact_phone": "138-0013-8000",
    }
    first = rig.call("A001", "POST", "/work-orders", body, **{"Idempotency-Key": "k1"})
    again = rig.call("A001", "POST", "/work-orders", body, **{"Idempotency-Key": "k1"})
    assert first["id"] == again["id"] and first["contact_phone"] == PHONE
    assert (first["source"], first["priority"], first["account_no"]) == ("phone", 4, "XC000000001")
    assert [o["id"] for o in rig.call("A001", "GET", f"/callers?phone={PHONE}")["orders"]] == [
        first["id"]
    ]
    status, error = rig.refused("A001", "GET", "/callers?phone=12345")
    assert (status, error.code) == (422, "NotAPhone")
    status, error = rig.refused("A001", "POST", "/work-orders", {**body, "account_no": "XC404"})
    assert (status, error.code, error.message_zh) == (404, "UnknownAccount", "没有此户号")


def test_a_dispatcher_assigns_and_the_order_runs_to_its_follow_up(rig: Rig) -> None:
    order = rig.call("D001", "POST", "/work-orders", {
        "category": "burst_main", "description": "爆管", "source": "dispatcher", "lon": 116.372, "lat": 39.938,
    })  # fmt: skip
    advice = rig.call("D001", "GET", f"/work-orders/{order['id']}/suggestions")
    assert advice["best"]["code"] == "crew-burst" and advice["options"][0]["fits"]
    crew = advice["best"]["id"]
    change = rig.call(
        "D001",
        "POST",
        f"/work-orders/{order['id']}/dispatch",
        {"crew_id": crew, "expected_version": order["version"]},
    )
    assert (
        change["applied"]
        and change["order"]["status"] == "dispatched"
        and change["order"]["pinned"]
    )
    status, error = rig.refused(
        "D001",
        "POST",
        f"/work-orders/{order['id']}/dispatch",
        {"crew_id": crew, "expected_version": order["version"]},
    )
    assert (status, error.code) == (409, "OrderChanged")
    status, error = rig.refused(
        "D001", "POST", f"/work-orders/{order['id']}/close", {"result": "fixed"}
    )
    assert (status, error.code, error.message_zh) == (
        409,
        "OrderRefused",
        "工单当前状态不允许此操作",
    )
    rig.call(
        "D001",
        "POST",
        f"/work-orders/{order['id']}/resolve",
        {"result": "fixed", "note": "更换阀门"},
    )
    rig.call("D001", "POST", f"/work-orders/{order['id']}/close", {"result": "fixed"})
    followed = rig.call("A001", "POST", f"/work-orders/{order['id']}/follow-up", {"score": 4})
    assert followed["order"]["satisfaction"] == 4
    detail = rig.call("A001", "GET", f"/work-orders/{order['id']}")
    assert [(e["kind"], e["actor_name"]) for e in detail["timeline"]] == [
        ("opened", "D001"), ("dispatched", "D001"), ("resolved", "D001"), ("closed", "D001"), ("followed_up", "A001"),
    ]  # fmt: skip
    status, error = rig.refused("D001", "GET", f"/work-orders/{uuid.uuid4()}")
    assert (status, error.code) == (404, "UnknownOrder")


def test_the_console_sees_the_board_crews_outages_and_escalations(rig: Rig) -> None:
    order = rig.call(
        "A001",
        "POST",
        "/work-orders",
        {"category": "leak", "description": "漏水", "lon": 116.36, "lat": 39.91},
    )
    base = rig.call("A001", "GET", "/console/base-map")
    assert [f["properties"]["code"] for f in base["zones"]["features"]] == ["Z01", "Z02"]
    assert [(h["code"], h["lon"], h["lat"]) for h in base["halls"]] == [
        ("hall-a", 116.3652, 39.9142)
    ]
    assert base["bounds"] == [[116.32, 39.88], [116.40, 39.945]]
    rig.clock.advance(minutes=50)  # a P3 leak: at risk after 45 of its 60 minutes
    rig.http.app.state.dispatch.job.run_once()  # type: ignore[attr-defined]
    state = rig.call("A001", "GET", "/console/state")
    (listed,) = state["orders"]
    assert listed["id"] == order["id"] and listed["sla_level"] == "at_risk"
    assert [c["crew"]["code"] for c in state["crews"]] == ["crew-burst", "crew-desk", "crew-meter"]
    assert all(c["located_by"] == "depot" and not c["stale"] for c in state["crews"])
    (outage,) = state["outages"]
    assert outage["affected_count"] == 412 and outage["area"]["type"] == "Polygon"
    assert [a["kind"] for a in state["alerts"]] == ["sla_warned"]


def test_a_plan_applied_after_an_override_reports_the_conflict(rig: Rig) -> None:
    x = rig.call(
        "D001",
        "POST",
        "/work-orders",
        {"category": "leak", "description": "X", "lon": 116.343, "lat": 39.928},
    )
    plan = rig.call("D001", "POST", "/dispatch/plan")
    (line,) = plan["lines"]
    assert (line["outcome"], line["crew"]["code"]) == ("assign", "crew-meter")
    rig.call(
        "D001",
        "POST",
        f"/work-orders/{x['id']}/dispatch",
        {"crew_id": str(rig.city.crews["crew-burst"])},
    )
    body = {
        "made_at": plan["made_at"],
        "lines": [{**line, "crew_id": line["crew"]["id"], "crew": None}],
    }
    del body["lines"][0]["crew"]
    done = rig.call("D001", "POST", "/dispatch/plan/apply", body)
    assert [(d["outcome"], d["reason"]) for d in done["lines"]] == [("conflict", "order_changed")]
    assert (
        rig.call("D001", "GET", f"/work-orders/{x['id']}")["order"]["crew"]["code"] == "crew-burst"
    )


def test_kpis_and_their_period(rig: Rig) -> None:
    rig.call(
        "D001",
        "POST",
        "/work-orders",
        {"category": "leak", "description": "漏水", "lon": 116.36, "lat": 39.91},
    )
    kpis = rig.call("D001", "GET", "/console/kpis?first=2026-11-23&last=2026-11-23")
    (day,) = kpis["rows"]
    assert (day["day"], day["crew"], day["orders"], day["sla_judged"]) == ("2026-11-23", None, 1, 0)
    status, error = rig.refused("D001", "GET", "/console/kpis?first=2026-01-01&last=2026-11-23")
    assert (status, error.code) == (422, "BadPeriod")
    assert rig.refused("A001", "GET", "/console/kpis")[0] == 403  # agents do not see crew KPIs


def test_the_page_and_its_assets_and_nothing_else(rig: Rig) -> None:
    page = rig.http.get("/console")
    assert (
        page.status_code == 200
        and "调度台" in page.text
        and "/console/assets/vendor/leaflet.js" in page.text
    )
    script = rig.http.get("/console/assets/vendor/leaflet.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "application/javascript"
    )
    assert 'version="1.9.4"' in script.text
    assert (
        rig.http.get("/console/assets/console.css").headers["content-type"].startswith("text/css")
    )
    for name in ("../app.py", "vendor/LICENSE", "console.html", "%2e%2e/%2e%2e/pyproject.toml"):
        assert rig.http.get(f"/console/assets/{name}").status_code == 404
