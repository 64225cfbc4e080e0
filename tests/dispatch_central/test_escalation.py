"""SLA escalation over the database: warned at the warn share, escalated at the breach, once."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from domain.dispatch_events import WorkOrderEscalated
from domain.work_order_commands import FieldReport, ReportKind
from domain.work_order_sla import sweep
from domain.work_orders import Intake, Who, WorkOrders
from field_dispatch.vocabulary import Actor, Category
from tests.dispatch_central.builders import CENTRAL, MONDAY_10, Clock, build_city, listening_units

pytestmark = pytest.mark.integration
AGENT = Who(Actor.DISPATCHER, "A001")


def leak(orders: WorkOrders) -> uuid.UUID:
    return orders.open(
        Intake(Category.LEAK, "楼道漏水", "phone", lon=116.361, lat=39.910), AGENT
    ).id


def test_warned_at_three_quarters_escalated_at_the_breach_each_once(sqlite_db: Engine) -> None:
    city = build_city(sqlite_db)
    units, heard = listening_units(sqlite_db)
    clock = Clock()
    orders = WorkOrders(units, CENTRAL, clock=clock)
    order_id = leak(orders)  # P3 leak: on site within 1 hour (warned at 45 minutes)

    assert sweep(orders, MONDAY_10 + timedelta(minutes=44)) == []
    (warned,) = sweep(orders, MONDAY_10 + timedelta(minutes=46))
    assert (warned.milestone, warned.level, warned.priority_raised) == ("arrive", "at_risk", False)
    assert warned.due_at == MONDAY_10 + timedelta(hours=1)
    assert sweep(orders, MONDAY_10 + timedelta(minutes=50)) == []  # said once

    (breached,) = sweep(orders, MONDAY_10 + timedelta(minutes=61))
    assert (breached.level, breached.priority, breached.priority_raised) == ("breached", 2, True)
    assert breached.supervisor_notified
    # The breach stays a breach, but it is one: no second raise, no second notice.
    clock.now = MONDAY_10 + timedelta(minutes=90)
    assert sweep(orders) == []
    order = orders.get(order_id)
    assert (order.priority, order.sla_priority, order.sla_level) == (2, 3, "breached")
    # Escalation keeps the deadlines set at intake: no shorter, already-breached target.
    assert order.arrive_by == MONDAY_10 + timedelta(hours=1)
    assert [e.kind for e in orders.timeline(order_id)] == [
        "opened",
        "sla_warned",
        "priority_raised",
        "supervisor_notified",
    ]
    assert [type(e) for e in heard.of(WorkOrderEscalated)] == [WorkOrderEscalated] * 2
    alerts = orders.alerts(MONDAY_10)
    assert [a.kind for a in alerts] == ["supervisor_notified", "sla_warned"]
    assert city.crews  # the city is there; nobody was sent


def test_a_clock_met_decides_nothing_even_when_the_next_one_runs(sqlite_db: Engine) -> None:
    city = build_city(sqlite_db)
    units, _heard = listening_units(sqlite_db)
    clock = Clock()
    orders = WorkOrders(units, CENTRAL, clock=clock)
    order_id = leak(orders)
    crew = city.crews["crew-burst"]
    orders.dispatch(order_id, crew, AGENT)
    orders.report(
        FieldReport(
            "m1", order_id, crew, ReportKind.ARRIVED, MONDAY_10 + timedelta(minutes=50), "t"
        )
    )
    # Arrived in time; restoring has 24 hours and is far from its warn share at 2 hours.
    assert sweep(orders, MONDAY_10 + timedelta(hours=2)) == []
    # At 19 hours restoring is at risk (over 75 % of 24 h): a warning for that clock only.
    (warned,) = sweep(orders, MONDAY_10 + timedelta(hours=19))
    assert (warned.milestone, warned.level) == ("restore", "at_risk")


def test_two_sweeps_at_once_make_each_decision_once(migrated: Engine) -> None:
    build_city(migrated)
    units, _heard = listening_units(migrated)
    orders = WorkOrders(units, CENTRAL, clock=Clock())
    ids = [leak(orders) for _ in range(4)]
    late = MONDAY_10 + timedelta(minutes=61)  # every order breached: a raise and a notice each
    barrier = threading.Barrier(2)
    results: list[int] = []

    def run() -> None:
        barrier.wait()
        results.append(len(sweep(orders, late)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 4  # one WorkOrderEscalated per order, whichever sweep made it
    for order_id in ids:
        kinds = [e.kind for e in orders.timeline(order_id)]
        assert kinds == ["opened", "priority_raised", "supervisor_notified"]
        assert orders.get(order_id).priority == 2
