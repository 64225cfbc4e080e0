"""The SMS sender: due notices through a gateway, per-number and per-gateway limits,
opt-out at send time, retries, refusals — with a tiny in-memory gateway at the test's edge."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from domain.notifications import NotificationSender, NumberLimits, TokenBucket, set_opt_out
from servicedb.models import (
    Notification,
    NotificationKind,
    NotificationStatus,
    Outage,
    OutageKind,
    OutageStatus,
)
from servicehall.platform.sms import SmsRefused, SmsUnavailable
from tests.dispatch_field import builders

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


class MemoryGateway:
    """Sends once per key, like a real gateway; can be down or refuse numbers."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []  # (phone, key)
        self.sent: dict[str, tuple[str, str, str]] = {}  # key → (phone, text, message id)
        self.down = 0
        self.refused: set[str] = set()

    def send(self, phone: str, text: str, *, key: str) -> str:
        self.calls.append((phone, key))
        if self.down:
            self.down -= 1
            raise SmsUnavailable("HTTP 503 from the gateway")
        if phone in self.refused:
            raise SmsRefused("isv.MOBILE_NUMBER_ILLEGAL", "not a mobile number")
        if key not in self.sent:
            self.sent[key] = (phone, text, f"msg-{len(self.sent) + 1}")
        return self.sent[key][2]


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def outage(engine: Engine) -> uuid.UUID:
    site_id = builders.central_site(engine)
    with Session(engine) as session, session.begin():
        row = Outage(
            origin_site_id=site_id,
            kind=OutageKind.WATER_OFF,
            status=OutageStatus.ACTIVE,
            title_zh="停水",
            title_en="Water off",
            area_geojson="{}",
            starts_at=NOW,
        )
        session.add(row)
        session.flush()
        return row.id


def queue(
    engine: Engine,
    phones: list[str],
    *,
    outage_id: uuid.UUID | None = None,
    kind: NotificationKind = NotificationKind.OUTAGE_DECLARED,
    opted_out: tuple[str, ...] = (),
) -> list[uuid.UUID]:
    """Customers with these phones, each with a pending notice; returns the notice ids."""
    outage_id = outage_id or outage(engine)
    ids = []
    for n, phone in enumerate(phones):
        home = builders.household(engine, 116.36 + n * 1e-4, 39.91, [phone], opted_out=opted_out)
        with Session(engine) as session, session.begin():
            row = Notification(
                customer_id=home.customer_id,
                outage_id=outage_id,
                kind=kind,
                phone=phone,
                text=f"停水通知 {n} / Water off {n}",
                status=NotificationStatus.PENDING,
                due_at=NOW,
                created_at=NOW + timedelta(microseconds=n),
            )
            session.add(row)
            session.flush()
            ids.append(row.id)
    return ids


def rows(engine: Engine) -> dict[uuid.UUID, Notification]:
    with Session(engine) as session:
        found = session.scalars(select(Notification)).all()
        for row in found:
            session.expunge(row)
        return {row.id: row for row in found}


@pytest.mark.integration
def test_due_notices_go_out_once_each_keyed_by_their_id(migrated: Engine) -> None:
    ids = queue(migrated, ["13800000001", "13800000002"])
    gateway, clock = MemoryGateway(), Clock()
    sender = NotificationSender(migrated, gateway, clock=clock)
    report = sender.run_once()
    assert (report.sent, report.next_due) == (2, None)
    assert gateway.calls == [("13800000001", str(ids[0])), ("13800000002", str(ids[1]))]
    stored = rows(migrated)
    assert [stored[i].status for i in ids] == [NotificationStatus.SENT] * 2
    assert [stored[i].gateway_message_id for i in ids] == ["msg-1", "msg-2"]
    assert stored[ids[0]].sent_at == NOW and stored[ids[0]].attempts == 1
    assert sender.run_once().sent == 0 and len(gateway.calls) == 2


