"""Central's dispatch API fuzzed from its own OpenAPI document (schemathesis), signed in and
not: never a 5xx, every refusal in the error shape, every status documented."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from sqlalchemy import Engine

from domain.bus import EventBus
from servicedb.models import ConsoleRole
from servicehall.central.api.shapes import ErrorOut
from servicehall.central.app import create_central_app
from servicehall.central.dispatch import build_dispatch
from servicehall.platform.health import HealthBoard
from tests.dispatch_central.builders import CENTRAL, PIN, Clock, add_console_staff, build_city

pytestmark = pytest.mark.integration
FUZZ = settings(
    max_examples=6,
    deadline=None,  # no timed assertions
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,  # a route with no parameters has nothing to make invalid
    ],
)
NEVER = ("/api/v1/console/session",)  # signing out mid-run would only test the 401 after


@pytest.fixture
def central(sqlite_db: Engine) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    city = build_city(sqlite_db)
    add_console_staff(
        sqlite_db, city.central_id, "D001", ConsoleRole.SUPERVISOR, ConsoleRole.DISPATCHER
    )
    parts = build_dispatch(sqlite_db, CENTRAL, EventBus(), sweep_interval_s=3600, clock=Clock())
    app = create_central_app(sqlite_db, HealthBoard(CENTRAL, "central"), parts)
    with TestClient(app) as http:
        token = http.post("/api/v1/console/session", json={"staff_no": "D001", "pin": PIN}).json()[
            "token"
        ]
        yield app, {"Authorization": f"Bearer {token}"}


def documented(openapi: dict[str, Any], method: str, path: str) -> set[int]:
    return {int(code) for code in openapi["paths"][path][method.lower()]["responses"]}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_dispatch_api_never_errs_and_answers_only_documented_statuses(
    central: tuple[FastAPI, dict[str, str]], mode: GenerationMode
) -> None:
    app, signed_in = central
    openapi = app.openapi()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    mine = [
        o
        for o in operations
        if o.path.startswith(
            ("/api/v1/work-orders", "/api/v1/callers", "/api/v1/console", "/api/v1/dispatch")
        )
    ]
    assert len(mine) >= 18
    for operation in mine:
        if operation.method.upper() == "DELETE" and operation.path in NEVER:
            continue
        headers = signed_in if mode is GenerationMode.POSITIVE else None

        @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
        @FUZZ
        def fuzz(case: Any) -> None:
            response = case.call()
            label = f"{case.method} {case.operation.path}"
            assert response.status_code < 500, (
                f"{label}: {response.status_code} {response.content[:300]!r}"
            )
            if response.status_code >= 400:
                ErrorOut.model_validate(json.loads(response.content))
            assert response.status_code in documented(openapi, case.method, case.operation.path), (
                f"{label} answered {response.status_code}, which its OpenAPI entry does not list"
            )

        try:
            fuzz()
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, operation.label
