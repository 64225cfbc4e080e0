"""Whatever happens to an order, in whatever order, the row on the board is the fold of its
history: ``work_orders`` never says something ``work_order_events`` does not."""

from __future__ import annotations

import shutil
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from domain.work_order_commands import (
    Cancel,
    Close,
    Dispatch,
    FieldReport,
    FollowUp,
    RaisePriority,
    Reopen,
    ReportKind,
    Resolve,
)
from domain.work_order_store import history, replayed, state_from_row
from domain.work_orders import Intake, OrderRefused, Who, WorkOrders
from field_dispatch.orders import Result
from field_dispatch.vocabulary import Actor, Category
from servicedb.engine import make_engine
from servicedb.models import WorkOrder
from tests.dispatch_central.builders import CENTRAL, MONDAY_10, Clock, build_city, listening_units

pytestmark = pytest.mark.integration
D = Who(Actor.DISPATCHER, "D001")
CREWS = ("crew-burst", "crew-meter")

steps = st.lists(
    st.one_of(
        st.tuples(st.just("dispatch"), st.sampled_from(CREWS)),
        st.tuples(
            st.just("report"),
            st.sampled_from(list(ReportKind)),
            st.sampled_from(CREWS),
            st.integers(-30, 30),
        ),
        st.tuples(st.just("resolve"), st.sampled_from(list(Result))),
        st.tuples(st.just("close"), st.sampled_from(list(Result))),
        st.tuples(st.just("cancel")),
        st.tuples(st.just("reopen"), st.sampled_from((None, *CREWS))),
        st.tuples(st.just("follow_up"), st.integers(0, 6)),
        st.tuples(st.just("priority"), st.integers(0, 6)),
        st.tuples(st.just("repeat")),
    ),
    max_size=14,
)


World = tuple[Engine, WorkOrders, dict[str, uuid.UUID], Clock]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> World:

    path = tmp_path_factory.mktemp("history") / "central.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    city = build_city(engine)
    units, _heard = listening_units(engine)
    clock = Clock()
    return engine, WorkOrders(units, CENTRAL, clock=clock), city.crews, clock


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(plan=steps)
def test_the_board_row_is_always_the_fold_of_the_history(world: World, plan: list[Any]) -> None:
    engine, orders, crews, clock = world
    clock.now = MONDAY_10
    order = orders.open(Intake(Category.LEAK, "漏水", "phone", lon=116.36, lat=39.91), D)
    last = None
    for step in plan:
        clock.now += timedelta(minutes=5)
        try:
            match step:
                case ("dispatch", crew):
                    orders.command(order.id, Dispatch(crews[crew]), D)
                case ("report", kind, crew, skew):
                    last = FieldReport(
                        str(uuid.uuid4()), order.id, crews[crew], kind,
                        clock.now + timedelta(minutes=skew), f"{crew}-1", Result.FIXED,
                    )  # fmt: skip
                    orders.report(last)
                case ("repeat",) if last is not None:
                    orders.report(last)  # a phone's message delivered twice
                case ("resolve", result):
                    orders.command(order.id, Resolve(result), D)
                case ("close", result):
                    orders.command(order.id, Close(result), D)
                case ("cancel",):
                    orders.command(order.id, Cancel("用户撤销"), D)
                case ("reopen", crew):
                    orders.command(
                        order.id, Reopen("再次报修", None if crew is None else crews[crew]), D
                    )
                case ("follow_up", score):
                    orders.command(order.id, FollowUp(score), D)
                case ("priority", priority):
                    orders.command(order.id, RaisePriority(priority, "升级"), D)
        except OrderRefused:
            pass  # refused: nothing may have been written
        with Session(engine) as session:
            row = session.get(WorkOrder, order.id)
            assert row is not None
            events = history(session, row.id)
            folded = replayed(row, events)
            shown = state_from_row(row, folded.seen)
            assert shown == folded, step
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            assert row.version == len(events)  # one version per recorded event
