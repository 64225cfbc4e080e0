"""Central's work orders on real SQLite and PostgreSQL: intake, the status machine, history."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from domain.dispatch_events import (
    WorkOrderClosed,
    WorkOrderDispatched,
    WorkOrderOpened,
    WorkOrderStatusChanged,
)
from domain.work_order_commands import (
    Cancel,
    Close,
    FieldReport,
    FollowUp,
    Reopen,
    ReportKind,
    Resolve,
)
from domain.work_orders import (
    BadIntake,
    Intake,
    OrderChanged,
    OrderRefused,
    UnknownAccount,
    UnknownCrew,
    Who,
    WorkOrders,
)
from field_dispatch.orders import Result
from field_dispatch.vocabulary import Actor, Category
from servicedb.models import WorkOrder, WorkOrderCategory, WorkOrderEvent, WorkOrderStatus
from servicedb.models.kiosk import KioskReport
from tests.dispatch_central.builders import (
    CENTRAL,
    HOME,
    MONDAY_10,
    City,
    Clock,
    Heard,
    build_city,
    listening_units,
)

pytestmark = pytest.mark.integration

AGENT = Who(Actor.DISPATCHER, "A001")
DISPATCHER = Who(Actor.DISPATCHER, "D001")


Rig = tuple[WorkOrders, City, Clock, Heard]


def make_rig(engine: Engine) -> Rig:
    city = build_city(engine)
    units, heard = listening_units(engine)
    clock = Clock()
    return WorkOrders(units, CENTRAL, clock=clock), city, clock, heard


@pytest.fixture
def rig(sqlite_db: Engine) -> Rig:
    return make_rig(sqlite_db)


@pytest.fixture
def both(migrated: Engine) -> Rig:
    """The same rig on SQLite and on PostgreSQL."""
    return make_rig(migrated)


def burst(**extra: object) -> Intake:
    fields: dict[str, object] = {
        "category": Category.BURST_MAIN,
        "description": "路面冒水，水流很大",
        "source": "phone",
        "lon": 116.3611,
        "lat": 39.9102,
        "contact_phone": "13800138000",
    }
    fields.update(extra)
    return Intake(**fields)  # type: ignore[arg-type]


def kinds(orders: WorkOrders, order_id: uuid.UUID) -> list[str]:
    return [entry.kind for entry in orders.timeline(order_id)]


def report(
    order_id: uuid.UUID, crew: uuid.UUID, kind: ReportKind, at: datetime, **extra: object
) -> FieldReport:
    return FieldReport(
        event_id=str(uuid.uuid4()),
        order_id=order_id,
        crew_id=crew,
        kind=kind,
        at=at,
        by="crew-burst-1",
        **extra,  # type: ignore[arg-type]
    )


def test_a_phone_intake_gets_the_documented_deadlines_a_number_and_one_history_row(
    rig: Rig,
) -> None:
    orders, _city, _clock, heard = rig
    order = orders.open(burst(), AGENT)
    # A P1 burst main: on site in 30 minutes, restored in 4 hours, closed within 24 hours.
    assert (order.category, order.priority, order.status) == ("burst_main", 1, "new")
    assert order.number == "WO-20261123-0001"
    assert order.arrive_by == MONDAY_10 + timedelta(minutes=30)
    assert order.restore_by == MONDAY_10 + timedelta(hours=4)
    assert order.close_by == MONDAY_10 + timedelta(hours=24)
    assert order.sla_level == "ok"
    assert kinds(orders, order.id) == ["opened"]
    (opened,) = heard.of(WorkOrderOpened)
    assert opened.order_id == order.id and opened.arrive_by == order.arrive_by  # type: ignore[attr-defined]
    assert orders.open(burst(), AGENT).number == "WO-20261123-0002"


def test_a_meter_query_runs_on_working_time(rig: Rig) -> None:
    orders, city, _clock, _heard = rig
    order = orders.open(
        Intake(Category.METER_FAULT, "水表不走字", "phone", account_no=city.home_account), AGENT
    )
    # P4 by default: a visit within 2 working days of 08:30–17:30. From Monday 10:00: Monday
    # gives 7.5 h, Tuesday 9 h, so the 18th working hour ends Wednesday 10:00 Beijing time.
    assert order.priority == 4
    assert order.arrive_by == datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    # The place comes from the account's premises when the caller gives none.
    assert (order.lon, order.lat) == HOME and order.account_no == city.home_account
    assert order.address == "北京市西城区阜成门内大街 1 号"


def test_a_repeated_intake_key_gives_the_same_order(rig: Rig) -> None:
    orders, *_ = rig
    first = orders.open(burst(intake_key="call-7781"), AGENT)
    again = orders.open(burst(intake_key="call-7781"), AGENT)
    assert again.id == first.id and again.number == first.number
    assert len(orders.recent()) == 1


def test_bad_intakes_are_refused_with_a_reason(rig: Rig) -> None:
    orders, *_ = rig
    with pytest.raises(UnknownAccount):
        orders.open(Intake(Category.LEAK, "漏水", "phone", account_no="XC999"), AGENT)
    for bad in (
        Intake(Category.LEAK, "漏水", "phone"),  # nowhere
        burst(priority=0),
        burst(description="   "),
        burst(source="fax"),
        burst(lon=float("nan")),
        burst(lat=91.0),
    ):
        with pytest.raises(BadIntake):
            orders.open(bad, AGENT)
    assert orders.recent() == []


def test_an_order_from_dispatch_to_follow_up(both: Rig) -> None:
    orders, city, clock, heard = both
    crew = city.crews["crew-burst"]
    order = orders.open(burst(), AGENT)
    clock.advance(minutes=2)
    dispatched = orders.dispatch(order.id, crew, DISPATCHER, expected_version=order.version)
    assert dispatched.applied and dispatched.order.status == "dispatched"
    assert (
        dispatched.order.pinned
        and dispatched.order.crew
        and dispatched.order.crew.code == "crew-burst"
    )
    (sent,) = heard.of(WorkOrderDispatched)
    assert sent.tracker_users == ("crew-burst-1", "crew-burst-2")  # type: ignore[attr-defined]
    assert sent.crew_code == "crew-burst" and sent.by == "D001"  # type: ignore[attr-defined]

    t = clock.now
    for kind, minutes in (
        (ReportKind.ACCEPTED, 1),
        (ReportKind.SET_OFF, 2),
        (ReportKind.ARRIVED, 20),
    ):
        outcome = orders.report(report(order.id, crew, kind, t + timedelta(minutes=minutes)))
        assert outcome.outcome == "applied"
    clock.advance(hours=2)
    done = orders.report(
        report(order.id, crew, ReportKind.RESOLVED, clock.now, result=Result.FIXED, note="更换管段")
    )
    assert (done.outcome, done.status) == ("applied", "resolved")
    closed = orders.command(order.id, Close(Result.FIXED), DISPATCHER).order
    assert closed.status == "closed" and closed.result == "fixed"
    followed = orders.command(order.id, FollowUp(5, "很满意"), AGENT).order
    assert followed.satisfaction == 5
    assert followed.arrived_at == t + timedelta(minutes=20)
    assert kinds(orders, order.id) == [
        "opened", "dispatched", "accepted", "set_off", "arrived", "resolved", "closed", "followed_up",
    ]  # fmt: skip
    statuses = [e.status_to for e in heard.of(WorkOrderStatusChanged)]  # type: ignore[attr-defined]
    assert statuses == ["dispatched", "accepted", "en_route", "on_site", "resolved", "closed"]
    assert [e.result for e in heard.of(WorkOrderClosed)] == ["fixed"]  # type: ignore[attr-defined]
    # Every clock was met: on site in 20 min (< 30), restored in ~2 h (< 4 h), closed the same day.
    assert followed.sla_level == "ok" and all(c.met for c in followed.sla_clocks)


def test_phones_repeat_and_lag_and_the_order_stays_right(rig: Rig) -> None:
    orders, city, clock, _heard = rig
    crew, other = city.crews["crew-burst"], city.crews["crew-meter"]
    order = orders.open(burst(), AGENT)
    orders.dispatch(order.id, crew, DISPATCHER)
    t = clock.now
    # Arrived straight away: accepted and en route are implied, and said so in the history.
    arrived = report(order.id, crew, ReportKind.ARRIVED, t + timedelta(minutes=15))
    assert orders.report(arrived).outcome == "applied"
    assert orders.timeline(order.id)[-1].implied == ("accepted", "en_route")
    # The same message again (QoS 1), and a late "set off" the order has moved past.
    again = orders.report(arrived)
    late = orders.report(report(order.id, crew, ReportKind.SET_OFF, t + timedelta(minutes=5)))
    assert (again.outcome, again.reason) == ("ignored", "duplicate")
    assert (late.outcome, late.reason) == ("ignored", "stale")
    # Another crew's report is refused; so is one for an order that does not exist.
    stranger = orders.report(
        report(order.id, other, ReportKind.RESOLVED, t + timedelta(minutes=30))
    )
    assert (stranger.outcome, stranger.reason) == ("refused", "not_assigned_crew")
    assert stranger.message_zh == "此工单未派给您的班组"
    ghost = orders.report(report(uuid.uuid4(), crew, ReportKind.ACCEPTED, t))
    assert (ghost.outcome, ghost.reason) == ("refused", "unknown_order")
    assert kinds(orders, order.id) == ["opened", "dispatched", "arrived"]
    assert orders.get(order.id).status == "on_site"


def test_the_machine_refuses_what_it_must(rig: Rig) -> None:
    orders, city, _clock, _heard = rig
    order = orders.open(burst(), AGENT)
    with pytest.raises(OrderRefused) as caught:
        orders.command(order.id, Close(Result.FIXED), DISPATCHER)  # not resolved yet
    assert caught.value.reason == "not_allowed_now"
    assert caught.value.message_en == "The order cannot do that now"
    with pytest.raises(OrderRefused):
        orders.command(order.id, FollowUp(4), AGENT)  # only a closed order is followed up
    with pytest.raises(UnknownCrew):
        orders.dispatch(order.id, uuid.uuid4(), DISPATCHER)
    hall = Who(Actor.HALL, "hall-a")
    with pytest.raises(OrderRefused) as caught:
        orders.dispatch(order.id, city.crews["crew-burst"], hall)  # halls do not dispatch
    assert caught.value.reason == "actor_not_allowed"
    assert kinds(orders, order.id) == ["opened"]


def test_a_stale_console_is_refused_and_a_retried_request_lands_once(rig: Rig) -> None:
    orders, city, _clock, _heard = rig
    order = orders.open(burst(), AGENT)
    orders.dispatch(order.id, city.crews["crew-burst"], DISPATCHER)
    with pytest.raises(OrderChanged):
        orders.dispatch(
            order.id, city.crews["crew-meter"], DISPATCHER, expected_version=order.version
        )
    first = orders.command(order.id, Cancel("用户撤销"), DISPATCHER, key="req-1")
    retry = orders.command(order.id, Cancel("用户撤销"), DISPATCHER, key="req-1")
    assert first.applied and not retry.applied and retry.ignored == "duplicate"
    assert kinds(orders, order.id) == ["opened", "dispatched", "cancelled"]


def test_reopening_restarts_the_clocks_and_can_send_the_same_crew_back(rig: Rig) -> None:
    orders, city, clock, heard = rig
    crew = city.crews["crew-burst"]
    order = orders.open(burst(), AGENT)
    orders.dispatch(order.id, crew, DISPATCHER)
    orders.command(order.id, Resolve(Result.TEMPORARY_FIX, "临时封堵"), DISPATCHER)
    orders.command(order.id, Close(Result.TEMPORARY_FIX), DISPATCHER)
    reopened_at = clock.advance(days=1)
    again = orders.command(order.id, Reopen("再次冒水", crew_id=crew), DISPATCHER).order
    assert (again.status, again.reopen_count, again.opened_at) == ("dispatched", 1, reopened_at)
    assert again.arrive_by == reopened_at + timedelta(minutes=30)
    assert again.result is None and again.pinned
    # The crew hears about it again: a dispatch announced from the reopen.
    assert [e.order_id for e in heard.of(WorkOrderDispatched)] == [order.id, order.id]  # type: ignore[attr-defined]


def test_a_hall_order_arriving_by_sync_is_taken_in_with_its_own_time(
    rig: Rig, sqlite_db: Engine
) -> None:
    orders, city, _clock, heard = rig
    reported = MONDAY_10 - timedelta(minutes=50)
    order_id = uuid.uuid4()
    with Session(sqlite_db) as session, session.begin():
        # What a kiosk makes at the hall and sync carries up: none of central's columns are
        # set; the caller's number is in the kiosk's own report row beside the order.
        session.add(
            WorkOrder(
                id=order_id, origin_site_id=city.hall_id, created_at=reported,
                number="HA-20261123-0001", category=WorkOrderCategory.LEAK,
                status=WorkOrderStatus.NEW, source="kiosk", priority=3,
                description="小区内漏水", lon=116.361, lat=39.911,
            )
        )  # fmt: skip
        session.flush()
        session.add(
            KioskReport(
                origin_site_id=city.hall_id, created_at=reported, idempotency_key="k-1",
                request_sha256="0" * 64, work_order_id=order_id, kind="repair", category="leak",
                contact_phone="13900001111", details="[]", device_name="kiosk-1",
            )
        )  # fmt: skip
    (taken,) = orders.adopt()
    # Its clocks run from when the customer reported it at the kiosk, not from now.
    assert taken.opened_at == reported and taken.arrive_by == reported + timedelta(hours=1)
    assert taken.sla_level == "at_risk"  # 50 of its 60 minutes are gone (warned at 45)
    assert taken.contact_phone == "13900001111"
    (first,) = orders.timeline(taken.id)
    assert (first.kind, first.actor, first.actor_name) == ("opened", "hall", "kiosk@hall-a")
    assert orders.adopt() == []  # once
    assert [e.source for e in heard.of(WorkOrderOpened)] == ["kiosk"]  # type: ignore[attr-defined]


def test_a_command_on_an_order_not_yet_taken_in_takes_it_in_first(
    rig: Rig, sqlite_db: Engine
) -> None:
    orders, city, _clock, _heard = rig
    order_id = uuid.uuid4()
    with Session(sqlite_db) as session, session.begin():
        session.add(
            WorkOrder(
                id=order_id, origin_site_id=city.hall_id, created_at=MONDAY_10,
                number="HA-20261123-0002", category=WorkOrderCategory.COMPLAINT,
                status=WorkOrderStatus.NEW, source="hall", priority=9,
                description="投诉：抄表员态度差", lon=116.361, lat=39.911,
            )
        )  # fmt: skip
    change = orders.dispatch(order_id, city.crews["crew-desk"], DISPATCHER)
    assert change.order.status == "dispatched"
    assert change.order.priority == 3  # a priority the hall got wrong becomes the default
    assert kinds(orders, order_id) == ["opened", "dispatched"]


def test_the_history_is_append_only_in_the_database(both: Rig, migrated: Engine) -> None:
    orders, *_ = both
    order = orders.open(burst(), AGENT)
    for statement in (
        "UPDATE work_order_events SET actor_name = 'someone else'",
        "DELETE FROM work_order_events",
    ):
        with pytest.raises(DBAPIError), migrated.begin() as connection:
            connection.execute(text(statement))
    with Session(migrated) as session:
        (row,) = session.scalars(select(WorkOrderEvent).where(WorkOrderEvent.order_id == order.id))
        assert row.actor_name == "A001"
        # One key per order: the same event cannot be written twice, even by a second process.
        session.add(
            WorkOrderEvent(
                origin_site_id=row.origin_site_id, order_id=order.id, seq=2, event_key="opened",
                kind=row.kind, at=row.at, actor=row.actor, actor_name="x",
            )
        )  # fmt: skip
        with pytest.raises(IntegrityError):
            session.flush()
