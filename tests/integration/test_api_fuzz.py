"""The hall API fuzzed from its own OpenAPI document (schemathesis) and with raw bytes
(hypothesis), over real HTTP: never a 5xx, always the error shape, only documented statuses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from servicehall.hall.api.schemas import ErrorOut
from servicehall.platform.limits import MAX_BODY_BYTES
from tests.integration.test_http_hostile_input import Hall, hall  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration


FUZZ = settings(
    max_examples=30,
    deadline=None,  # no timed assertions
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def openapi(hall: Hall) -> dict[str, Any]:  # noqa: F811 - pytest's fixture injection
    document: dict[str, Any] = httpx.get(f"{hall.url}/openapi.json", timeout=10).json()
    return document


def documented(openapi: dict[str, Any], method: str, path: str) -> set[int]:
    statuses: set[int] = set()
    for code in openapi["paths"][path][method.lower()]["responses"]:
        code = str(code).upper()
        if code == "DEFAULT":
            return set(range(100, 600))
        if code.endswith("XX"):
            statuses.update(range(int(code[0]) * 100, int(code[0]) * 100 + 100))
        else:
            statuses.add(int(code))
    return statuses


def check_answer(openapi: dict[str, Any], method: str, path: str, status: int, body: bytes) -> None:
    """Never a 5xx; every refusal in the error shape; every status documented (or known)."""
    label = f"{method} {path}"
    assert status < 500, f"{label}: {status} {body[:300]!r}"
    if status >= 400:
        ErrorOut.model_validate(json.loads(body))
    assert status in documented(openapi, method, path), (
        f"{label} answered {status}, which its OpenAPI entry does not list"
    )


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schema_fuzz_never_errs_and_answers_only_documented_statuses(
    hall: Hall,  # noqa: F811 - pytest's fixture injection
    openapi: dict[str, Any],
    mode: GenerationMode,
) -> None:
    schema = schemathesis.openapi.from_url(f"{hall.url}/openapi.json")
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results)  # the document is valid OpenAPI
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) > 10  # the whole API, not an empty document
    for operation in operations:
        if operation.path.endswith("/stream"):
            continue  # never ends by itself; it has its own tests (test_http_runner, e2e)
        # Valid data with a valid device token reaches the queue itself; invalid data comes
        # with whatever Authorization header schemathesis makes up, or none.
        headers = hall.counter if mode is GenerationMode.POSITIVE else None

        @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
        @FUZZ
        def fuzz(case: Any) -> None:
            response = case.call()
            check_answer(
                openapi, case.method, case.operation.path, response.status_code, response.content
            )

        try:
            fuzz()
        except Unsatisfiable:
            # Only in negative mode: an operation with no parameters and no body (GET /queue)
            # has nothing that can be made invalid.
            assert mode is GenerationMode.NEGATIVE, operation.label


NO_TICKET = "00000000-0000-0000-0000-000000000000"
# (documented path, a concrete path): the routes that read a body.
BODY_ROUTES = [
    ("/api/v1/tickets", "/api/v1/tickets"),
    ("/api/v1/tickets/{ticket_id}/rating", f"/api/v1/tickets/{NO_TICKET}/rating"),
    ("/api/v1/counters/{number}/sign-in", "/api/v1/counters/1/sign-in"),
    ("/api/v1/counters/{number}/finish", "/api/v1/counters/1/finish"),
    ("/api/v1/counters/{number}/transfer", "/api/v1/counters/1/transfer"),
    ("/api/v1/counters/{number}/return", "/api/v1/counters/1/return"),
    ("/api/v1/counters/{number}/walk-in", "/api/v1/counters/1/walk-in"),
]
CONTENT_TYPES = [None, "application/json", "application/ld+json", "text/plain", "application/x"]


@pytest.fixture(scope="module")
def client(hall: Hall) -> Iterator[httpx.Client]:  # noqa: F811 - pytest's fixture injection
    with httpx.Client(base_url=hall.url, timeout=10, headers=hall.counter) as http:
        yield http


json_bodies = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
).map(lambda value: json.dumps(value).encode())


@given(
    route=st.sampled_from(BODY_ROUTES),
    content_type=st.sampled_from(CONTENT_TYPES),
    body=st.binary(max_size=300) | json_bodies,
)
@FUZZ
def test_raw_bodies_never_yield_a_server_error(
    client: httpx.Client,
    openapi: dict[str, Any],
    route: tuple[str, str],
    content_type: str | None,
    body: bytes,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(route[1], content=body, headers=headers)
    check_answer(openapi, "POST", route[0], response.status_code, response.content)


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda route: route[0])
def test_oversized_bodies_answer_a_documented_413(
    client: httpx.Client, openapi: dict[str, Any], route: tuple[str, str]
) -> None:
    body = b'{"x": "' + b"a" * MAX_BODY_BYTES + b'"}'
    response = client.post(route[1], content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    check_answer(openapi, "POST", route[0], response.status_code, response.content)
