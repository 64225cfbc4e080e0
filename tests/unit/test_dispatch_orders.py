"""The work order's status machine: the table, late and repeated phone reports, properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from field_dispatch.orders import (
    Applied,
    CrewArrived,
    CrewSetOff,
    FollowUpRecorded,
    Ignored,
    IgnoreReason,
    OrderAccepted,
    OrderCancelled,
    OrderClosed,
    OrderDeclined,
    OrderDispatched,
    OrderEvent,
    OrderReopened,
    OrderResolved,
    OrderState,
    PriorityRaised,
    RefusalReason,
    Refused,
    Result,
    new_order,
    replay,
    transition,
)
from field_dispatch.vocabulary import Actor, Category, Status

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
D, T, S, H = Actor.DISPATCHER, Actor.TECHNICIAN, Actor.SYSTEM, Actor.HALL


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def order() -> OrderState:
    return new_order("wo-1", Category.BURST_MAIN, 1, T0)


def applied(state: OrderState, event: OrderEvent) -> OrderState:
    outcome = transition(state, event)
    assert isinstance(outcome, Applied), outcome
    return outcome.state


@pytest.mark.unit
def test_the_whole_life_of_an_order() -> None:
    s = order()
    s = applied(s, OrderDispatched(event_id="e1", order_id="wo-1", at=at(2), actor=S, crew_id="c1"))
    assert (s.status, s.crew_id, s.dispatched_at) == (Status.DISPATCHED, "c1", at(2))
    s = applied(s, OrderAccepted(event_id="e2", order_id="wo-1", at=at(3), actor=T, crew_id="c1"))
    s = applied(s, CrewSetOff(event_id="e3", order_id="wo-1", at=at(4), actor=T, crew_id="c1"))
    s = applied(s, CrewArrived(event_id="e4", order_id="wo-1", at=at(25), actor=T, crew_id="c1"))
    assert (s.status, s.arrived_at) == (Status.ON_SITE, at(25))
    s = applied(
        s,
        OrderResolved(
            event_id="e5", order_id="wo-1", at=at(200), actor=T, crew_id="c1", result=Result.FIXED
        ),
    )
    s = applied(
        s, OrderClosed(event_id="e6", order_id="wo-1", at=at(300), actor=D, result=Result.FIXED)
    )
    s = applied(s, FollowUpRecorded(event_id="e7", order_id="wo-1", at=at(2000), actor=H, score=5))
    assert (s.status, s.resolved_at, s.closed_at, s.satisfaction) == (
        Status.CLOSED,
        at(200),
        at(300),
        5,
    )


@pytest.mark.unit
def test_a_redelivered_report_changes_nothing() -> None:
    s = applied(
        order(), OrderDispatched(event_id="e1", order_id="wo-1", at=at(1), actor=S, crew_id="c1")
    )
    arrive = CrewArrived(event_id="e2", order_id="wo-1", at=at(20), actor=T, crew_id="c1")
    once = applied(s, arrive)
    again = transition(once, arrive)
    assert again == Ignored(once, IgnoreReason.DUPLICATE)


@pytest.mark.unit
def test_on_site_before_en_route_implies_the_steps_and_the_late_report_is_stale() -> None:
    s = applied(
        order(), OrderDispatched(event_id="e1", order_id="wo-1", at=at(1), actor=S, crew_id="c1")
    )
    outcome = transition(
        s, CrewArrived(event_id="e3", order_id="wo-1", at=at(20), actor=T, crew_id="c1")
    )
    assert isinstance(outcome, Applied)
    assert outcome.implied == (Status.ACCEPTED, Status.EN_ROUTE)
    assert outcome.state.status is Status.ON_SITE and outcome.state.arrived_at == at(20)
    late = transition(
        outcome.state, CrewSetOff(event_id="e2", order_id="wo-1", at=at(5), actor=T, crew_id="c1")
    )
    assert isinstance(late, Ignored) and late.reason is IgnoreReason.STALE
    assert late.state.status is Status.ON_SITE


@pytest.mark.unit
def test_resolved_from_en_route_records_the_arrival_it_implies() -> None:
    s = applied(
        order(), OrderDispatched(event_id="e1", order_id="wo-1", at=at(1), actor=S, crew_id="c1")
    )
    s = applied(s, CrewSetOff(event_id="e2", order_id="wo-1", at=at(2), actor=T, crew_id="c1"))
    outcome = transition(
        s,
        OrderResolved(
            event_id="e3", order_id="wo-1", at=at(90), actor=T, crew_id="c1", result=Result.FIXED
        ),
    )
    assert isinstance(outcome, Applied) and outcome.implied == (Status.ON_SITE,)
    assert outcome.state.arrived_at == at(90) and outcome.state.resolved_at == at(90)


@pytest.mark.unit
def test_only_the_assigned_crew_reports_and_old_crews_reports_are_stale() -> None:
    s = applied(
        order(), OrderDispatched(event_id="e1", order_id="wo-1", at=at(1), actor=S, crew_id="c1")
    )
    s = applied(
        s, OrderDispatched(event_id="e2", order_id="wo-1", at=at(10), actor=D, crew_id="c2")
    )
    made_before = CrewSetOff(event_id="e3", order_id="wo-1", at=at(5), actor=T, crew_id="c1")
    assert transition(s, made_before) == Ignored(s, IgnoreReason.STALE)
    made_after = CrewSetOff(event_id="e4", order_id="wo-1", at=at(12), actor=T, crew_id="c1")
    refused = transition(s, made_after)
    assert isinstance(refused, Refused) and refused.reason is RefusalReason.NOT_ASSIGNED_CREW
    assert refused.message_zh and refused.message_en


@pytest.mark.unit
def test_the_engine_never_pulls_a_crew_that_is_en_route_but_a_dispatcher_may() -> None:
    s = applied(
        order(), OrderDispatched(event_id="e1", order_id="wo-1", at=at(1), actor=S, crew_id="c1")
    )
    s = applied(s, CrewSetOff(event_id="e2", order_id="wo-1", at=at(2), actor=T, crew_id="c1"))
    by_engine = OrderDispatched(event_id="e3", order_id="wo-1", at=at(3), actor=S, crew_id="c2")
    refused = transition(s, by_engine)
    assert isinstance(refused, Refused) and refused.reason is RefusalReason.ACTOR_NOT_ALLOWED
    by_person = OrderDispatched(event_id="e4", order_id="wo-1", at=at(3), actor=D, crew_id="c2")
    assert applied(s, by_person).crew_id == "c2"


@pytest.mark.unit
def test_closing_needs_the_fields_report() -> None:
    s = applied(
        order(), OrderDispatched(event_id="e1", order_id="wo-1", at=at(1), actor=S, crew_id="c1")
    )
    s = applied(s, CrewArrived(event_id="e2", order_id="wo-1", at=at(20), actor=T, crew_id="c1"))
    close = OrderClosed(event_id="e3", order_id="wo-1", at=at(30), actor=D, result=Result.FIXED)
    refused = transition(s, close)
    assert isinstance(refused, Refused) and refused.reason is RefusalReason.NOT_ALLOWED_NOW


@pytest.mark.unit
def test_a_technician_cannot_close_or_cancel() -> None:
    s = order()
    for event in (
        OrderCancelled(event_id="x", order_id="wo-1", at=at(1), actor=T, reason="no"),
        OrderDispatched(event_id="y", order_id="wo-1", at=at(1), actor=T, crew_id="c1"),
    ):
        refused = transition(s, event)
        assert isinstance(refused, Refused) and refused.reason is RefusalReason.ACTOR_NOT_ALLOWED


@pytest.mark.unit
def test_decline_returns_the_order_to_new_and_silences_the_crew() -> None:
    s = applied(
        order(), OrderDispatched(event_id="e1", order_id="wo-1", at=at(1), actor=S, crew_id="c1")
    )
    s = applied(s, OrderDeclined(event_id="e2", order_id="wo-1", at=at(2), actor=T, crew_id="c1"))
    assert (s.status, s.crew_id) == (Status.NEW, None)
    late = transition(
        s, OrderAccepted(event_id="e3", order_id="wo-1", at=at(1.5), actor=T, crew_id="c1")
    )
    assert isinstance(late, Ignored) and late.reason is IgnoreReason.STALE


@pytest.mark.unit
def test_reopen_goes_back_to_new_or_to_the_named_crew_and_restarts_the_clocks() -> None:
    s = applied(
        order(), OrderDispatched(event_id="e1", order_id="wo-1", at=at(1), actor=S, crew_id="c1")
    )
    s = applied(
        s,
        OrderResolved(
            event_id="e2", order_id="wo-1", at=at(60), actor=T, crew_id="c1", result=Result.FIXED
        ),
    )
    s = applied(
        s, OrderClosed(event_id="e3", order_id="wo-1", at=at(70), actor=D, result=Result.FIXED)
    )
    back = applied(
        s, OrderReopened(event_id="e4", order_id="wo-1", at=at(500), actor=H, reason="又漏了")
    )
    assert (back.status, back.crew_id, back.opened_at, back.reopen_count) == (
        Status.NEW,
        None,
        at(500),
        1,
    )
    assert back.resolved_at is None and back.closed_at is None and back.result is None
    same_crew = applied(
        s,
        OrderReopened(
            event_id="e5", order_id="wo-1", at=at(500), actor=D, reason="x", crew_id="c1"
        ),
    )
    assert (same_crew.status, same_crew.crew_id) == (Status.DISPATCHED, "c1")
    assert isinstance(
        transition(
            order(), OrderReopened(event_id="e6", order_id="wo-1", at=at(1), actor=D, reason="x")
        ),
        Refused,
    )


@pytest.mark.unit
def test_priority_only_goes_up_and_follow_up_scores_are_checked() -> None:
    s = order()
    s3 = new_order("wo-2", Category.LEAK, 3, T0)
    raised = applied(
        s3,
        PriorityRaised(event_id="r1", order_id="wo-2", at=at(1), actor=S, priority=2, reason="x"),
    )
    assert (raised.priority, raised.sla_priority) == (2, 3)
    lower = PriorityRaised(
        event_id="r2", order_id="wo-2", at=at(2), actor=S, priority=4, reason="x"
    )
    assert transition(raised, lower) == Ignored(raised, IgnoreReason.NO_CHANGE)
    s = replay(
        s,
        [
            OrderDispatched(event_id="e1", order_id="wo-1", at=at(1), actor=S, crew_id="c1"),
            OrderResolved(
                event_id="e2", order_id="wo-1", at=at(9), actor=T, crew_id="c1", result=Result.FIXED
            ),
            OrderClosed(event_id="e3", order_id="wo-1", at=at(10), actor=D, result=Result.FIXED),
        ],
    )
    bad = transition(
        s, FollowUpRecorded(event_id="f", order_id="wo-1", at=at(11), actor=H, score=6)
    )
    assert isinstance(bad, Refused) and bad.reason is RefusalReason.BAD_VALUE


@pytest.mark.unit
def test_an_event_for_another_order_is_refused() -> None:
    outcome = transition(
        order(), OrderCancelled(event_id="e", order_id="wo-9", at=at(1), actor=D, reason="")
    )
    assert isinstance(outcome, Refused) and outcome.reason is RefusalReason.WRONG_ORDER


# --- properties ---------------------------------------------------------------------------

CREWS = ("c1", "c2")


@st.composite
def events(draw: st.DrawFn) -> OrderEvent:
    kind = draw(st.integers(0, 10))
    base: dict[str, Any] = {
        "event_id": draw(st.sampled_from([f"e{n}" for n in range(12)])),
        "order_id": "wo-1",
        "at": at(draw(st.integers(0, 600))),
        "actor": draw(st.sampled_from(list(Actor))),
    }
    crew = draw(st.sampled_from(CREWS))
    result = draw(st.sampled_from(list(Result)))
    made: list[OrderEvent] = [
        OrderDispatched(**base, crew_id=crew),
        OrderAccepted(**base, crew_id=crew),
        OrderDeclined(**base, crew_id=crew),
        CrewSetOff(**base, crew_id=crew),
        CrewArrived(**base, crew_id=crew),
        OrderResolved(**base, crew_id=crew, result=result),
        OrderClosed(**base, result=result),
        OrderCancelled(**base, reason="r"),
        OrderReopened(**base, reason="r", crew_id=draw(st.none() | st.sampled_from(CREWS))),
        PriorityRaised(**base, priority=draw(st.integers(0, 6)), reason="r"),
        FollowUpRecorded(**base, score=draw(st.integers(0, 6))),
    ]
    return made[kind]


@pytest.mark.unit
@settings(max_examples=250, deadline=None)
@given(st.lists(events(), max_size=25))
def test_closed_is_only_ever_reached_from_resolved(history: list[OrderEvent]) -> None:
    s = new_order("wo-1", Category.LEAK, 3, T0)
    for event in history:
        outcome = transition(s, event)
        if isinstance(outcome, Applied):
            if outcome.state.status is Status.CLOSED and s.status is not Status.CLOSED:
                assert s.status is Status.RESOLVED
            s = outcome.state
        elif isinstance(outcome, Ignored):
            assert outcome.state == s


@pytest.mark.unit
@settings(max_examples=250, deadline=None)
@given(st.lists(events(), max_size=25), events())
def test_applying_any_event_twice_is_the_same_as_once(
    history: list[OrderEvent], last: OrderEvent
) -> None:
    s = replay(new_order("wo-1", Category.LEAK, 3, T0), history)
    first = transition(s, last)
    if isinstance(first, Refused):
        return
    second = transition(first.state, last)
    assert isinstance(second, Ignored) and second.state == first.state
