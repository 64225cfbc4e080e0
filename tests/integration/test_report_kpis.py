"""The hall's day report on real databases: every ticket accounted for, staff, targets, the hall's name.

One morning at 西城营业厅 is played through the real queue engine on a stepped clock, so each
figure below was worked out by hand from the story, not by the code under test.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from domain.queueing.engine import HallQueue, TicketView
from domain.queueing.kpis import (
    BOXES,
    DayReport,
    NoSuchHall,
    box_of,
    day_report,
)
from servicedb import migrate
from servicedb.engine import make_engine
from servicedb.models import QueueTicket, TicketStatus
from servicehall.demo.seed import seed_city
from servicehall.demo.seed.city import DEMO_STAFF_PIN
from tests.conftest import PG_ADMIN_URL

pytestmark = pytest.mark.integration
HALL = "hall-xicheng"
DAY = date(2026, 11, 23)
NINE = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


@dataclass
class Clock:
    now: datetime = NINE

    def at(self, minutes: int) -> None:
        self.now = NINE + timedelta(minutes=minutes)


def call(queue: HallQueue, counter: int, expected: str) -> TicketView:
    called = queue.call_next(counter)
    assert called is not None and called.number == expected
    return called


def play_the_morning(engine: Engine) -> None:
    """Nine tickets, each ending the morning somewhere different."""
    clock = Clock()
    queue = HallQueue(engine, HALL, clock=lambda: clock.now)
    queue.sign_in(1, "S001", DEMO_STAFF_PIN, ["payment", "enquiry"])  # 王芳
    queue.sign_in(3, "S003", DEMO_STAFF_PIN, ["new_connection", "payment"])  # 张伟
    queue.sign_in(4, "S004", DEMO_STAFF_PIN)  # 刘洋
    for minute, category in enumerate(
        ["payment", "payment", "new_connection", "enquiry", "payment", "repair_complaint"]
    ):
        clock.at(minute)
        queue.take_ticket(category)  # A001 A002 B001 D001 A003 C001 at 09:00 … 09:05
    clock.at(6)
    queue.take_ticket("payment")  # A004
    clock.at(10)
    called = call(queue, 1, "A001")  # waited 10 min
    clock.at(11)
    queue.start(1)
    clock.at(15)
    queue.finish(1, "served")  # 4 min of service
    queue.rate(called.ticket_id, 5)
    clock.at(16)
    called = call(queue, 1, "A002")  # 15 min: over 10
    queue.start(1)
    clock.at(20)
    queue.finish(1, "referred")  # finished otherwise, 4 min
    called = call(queue, 3, "B001")  # 18 min: under 20
    clock.at(21)
    queue.start(3)
    clock.at(22)
    called = call(queue, 1, "D001")  # 19 min: over 15
    clock.at(25)
    queue.no_show(1)
    clock.at(26)
    called = call(queue, 1, "A003")  # 22 min: over 10
    clock.at(27)
    queue.transfer(1, to_category="enquiry")  # waits again, in another queue
    clock.at(28)
    called = call(queue, 4, "C001")
    clock.at(29)
    called = call(queue, 1, "A004")  # 23 min: over 10
    queue.start(1)
    clock.at(30)
    queue.finish(3, "served")  # B001: 9 min of service
    queue.park(1)  # A004 fetches a document
    clock.at(31)
    queue.walk_in(3, "enquiry")  # D002, being served, never waited
    clock.at(32)
    queue.take_ticket("payment")  # A005, still waiting
    clock.at(40)
    queue.sign_out(1)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def migrated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The morning played once per database kind; the tests here only read it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('report')}/hall.db"
    else:
        admin: Engine = request.getfixturevalue("pg_admin")
        name = f"servicehall_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    seed_city(engine, premises=0, as_of=DAY - timedelta(days=1))
    play_the_morning(engine)
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def morning(migrated: Engine) -> DayReport:
    return day_report(migrated, HALL, DAY, now=NINE + timedelta(hours=1))


def test_every_ticket_is_accounted_for(morning: DayReport, migrated: Engine) -> None:
    total = morning.total.accounting
    assert (
        total.issued,
        total.served,
        total.finished_other,
        total.no_shows,
        total.waiting,
        total.transferred_open,
        total.at_counter,
        total.parked,
        total.unaccounted,
    ) == (9, 2, 1, 1, 1, 1, 2, 1, 0)
    # Against the database itself: the boxes are the ticket statuses, split finer.
    with Session(migrated) as session:
        statuses = dict(
            session.execute(
                select(QueueTicket.status, func.count()).group_by(QueueTicket.status)
            ).all()
        )
    assert statuses == {
        TicketStatus.DONE: total.served + total.finished_other,
        TicketStatus.NO_SHOW: total.no_shows,
        TicketStatus.WAITING: total.waiting + total.transferred_open,
        TicketStatus.CALLED: 1,
        TicketStatus.SERVING: 1,
        TicketStatus.PARKED: total.parked,
    }
    # Each service's row balances too, and the rows add up to the total.
    for row in morning.by_category:
        assert row.accounting.unaccounted == 0
    assert sum(r.issued for r in morning.by_category) == total.issued


def test_no_ticket_status_falls_outside_the_reconciliation() -> None:
    # A status added to the queue without a box here would be counted as unaccounted.
    for status, outcome, transferred in itertools.product(
        TicketStatus,
        (None, "served", "referred", "unresolved", "left", "no_show", "skipped"),
        (False, True),
    ):
        assert box_of(status, outcome, transferred) in BOXES, (status, outcome)


def test_the_report_names_the_hall_and_states_each_services_target(morning: DayReport) -> None:
    assert (morning.name_zh, morning.name_en) == ("西城营业厅", "Xicheng Service Hall")
    services = {f.name: f for f in morning.by_category}
    payment = services["A 缴费 Bill payment"]
    assert payment.target_wait_min == 10
    # A001 10 min (not over), A002 15, A003 22, A004 23: three of four waited too long.
    assert (payment.called, payment.over_target, payment.over_target_share) == (4, 3, 0.75)
    connection = services["B 报装 New connection"]
    assert (connection.target_wait_min, connection.called, connection.over_target) == (20, 1, 0)
    enquiry = services["D 咨询 Enquiries"]
    assert (enquiry.issued, enquiry.walk_ins, enquiry.called, enquiry.over_target) == (2, 1, 1, 1)
    assert morning.total.target_wait_min is None  # services differ; the total states none
    assert morning.total.over_target == 5 and morning.total.called == 7


def test_staff_are_credited_with_what_they_did(morning: DayReport) -> None:
    staff = {s.staff: s for s in morning.by_staff}
    assert list(staff) == ["S001 王芳", "S003 张伟", "S004 刘洋"]
    # Counter 1, 09:00–09:40: A001 served, A002 referred, D001 gone, A004 parked.
    wang = staff["S001 王芳"]
    assert wang.counters == (1,)
    assert (wang.called, wang.served, wang.finished_other, wang.no_shows) == (4, 1, 1, 1)
    assert wang.signed_in_h == pytest.approx(40 / 60)
    assert wang.mean_service_min == pytest.approx(4.0)
    assert (wang.mean_rating, wang.ratings) == (5.0, 1)
    li = staff["S003 张伟"]  # counter 3, still signed in: B001 served in 9 min, D002 walk-in
    assert (li.counters, li.called, li.served) == ((3,), 2, 1)
    assert li.mean_service_min == pytest.approx(9.0)
    assert li.signed_in_h == pytest.approx(40 / 60)  # to the hall's last activity, 09:40
    assert li.served_per_hour == pytest.approx(1.5)
    liu = staff["S004 刘洋"]  # counter 4: C001 called, still at the counter
    assert (liu.counters, liu.called) == ((4,), 1)
    assert liu.signed_in_h == pytest.approx(40 / 60)


def test_another_day_is_empty_and_an_unknown_hall_is_refused(
    morning: DayReport, migrated: Engine
) -> None:
    quiet = day_report(migrated, HALL, DAY + timedelta(days=1))
    assert quiet.total.issued == 0 and quiet.by_staff == ()
    with pytest.raises(NoSuchHall, match="halls here: hall-guanganmen, hall-xicheng"):
        day_report(migrated, "central", DAY)
