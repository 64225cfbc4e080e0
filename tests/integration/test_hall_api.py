"""The hall API on a real database, through the typed client: what kiosks and counters rely on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from servicedb.models import DeviceKind, ServiceCategory
from servicehall.bootstrap import HallSite, build_hall
from servicehall.config import load_settings
from servicehall.demo.seed import city, seed_city
from servicehall.errors import UserFacingError
from servicehall.hall.api.schemas import FinishOutcome, PauseReason, PriorityReason
from servicehall.hall.client import HallApiError, HallClient
from servicehall.hall.tokens import issue_token, revoke
from servicehall.platform.database import close_database, open_database
from tests.builders import book_appointment

pytestmark = pytest.mark.integration
HALL = "hall-xicheng"
PIN = city.DEMO_STAFF_PIN


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    http: TestClient
    engine: Engine
    clock: Clock
    tokens: dict[str, str]

    def client(self, who: str | None) -> HallClient:
        return HallClient("", self.tokens.get(who or "", None), http=self.http)

    @property
    def kiosk(self) -> HallClient:
        return self.client("kiosk")

    @property
    def counter(self) -> HallClient:
        """A terminal registered for counters 1 and 3."""
        return self.client("counter")


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    settings = load_settings(
        None,
        {
            "SERVICEHALL_PATHS__DATA_DIR": str(tmp_path),
            "SERVICEHALL_HALL__LED_BOARD": "",
            "SERVICEHALL_HALL__VOICE": "false",
            "SERVICEHALL_HALL__CENTRAL_URL": "http://127.0.0.1:1",
        },
    )
    engine = open_database(settings.database_url(HALL), auto_upgrade=True)
    seed_city(engine, premises=0)
    tokens = {
        "kiosk": issue_token(engine, HALL, DeviceKind.KIOSK, "kiosk-1"),
        "counter": issue_token(
            engine, HALL, DeviceKind.COUNTER_TERMINAL, "counter-1", counters=[1, 3]
        ),
        "counter-2": issue_token(
            engine, HALL, DeviceKind.COUNTER_TERMINAL, "counter-2", counters=[2]
        ),
    }
    clock = Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 10:00 in Beijing
    site: HallSite = build_hall(settings, HALL, clock=clock)
    with TestClient(site.endpoint.app) as http:
        yield Rig(http, engine, clock, tokens)
    site.close()
    close_database(engine)


def refused(call: object, *args: object, **kwargs: object) -> HallApiError:
    assert callable(call)
    with pytest.raises(HallApiError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_a_visit_from_kiosk_to_counter_to_rating(rig: Rig) -> None:
    ticket = rig.kiosk.take_ticket("payment")
    assert (ticket.number, ticket.people_ahead) == ("A001", 0)
    rig.counter.sign_in(1, "S001", PIN)
    called = rig.counter.call_next(1).ticket
    assert called is not None and (called.number, called.status) == ("A001", "called")
    assert rig.kiosk.ticket(ticket.ticket_id).counter == 1
    assert rig.kiosk.queue().now_serving[0].number == "A001"
    rig.counter.start(1)
    rig.counter.finish(1, FinishOutcome.SERVED)
    rig.kiosk.rate(ticket.ticket_id, 5)
    again = refused(rig.kiosk.rate, ticket.ticket_id, 4)
    assert again.status == 409 and again.error.code == "WrongState"


def test_every_refusal_has_one_shape_in_both_languages(rig: Rig) -> None:
    unknown = refused(rig.kiosk.take_ticket, "lottery")
    assert unknown.status == 404 and unknown.error.message_en == "There is no such service"
    response = rig.http.post(
        "/api/v1/tickets",
        json={"category": "payment", "priority_reason": "bribe"},
        headers={"Authorization": f"Bearer {rig.tokens['kiosk']}"},
    )
    body = response.json()
    assert response.status_code == 422 and set(body) == {
        "code",
        "message_zh",
        "message_en",
        "detail",
    }
    assert body["code"] == "InvalidRequest" and "priority_reason" in body["detail"]
    assert rig.http.get("/api/v1/tickets/not-a-uuid").status_code == 422
    assert rig.http.get("/api/v1/nowhere").json()["code"] == "NotFound"


def test_tokens_are_required_scoped_to_their_counters_and_revocable(rig: Rig) -> None:
    assert refused(rig.client(None).take_ticket, "payment").status == 401
    bad_scheme = rig.http.post(
        "/api/v1/tickets",
        json={"category": "payment"},
        headers={"Authorization": f"Basic {rig.tokens['kiosk']}"},
    )
    assert bad_scheme.status_code == 401 and bad_scheme.headers["WWW-Authenticate"] == "Bearer"
    assert refused(rig.kiosk.call_next, 1).error.code == "Forbidden"  # kiosks cannot call
    other = refused(rig.counter.sign_in, 2, "S002", PIN)
    assert other.status == 403 and other.error.code == "NotThisCounter"
    rig.client("counter-2").sign_in(2, "S002", PIN)

    revoke(rig.engine, HALL, "counter-2")  # takes effect at once: no cache outlives it
    assert refused(rig.client("counter-2").call_next, 2).status == 401

    with pytest.raises(UserFacingError, match="already has a token"):
        issue_token(rig.engine, HALL, DeviceKind.KIOSK, "kiosk-1")
    new = issue_token(rig.engine, HALL, DeviceKind.KIOSK, "kiosk-1", rekey=True)
    assert refused(rig.kiosk.take_ticket, "payment").status == 401
    assert HallClient("", new, http=rig.http).take_ticket("payment").number == "A001"


def test_staff_sign_in_with_a_pin_and_are_locked_out_after_five_wrong_ones(rig: Rig) -> None:
    wrong = refused(rig.counter.sign_in, 1, "S001", "0000")
    assert wrong.error.code == "SignInRefused" and "还可尝试 4 次" in wrong.error.message_zh
    nobody = refused(rig.counter.sign_in, 1, "S999", "0000")
    assert nobody.error.message_zh == "工号或密码错误"  # does not tell who exists
    for _ in range(3):
        refused(rig.counter.sign_in, 1, "S001", "0000")
    locked = refused(rig.counter.sign_in, 1, "S001", "0000")
    assert locked.error.code == "StaffLocked"
    # Locked: even the right PIN is refused until the lock runs out.
    assert refused(rig.counter.sign_in, 1, "S001", PIN).error.code == "StaffLocked"
    rig.clock.now = rig.clock.now.replace(hour=2, minute=16)
    rig.counter.sign_in(1, "S001", PIN)
    assert rig.counter.counter(1).staff_no == "S001"


def test_a_counter_that_has_not_signed_in_cannot_call(rig: Rig) -> None:
    rig.kiosk.take_ticket("payment")
    assert refused(rig.counter.call_next, 1).error.code == "CounterClosed"
    status = rig.counter.counter(1)
    assert status.state == "closed" and status.ticket is None


def test_next_while_called_is_refused_and_a_double_press_is_idempotent(rig: Rig) -> None:
    rig.kiosk.take_ticket("payment")
    rig.kiosk.take_ticket("payment")
    rig.counter.sign_in(1, "S001", PIN)
    first = rig.counter.call_next(1, press="click-1").ticket
    repeat = rig.counter.call_next(1, press="click-1").ticket
    assert first is not None and repeat is not None and repeat.ticket_id == first.ticket_id
    assert refused(rig.counter.call_next, 1, press="click-2").error.code == "CalledNotResolved"
    rig.counter.no_show(1)
    second = rig.counter.call_next(1, press="click-3").ticket
    assert second is not None and second.number == "A002"
    assert rig.kiosk.ticket(first.ticket_id).status == "no_show"


def test_the_counter_page_state_survives_a_reload(rig: Rig) -> None:
    rig.kiosk.take_ticket("payment")
    rig.counter.sign_in(1, "S001", PIN, ["payment"])
    rig.counter.call_next(1)
    status = rig.counter.counter(1)
    assert status.state == "open" and status.categories == ["payment"]
    assert status.ticket is not None and status.ticket.number == "A001"


def test_pause_resume_and_sign_out_release_what_they_must(rig: Rig) -> None:
    rig.counter.sign_in(1, "S001", PIN)
    rig.counter.pause(1, PauseReason.MEAL)
    assert rig.counter.counter(1).pause_reason == "meal"
    rig.kiosk.take_ticket("payment")
    assert refused(rig.counter.call_next, 1).error.code == "CounterClosed"
    rig.counter.resume(1)
    called = rig.counter.call_next(1).ticket
    assert called is not None
    # Signing out with a ticket called but not served sends it back to the front of the line.
    rig.counter.sign_out(1)
    back = rig.kiosk.ticket(called.ticket_id)
    assert back.status == "waiting" and back.counter is None
    rig.counter.sign_in(3, "S003", PIN)
    again = rig.counter.call_next(3).ticket
    assert again is not None and again.ticket_id == called.ticket_id
    rig.counter.start(3)
    assert refused(rig.counter.sign_out, 3).error.code == "StillServing"


def test_call_a_number_out_of_turn_and_return_a_parked_one_from_a_list(rig: Rig) -> None:
    rig.kiosk.take_ticket("payment")
    second = rig.kiosk.take_ticket("payment")
    rig.counter.sign_in(1, "S001", PIN)
    picked = rig.counter.call_number(1, "a002").ticket
    assert picked is not None and picked.ticket_id == second.ticket_id
    rig.counter.park(1)
    parked = rig.counter.parked(1).tickets
    assert [t.number for t in parked] == ["A002"]
    rig.counter.return_parked(1, parked[0].number)
    assert rig.counter.call_next(1).ticket is not None
    layout = rig.kiosk.layout()
    assert [c.code for c in layout.categories][:2] == ["payment", "new_connection"]
    assert layout.counters[0].default_categories == ["enquiry", "payment"]


def test_transfer_and_walk_in(rig: Rig) -> None:
    rig.kiosk.take_ticket("payment")
    rig.counter.sign_in(1, "S001", PIN)
    rig.counter.call_next(1)
    moved = rig.counter.transfer(1, category="enquiry", front=True).ticket
    assert moved is not None and moved.category == "enquiry" and moved.status == "waiting"
    rig.counter.sign_in(3, "S003", PIN)
    walk = rig.counter.walk_in(3, "new_connection").ticket
    assert walk is not None and (walk.number, walk.status) == ("B001", "serving")


def test_opening_hours_cut_off_and_quota(rig: Rig) -> None:
    rig.clock.now = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # 07:30 local: not open yet
    early = refused(rig.kiosk.take_ticket, "payment")
    assert early.error.code == "HallClosed" and "08:00" in early.error.message_zh
    overview = rig.kiosk.queue()
    assert not overview.categories[0].issuing
    assert overview.categories[0].not_issuing == "not_yet_open"
    rig.clock.now = datetime(2026, 11, 23, 9, 5, tzinfo=UTC)  # 17:05 local: past the cut-off
    assert "停止取号" in refused(rig.kiosk.take_ticket, "payment").error.message_zh
    rig.clock.now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    with Session(rig.engine) as session, session.begin():
        session.execute(
            update(ServiceCategory)
            .where(ServiceCategory.code == "new_connection")
            .values(daily_quota=2)
        )
    rig.kiosk.take_ticket("new_connection")
    rig.kiosk.take_ticket("new_connection")
    assert refused(rig.kiosk.take_ticket, "new_connection").error.code == "QuotaReached"


def test_priority_is_proved_not_claimed(rig: Rig) -> None:
    assert refused(rig.kiosk.take_ticket, "vip").error.code == "InvalidVipCard"
    assert (
        refused(
            rig.kiosk.take_ticket, "payment", PriorityReason.VIP, vip_card="VIP-FAKE-9"
        ).error.code
        == "InvalidVipCard"
    )
    vip = rig.kiosk.take_ticket("vip", vip_card=city.VIP_CUSTOMERS[0][1])
    assert vip.number == "V001"
    claimed = refused(rig.kiosk.take_ticket, "payment", PriorityReason.APPOINTMENT)
    assert claimed.error.code == "InvalidAppointment"
    book_appointment(rig.engine, HALL, "payment", "BK2026", rig.clock.now)
    booked = rig.kiosk.take_ticket("payment", PriorityReason.APPOINTMENT, appointment_code="bk2026")
    assert booked.number == "A001"
    used = refused(
        rig.kiosk.take_ticket, "payment", PriorityReason.APPOINTMENT, appointment_code="BK2026"
    )
    assert used.error.code == "InvalidAppointment"


def test_the_openapi_document_is_the_contract(rig: Rig) -> None:
    spec = rig.http.get("/openapi.json").json()
    error = spec["components"]["schemas"]["ErrorOut"]
    assert set(error["required"]) == {"code", "message_zh", "message_en"}
    for path, methods in spec["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, operation in methods.items():
            statuses = set(operation["responses"])
            assert "422" in statuses or (
                not operation.get("parameters") and "requestBody" not in operation
            ), (method, path)
            if method == "post":
                assert {"401", "403"} <= statuses, (method, path)
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema["$ref"].endswith("/ErrorOut"), (method, path, status)
    stream = spec["paths"]["/api/v1/stream"]["get"]["responses"]["200"]["content"]
    assert "text/event-stream" in stream
    finish = spec["components"]["schemas"]["FinishIn"]["properties"]["outcome"]
    assert "$ref" in finish or "enum" in finish  # an enumeration, not free text
