"""Orders out to phones and progress back, through a real broker and a real database."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from domain.bus import EventBus
from domain.dispatch_events import WorkOrderDispatched
from domain.uow import UnitsOfWork
from domain.work_order_views import OrderView
from domain.work_orders import Intake, Who, WorkOrders
from field_dispatch.assignments import (
    Ack,
    AckResult,
    Assignment,
    ProgressReport,
    Step,
    Withdrawal,
    encode_progress,
    message_type,
    orders_topic,
    parse_ack,
    parse_assignment,
    parse_withdrawal,
    progress_topic,
)
from field_dispatch.orders import Result
from field_dispatch.vocabulary import Actor, Category, Status
from servicedb.models import AssignmentMessage, WorkOrder, WorkOrderStatus
from servicehall.central.assignments_out import AssignmentPublisher
from servicehall.config import MqttConfig
from servicehall.platform.health import HealthBoard
from servicehall.platform.mqtt_link import MqttLink
from tests.dispatch_field import builders
from tests.dispatch_field.mqtt_tools import Phone, forget_session

pytestmark = pytest.mark.integration


DISPATCHER = Who(Actor.DISPATCHER, "D001")


class CentralField:
    """Central's link, its work-order service, and the publisher serving both, as
    build_central wires them."""

    def __init__(
        self,
        engine: Engine,
        port: int,
        *,
        user: str | None = None,
        password: str | None = None,
        start: bool = True,
    ) -> None:
        builders.central_site(engine)
        site = f"central-{uuid.uuid4().hex[:8]}"
        self.health = HealthBoard(site, "central")
        self.link = MqttLink(
            MqttConfig(host="127.0.0.1", port=port, username=user or "", password=password or ""),
            client_id=f"servicehall-{site}",
            site=site,
            health=self.health,
        )
        self.bus = EventBus()
        self.orders = WorkOrders(UnitsOfWork(engine, self.bus), "central")
        self.publisher = AssignmentPublisher(engine, self.link, self.health)
        self.publisher.attach()
        self.publisher.serve(self.orders, self.bus)
        self._port, self._login = port, (f"servicehall-{site}", user, password)
        self.link.start()
        if start:
            self.publisher.start()

    def burst(self, lonlat: tuple[float, float] = (116.3652, 39.9142)) -> OrderView:
        """A burst main reported by phone: a P1 order in the work-order service."""
        return self.orders.open(
            Intake(Category.BURST_MAIN, "阜成门内大街爆管", "phone", lon=lonlat[0], lat=lonlat[1]),
            DISPATCHER,
        )

    def dispatch(self, order_id: uuid.UUID, crew_id: uuid.UUID) -> None:
        self.orders.dispatch(order_id, crew_id, DISPATCHER)

    def close(self) -> None:
        self.publisher.stop()
        self.link.stop()
        forget_session(self._port, *self._login)


@dataclass
class Scene:
    engine: Engine
    central: CentralField
    crew: builders.CrewRef
    other: builders.CrewRef
    order_id: uuid.UUID
    phones: dict[str, Phone]


@pytest.fixture
def scene(mosquitto: tuple[str, int], migrated: Engine) -> Iterator[Scene]:
    crew = builders.crew(migrated, "crew-centre-1", members=2)
    other = builders.crew(migrated, "crew-south-1", members=1)
    central = CentralField(migrated, mosquitto[1])
    order_id = central.burst().id
    phones = {
        user: Phone(mosquitto[1], user, subscribe=orders_topic(user))
        for user in (*crew.users, *other.users)
    }
    yield Scene(migrated, central, crew, other, order_id, phones)
    for phone in phones.values():
        phone.close()
    central.close()


def assignments(phone: Phone) -> list[Assignment]:
    found = []
    for _topic, payload in phone.received:
        if message_type(payload) == "assignment":
            parsed = parse_assignment(payload, datetime.now(UTC))
            assert isinstance(parsed, Assignment), parsed
            found.append(parsed)
    return found


def acks(phone: Phone) -> list[Ack]:
    found = []
    for _topic, payload in phone.received:
        if message_type(payload) == "ack":
            parsed = parse_ack(payload)
            assert isinstance(parsed, Ack), parsed
            found.append(parsed)
    return found


def report(phone: Phone, order_id: uuid.UUID, step: Step, **extra: object) -> str:
    report_id = str(extra.pop("report_id", uuid.uuid4()))
    body = ProgressReport(
        report_id=report_id,
        order_id=str(order_id),
        step=step,
        at=datetime.now(UTC).replace(microsecond=0),
        **extra,  # type: ignore[arg-type]
    )
    phone.publish(progress_topic(phone.user), encode_progress(body))
    return report_id


def status(engine: Engine, order_id: uuid.UUID) -> WorkOrderStatus:
    with Session(engine) as session:
        return session.get_one(WorkOrder, order_id).status


def test_the_crew_gets_the_order_and_its_reports_move_it(scene: Scene) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    scene.central.dispatch(scene.order_id, scene.crew.id)
    first, second = (scene.phones[user] for user in scene.crew.users)
    for phone in (first, second):
        assert phone.wait_for(lambda got: len(got) == 1)
    (mine,) = assignments(first)
    assert assignments(second) == [mine]  # one message id for the crew
    order = scene.central.orders.get(scene.order_id)
    assert (mine.order_id, mine.crew_id, mine.number) == (
        str(scene.order_id),
        str(scene.crew.id),
        order.number,
    )
    assert (mine.category, mine.priority, mine.lon, mine.lat) == (
        Category.BURST_MAIN,
        1,
        116.3652,
        39.9142,
    )
    assert before <= mine.dispatched_at <= datetime.now(UTC)
    assert order.arrive_by is not None  # the SLA arrive-by (P1: 30 minutes), whole seconds
    assert mine.due_at == order.arrive_by.replace(microsecond=0)
    assert mine.map_url and "uri.amap.com" in mine.map_url
    assert assignments(scene.phones[scene.other.users[0]]) == []

    accepted = report(first, scene.order_id, Step.ACCEPTED)
    assert first.wait_for(lambda got: len(got) == 2)
    assert acks(first)[-1] == Ack(
        accepted, str(scene.order_id), AckResult.APPLIED, "", Status.ACCEPTED, "已记录", "Recorded"
    )
    assert status(scene.engine, scene.order_id) is WorkOrderStatus.ACCEPTED
    # The same report again (QoS 1 at least once): harmless.
    report(first, scene.order_id, Step.ACCEPTED, report_id=accepted)
    assert first.wait_for(lambda got: len(got) == 3)
    assert acks(first)[-1].result is AckResult.IGNORED
    # The other technician of the crew takes it from here.
    report(second, scene.order_id, Step.EN_ROUTE)
    report(second, scene.order_id, Step.ON_SITE)
    assert second.wait_for(lambda got: len(got) == 3)
    assert [a.status for a in acks(second)] == [Status.EN_ROUTE, Status.ON_SITE]
    assert status(scene.engine, scene.order_id) is WorkOrderStatus.ON_SITE
    report(second, scene.order_id, Step.RESOLVED, result=Result.FIXED, note="换管 2 米")
    assert second.wait_for(lambda got: len(got) == 4)
    assert acks(second)[-1].status is Status.RESOLVED
    assert status(scene.engine, scene.order_id) is WorkOrderStatus.RESOLVED


def test_reports_that_cannot_apply_are_answered_with_the_reason(scene: Scene) -> None:
    scene.central.dispatch(scene.order_id, scene.crew.id)
    outsider = scene.phones[scene.other.users[0]]
    report(outsider, scene.order_id, Step.ON_SITE)
    assert outsider.wait_for(lambda got: len(got) == 1)
    (ack,) = acks(outsider)
    assert (ack.result, ack.reason, ack.message_zh) == (
        AckResult.REFUSED,
        "not_assigned_crew",
        "此工单未派给您的班组",
    )
    outsider.publish(progress_topic(outsider.user), b'{"_type":"progress","v":1,"step":')
    assert outsider.wait_for(lambda got: len(got) == 2)
    assert acks(outsider)[-1].result is AckResult.REJECTED
    assert acks(outsider)[-1].message_en == "The report could not be read; send it again"
    outsider.publish(progress_topic("nobody-we-know"), encode_progress(
        ProgressReport(str(uuid.uuid4()), str(scene.order_id), Step.ON_SITE, datetime.now(UTC))
    ))  # fmt: skip
    assert scene.central.publisher.wait_until(lambda c: c.unknown_user == 1)
    assert status(scene.engine, scene.order_id) is WorkOrderStatus.DISPATCHED
    detail = scene.central.health.snapshot()["components"]["assignments"]["detail"]
    assert "refused 1, rejected 1, unknown_user 1" in detail


def test_a_phone_offline_at_dispatch_gets_the_order_when_back(
    mosquitto: tuple[str, int], sqlite_db: Engine
) -> None:
    crew = builders.crew(sqlite_db, members=1)
    central = CentralField(sqlite_db, mosquitto[1])
    order_id = central.burst().id
    client_id = f"phone-{uuid.uuid4().hex[:8]}"
    phone = Phone(
        mosquitto[1], crew.users[0], client_id=client_id, subscribe=orders_topic(crew.users[0])
    )
    phone.close(keep_session=True)  # into a tunnel; the broker keeps its session
    try:
        central.dispatch(order_id, crew.id)
        assert central.publisher.wait_until(lambda c: c.published == 1)
        back = Phone(mosquitto[1], crew.users[0], client_id=client_id)  # no new subscription
        assert back.wait_for(lambda got: len(got) == 1)
        assert assignments(back)[0].order_id == str(order_id)
        back.close()
    finally:
        central.close()


def test_the_outbox_commits_with_the_dispatch_and_goes_out_at_the_next_start(
    mosquitto: tuple[str, int], sqlite_db: Engine
) -> None:
    crew = builders.crew(sqlite_db, members=1)
    phone = Phone(mosquitto[1], crew.users[0], subscribe=orders_topic(crew.users[0]))
    stopped = CentralField(sqlite_db, mosquitto[1], start=False)  # dies before publishing
    order_id = stopped.burst().id
    try:
        # A dispatch whose transaction fails leaves no message behind: the outbox rows are
        # written inside it (a later in-transaction listener refuses the commit here).
        refusing = [True]

        def refuse(_session: Session, _event: WorkOrderDispatched) -> None:
            if refusing[0]:
                raise RuntimeError("the sync outbox is full")

        stopped.bus.subscribe_in_transaction(WorkOrderDispatched, refuse)
        with pytest.raises(RuntimeError, match="outbox is full"):
            stopped.dispatch(order_id, crew.id)
        with Session(sqlite_db) as session:
            assert session.scalars(select(AssignmentMessage)).all() == []
        refusing[0] = False
        stopped.dispatch(order_id, crew.id)
        with Session(sqlite_db) as session:
            (row,) = session.scalars(select(AssignmentMessage)).all()
            assert row.published_at is None and row.topic == orders_topic(crew.users[0])
        stopped.close()
        central = CentralField(sqlite_db, mosquitto[1])
        assert phone.wait_for(lambda got: len(got) == 1)
        assert json.loads(phone.received[0][1])["order_id"] == str(order_id)
        assert central.publisher.wait_until(lambda c: c.published == 1)
        central.close()
        with Session(sqlite_db) as session:
            assert session.scalars(select(AssignmentMessage.published_at)).one() is not None
    finally:
        phone.close()


def test_a_reassigned_order_is_withdrawn_from_the_first_crews_phones(scene: Scene) -> None:
    """改派: the dispatcher moves the order; the first crew's phones are told to drop it."""
    scene.central.dispatch(scene.order_id, scene.crew.id)
    first = [scene.phones[user] for user in scene.crew.users]
    for phone in first:
        assert phone.wait_for(lambda got: len(got) == 1)
    scene.central.dispatch(scene.order_id, scene.other.id)
    newcomer = scene.phones[scene.other.users[0]]
    assert newcomer.wait_for(lambda got: len(got) == 1)
    (theirs,) = assignments(newcomer)
    assert theirs.crew_id == str(scene.other.id)
    order = scene.central.orders.get(scene.order_id)
    withdrawn = []
    for phone in first:
        assert phone.wait_for(lambda got: len(got) == 2)
        _topic, payload = phone.received[-1]
        assert message_type(payload) == "withdrawal"
        parsed = parse_withdrawal(payload, datetime.now(UTC))
        assert isinstance(parsed, Withdrawal), parsed
        withdrawn.append(parsed)
    assert withdrawn[0] == withdrawn[1]  # one message id for the crew
    assert (withdrawn[0].order_id, withdrawn[0].number) == (str(scene.order_id), order.number)
    assert withdrawn[0].reason_zh == "工单已改派给其他班组"
    assert [message_type(p) for _t, p in newcomer.received] == ["assignment"]