@pytest.mark.integration
def test_one_number_gets_at_most_one_text_a_minute(migrated: Engine) -> None:
    first = queue(migrated, ["13800000001"])
    second = queue(migrated, ["13800000001"], kind=NotificationKind.OUTAGE_RESTORED)
    gateway, clock = MemoryGateway(), Clock()
    sender = NotificationSender(migrated, gateway, clock=clock)
    report = sender.run_once()
    assert (report.sent, report.deferred) == (1, 1)
    assert report.next_due == NOW + timedelta(minutes=1)
    assert rows(migrated)[second[0]].due_at == NOW + timedelta(minutes=1)
    clock.now = NOW + timedelta(seconds=59)
    assert sender.run_once().sent == 0
    clock.now = NOW + timedelta(minutes=1)
    assert sender.run_once().sent == 1
    assert [key for _phone, key in gateway.calls] == [str(first[0]), str(second[0])]


@pytest.mark.integration
def test_the_gateways_rate_paces_the_job(sqlite_db: Engine) -> None:
    queue(sqlite_db, [f"1380000000{n}" for n in range(5)])
    gateway, clock = MemoryGateway(), Clock()
    sender = NotificationSender(sqlite_db, gateway, clock=clock, rate_per_s=2, burst=2)
    first = sender.run_once()
    assert (first.sent, first.paced) == (2, True)
    assert sender.run_once().sent == 0  # no time has passed: no tokens
    clock.now += timedelta(seconds=1)
    assert sender.run_once().sent == 2
    clock.now += timedelta(seconds=0.5)
    assert sender.run_once().sent == 1
    assert len(gateway.calls) == 5


@pytest.mark.integration
def test_an_unavailable_gateway_is_retried_later_and_a_refusal_is_final(
    sqlite_db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    ids = queue(sqlite_db, ["13800000001", "13900000002"])
    gateway, clock = MemoryGateway(), Clock()
    gateway.down = 1
    gateway.refused = {"13900000002"}
    sender = NotificationSender(
        sqlite_db, gateway, clock=clock, retry_after=timedelta(minutes=1), max_attempts=3
    )
    with caplog.at_level(logging.INFO):
        report = sender.run_once()
        assert (report.retried, report.paced) == (1, True)
        assert sender.run_once().sent == 0 and len(gateway.calls) == 1  # leaves it be a while
        clock.now = NOW + timedelta(minutes=1)
        report = sender.run_once()
    assert (report.sent, report.failed) == (1, 1)
    stored = rows(sqlite_db)
    assert (stored[ids[0]].status, stored[ids[0]].attempts) == (NotificationStatus.SENT, 2)
    assert stored[ids[1]].status is NotificationStatus.FAILED
    assert "MOBILE_NUMBER_ILLEGAL" in str(stored[ids[1]].last_error)
    # Logs name numbers masked and never carry the text.
    assert "138****0001" in caplog.text and "13800000001" not in caplog.text
    assert "Water off" not in caplog.text and "停水" not in caplog.text


@pytest.mark.integration
def test_retries_stop_after_max_attempts(sqlite_db: Engine) -> None:
    (notice,) = queue(sqlite_db, ["13800000001"])
    gateway, clock = MemoryGateway(), Clock()
    gateway.down = 10
    sender = NotificationSender(
        sqlite_db, gateway, clock=clock, retry_after=timedelta(minutes=1), max_attempts=3
    )
    dues = []
    for _ in range(3):
        sender.run_once()
        row = rows(sqlite_db)[notice]
        dues.append(row.due_at - clock.now)
        clock.now = row.due_at
    assert dues[:2] == [timedelta(minutes=1), timedelta(minutes=2)]  # doubling
    row = rows(sqlite_db)[notice]
    assert (row.status, row.attempts, len(gateway.calls)) == (NotificationStatus.FAILED, 3, 3)


@pytest.mark.integration
def test_an_opt_out_after_queueing_is_honoured_at_send_time(sqlite_db: Engine) -> None:
    ids = queue(sqlite_db, ["13800000001", "13800000002"])
    assert set_opt_out(sqlite_db, "13800000002") == 1
    gateway = MemoryGateway()
    report = NotificationSender(sqlite_db, gateway, clock=Clock()).run_once()
    assert (report.sent, report.opted_out) == (1, 1)
    assert [phone for phone, _ in gateway.calls] == ["13800000001"]
    assert rows(sqlite_db)[ids[1]].status is NotificationStatus.OPTED_OUT


@pytest.mark.unit
@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(1, 8),
    st.integers(1, 12),
    st.lists(st.integers(0, 40 * 3600), min_size=1, max_size=40),
)
def test_sending_when_allowed_never_breaks_a_window(
    per_minute: int, per_hour: int, per_day: int, wishes: list[int]
) -> None:
    limits = NumberLimits(per_minute, per_hour, per_day)
    sent: list[datetime] = []
    for wish in sorted(wishes):
        want = NOW + timedelta(seconds=wish)
        at = limits.next_allowed(sent, want)
        assert at >= want
        assert limits.next_allowed(sent, at) == at  # allowed then: no further wait
        sent.append(at)
    for at in sent:
        for window, limit in limits.windows():
            assert sum(at - window < other <= at for other in sent) <= limit


