"""SLA deadlines, working-time arithmetic, at-risk / breached, and idempotent escalation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from field_dispatch.orders import (
    Applied,
    CrewArrived,
    Ignored,
    IgnoreReason,
    OrderDispatched,
    new_order,
    transition,
)
from field_dispatch.sla import (
    Milestone,
    NotifySupervisor,
    RaisePriority,
    SlaLevel,
    SlaPolicy,
    SlaTarget,
    Span,
    WarnDispatcher,
    WorkingCalendar,
    deadlines,
    escalate,
    sla_state,
)
from field_dispatch.vocabulary import Actor, Category

BJ = ZoneInfo("Asia/Shanghai")
POLICY = SlaPolicy()


@pytest.mark.unit
def test_burst_main_p1_defaults() -> None:
    opened = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    due = deadlines(new_order("o", Category.BURST_MAIN, 1, opened), POLICY)
    assert due.arrive_by == datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    assert due.restore_by == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    assert due.close_by == datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.mark.unit
def test_meter_query_p4_arrives_within_two_working_days() -> None:
    # Friday 16:00 in Beijing: 1.5 h left that day, 9 h on Monday, 7.5 h on Tuesday.
    friday = datetime(2026, 11, 27, 16, 0, tzinfo=BJ)
    order = new_order("o", Category.METER_FAULT, 4, friday)
    assert deadlines(order, POLICY).arrive_by == datetime(2026, 12, 1, 16, 0, tzinfo=BJ)
    holiday = SlaPolicy(calendar=WorkingCalendar(holidays=frozenset({date(2026, 11, 30)})))
    assert deadlines(order, holiday).arrive_by == datetime(2026, 12, 2, 16, 0, tzinfo=BJ)
    makeup = SlaPolicy(calendar=WorkingCalendar(extra_workdays=frozenset({date(2026, 11, 28)})))
    assert deadlines(order, makeup).arrive_by == datetime(2026, 11, 30, 16, 0, tzinfo=BJ)


@pytest.mark.unit
def test_an_order_opened_at_night_starts_counting_working_time_in_the_morning() -> None:
    night = datetime(2026, 11, 23, 22, 0, tzinfo=BJ)  # Monday night
    order = new_order("o", Category.COMPLAINT, 4, night)  # first answer: 1 working day
    assert deadlines(order, POLICY).arrive_by == datetime(2026, 11, 24, 17, 30, tzinfo=BJ)


@pytest.mark.unit
def test_a_configured_target_replaces_the_default() -> None:
    policy = POLICY.with_target(
        Category.LEAK, 3, SlaTarget(Span.minutes(20), Span.hours(2), Span.hours(3))
    )
    opened = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert deadlines(
        new_order("o", Category.LEAK, 3, opened), policy
    ).arrive_by == opened + timedelta(minutes=20)
    assert deadlines(
        new_order("o", Category.LEAK, 3, opened), POLICY
    ).arrive_by == opened + timedelta(hours=1)


@pytest.mark.unit
def test_ok_then_at_risk_at_the_warn_share_then_breached() -> None:
    opened = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    order = new_order("o", Category.BURST_MAIN, 1, opened)  # arrive within 30 min
    assert sla_state(order, opened + timedelta(minutes=22), POLICY).level is SlaLevel.OK
    risky = sla_state(order, opened + timedelta(minutes=23), POLICY)
    assert risky.level is SlaLevel.AT_RISK and risky.worst is not None
    assert risky.worst.milestone is Milestone.ARRIVE
    assert sla_state(order, opened + timedelta(minutes=31), POLICY).level is SlaLevel.BREACHED


@pytest.mark.unit
def test_an_arrival_in_time_stops_the_arrive_clock() -> None:
    opened = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    order = new_order("o", Category.BURST_MAIN, 1, opened)
    outcome = transition(
        order,
        OrderDispatched(event_id="d", order_id="o", at=opened, actor=Actor.SYSTEM, crew_id="c"),
    )
    assert isinstance(outcome, Applied)
    outcome = transition(
        outcome.state,
        CrewArrived(
            event_id="a",
            order_id="o",
            at=opened + timedelta(minutes=25),
            actor=Actor.TECHNICIAN,
            crew_id="c",
        ),
    )
    assert isinstance(outcome, Applied)
    report = sla_state(outcome.state, opened + timedelta(hours=1), POLICY)
    arrive = next(c for c in report.clocks if c.milestone is Milestone.ARRIVE)
    assert arrive.met and arrive.level is SlaLevel.OK
    assert report.level is SlaLevel.OK  # restore: 1 h of 4 h used


@pytest.mark.unit
def test_escalation_warns_then_raises_once_and_notifies() -> None:
    opened = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    order = new_order("o", Category.LEAK, 3, opened)  # arrive within 1 h
    warn = escalate(order, opened + timedelta(minutes=50), POLICY)
    assert [type(d) for d in warn] == [WarnDispatcher]
    breach = escalate(order, opened + timedelta(minutes=70), POLICY, done=[d.key for d in warn])
    assert {type(d) for d in breach} == {RaisePriority, NotifySupervisor}
    raise_ = next(d for d in breach if isinstance(d, RaisePriority))
    assert raise_.priority == 2
    done = [d.key for d in warn + breach]
    assert escalate(order, opened + timedelta(minutes=80), POLICY, done=done) == []
    # Applying the decision twice (a sweep that forgot it had decided) is harmless.
    event = raise_.event(opened + timedelta(minutes=70))
    once = transition(order, event)
    assert isinstance(once, Applied) and once.state.priority == 2
    assert transition(once.state, event) == Ignored(once.state, IgnoreReason.DUPLICATE)
    # Deadlines stay those of the intake priority.
    assert deadlines(once.state, POLICY) == deadlines(order, POLICY)


@pytest.mark.unit
def test_a_p1_is_not_raised_further_but_the_supervisor_hears() -> None:
    opened = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    order = new_order("o", Category.BURST_MAIN, 1, opened)
    decisions = escalate(order, opened + timedelta(minutes=45), POLICY)
    assert [type(d) for d in decisions] == [NotifySupervisor]


@pytest.mark.unit
@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    st.integers(0, 30 * 9 * 3600),
)
def test_working_time_added_is_working_time_between(start: datetime, seconds: int) -> None:
    calendar = WorkingCalendar(holidays=frozenset({date(2026, 10, 1), date(2026, 10, 2)}))
    end = calendar.add(start, seconds)
    assert end >= start
    assert calendar.between(start, end) == pytest.approx(seconds, abs=1e-3)