@pytest.mark.unit
def test_the_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=4, burst=2)
    assert [bucket.take(NOW) for _ in range(3)] == [True, True, False]
    assert bucket.wait_s(NOW) == pytest.approx(0.25)
    assert bucket.take(NOW + timedelta(seconds=0.25))
    assert not bucket.take(NOW + timedelta(seconds=0.25))


@pytest.mark.integration
def test_an_outage_reaches_phones_through_the_http_gateway(sqlite_db: Engine) -> None:
    from shapely.geometry import box

    from domain.bus import EventBus
    from domain.outages import Outages, PremisesRegister
    from domain.uow import UnitsOfWork
    from servicehall.platform.sms import SmsGatewaySimulator

    builders.central_site(sqlite_db)
    homes = [
        builders.household(sqlite_db, 116.364, 39.912, ["13800000001"]),
        builders.household(sqlite_db, 116.365, 39.913, ["13800000002"], opted_out=["13800000002"]),
        builders.household(sqlite_db, 116.366, 39.914, ["13800000003"]),
    ]
    clock = Clock()
    outages = Outages(UnitsOfWork(sqlite_db, EventBus()), PremisesRegister(sqlite_db), clock=clock)
    area = box(116.36, 39.91, 116.37, 39.92)
    first = outages.declare_area(area, kind=OutageKind.WATER_OFF, title=("停水", "Water off"))
    simulator = SmsGatewaySimulator()
    gateway = simulator.gateway()
    try:
        simulator.fail_next(503, "Busy")  # the first try meets a gateway in trouble
        sender = NotificationSender(sqlite_db, gateway, clock=clock, retry_after=timedelta(0))
        assert sender.run_once().retried == 1
        clock.now += timedelta(seconds=1)
        assert sender.run_once().sent == 2
        text = simulator.inbox("13800000001")
        assert len(text) == 1 and text[0].startswith("停水通知：停水") and "Water off" in text[0]
        assert simulator.inbox("13800000003") == text
        assert simulator.inbox("13800000002") == []  # opted out
        # The gateway's own limit for a number: later, not never.
        clock.now += timedelta(minutes=2)
        second = outages.declare_area(area, kind=OutageKind.LOW_PRESSURE, title=("降压", "Low"))
        simulator.fail_next(429, "Throttled")
        report = sender.run_once()
        assert (report.sent, report.deferred, report.failed) == (1, 1, 0)
        clock.now += timedelta(minutes=11)
        assert sender.run_once().sent == 1
        assert len(simulator.inbox("13800000001")) == len(simulator.inbox("13800000003")) == 2
        statuses = {row.status for row in rows(sqlite_db).values()}
        assert statuses == {NotificationStatus.SENT, NotificationStatus.OPTED_OUT}
        assert first.outage_id != second.outage_id and len(homes) == 3
    finally:
        gateway.close()
        simulator.close()
