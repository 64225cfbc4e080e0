from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.queueing.estimate import (
    Arrivals,
    Desk,
    ServiceTimeLearner,
    Shift,
    erlang_c,
    expected_desk,
    forecast,
    linear_rule,
    mean_wait_erlang,
)
from domain.queueing.policy import Ticket

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
A, B = "payment", "new_connection"


def waiting(n: int, category: str = A, *, priority: int = 0, to: object = None) -> Ticket:
    """The n-th in line (taken n seconds after the first)."""
    since = NOW - timedelta(hours=1) + timedelta(seconds=n)
    return Ticket(uuid.UUID(int=n), category, priority, since, n, False, to)


def line(*categories: str) -> list[Ticket]:
    return [waiting(i + 1, c) for i, c in enumerate(categories)]


def test_erlang_c_known_value() -> None:
    # Textbook: 2 agents, offered load 1 Erlang → P(wait) = 1/3.
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = ρ


def test_mm1_mean_wait() -> None:
    # M/M/1 with ρ = 0.5 and s = 60 s: Wq = ρ s / (1 − ρ) = 60 s.
    assert mean_wait_erlang(1, 1 / 120, 60) == pytest.approx(60)
    assert mean_wait_erlang(1, 1 / 30, 60) is None  # overloaded


def test_linear_rule() -> None:
    assert linear_rule(4, 2, 300) == 600
    assert linear_rule(4, 0, 300) is None


def test_free_counter_calls_at_once() -> None:
    queue = line(A)
    assert forecast(queue, [Desk(1, frozenset({A}))], {A: 120}, now=NOW).ticket(queue[0].id) == 0


def test_waits_for_the_work_ahead_on_the_counters_that_serve_it() -> None:
    desks = [Desk(1, frozenset({A})), Desk(2, frozenset({A}))]
    queue = line(A, A, A, A, A)
    # Two counters, four people ahead at 120 s each: the fifth is called at 240 s.
    assert forecast(queue, desks, {A: 120}, now=NOW).ticket(queue[4].id) == 240


def test_a_shared_counter_is_taken_by_the_longer_wait() -> None:
    # Counter 1 serves A only, counter 2 serves A and B; three B tickets are ahead of us.
    queue = line(B, B, B, A)
    means = {A: 120, B: 900}
    desks = [Desk(1, frozenset({A})), Desk(2, frozenset({A, B}))]
    # Counter 2 works through the B queue; counter 1 takes us at once.
    assert forecast(queue, desks, means, now=NOW).ticket(queue[3].id) == 0
    # With counter 1 busy for another 100 s, we wait for it, not for counter 2's B work.
    busy = [Desk(1, frozenset({A}), free_in_s=100), Desk(2, frozenset({A, B}))]
    assert forecast(queue, busy, means, now=NOW).ticket(queue[3].id) == 100


def test_sent_to_a_counter_and_no_counter() -> None:
    desks = [Desk(1, frozenset({A})), Desk(2, frozenset({A}))]
    sent = [waiting(1, A, to=2), waiting(2, A, to=2), waiting(3, A)]
    plan = forecast(sent, desks, {A: 100}, now=NOW)
    assert plan.ticket(sent[2].id) == 0  # counter 1 is free for us
    assert plan.ticket(sent[1].id) == 100  # only counter 2 calls it, after the first
    nobody = line(B)
    assert forecast(nobody, desks, {A: 100}, now=NOW, newcomers={B: 0}).ticket(nobody[0].id) is None
    assert forecast(nobody, desks, {A: 100}, now=NOW, newcomers={B: 0}).newcomer(B) is None


def test_a_newcomer_waits_behind_everyone_of_its_priority() -> None:
    desks = [Desk(1, frozenset({A, B}))]
    queue = line(A, A, B)
    plan = forecast(queue, desks, {A: 100, B: 500}, now=NOW, newcomers={A: 0, B: 2})
    assert plan.newcomer(A) == 700  # after both A and the B ahead of it
    assert plan.newcomer(B) == 0  # a priority ticket is called first


def test_people_arriving_ahead_lengthen_the_wait() -> None:
    desks = [Desk(1, frozenset({A}))]
    queue = line(*[A] * 10)
    me = queue[-1].id
    plain = forecast(queue, desks, {A: 300}, now=NOW).ticket(me)
    # Elderly customers at 4 an hour, each going ahead: one every 15 minutes, the first at 7.5.
    elderly = [Arrivals(A, 1, 4.0)]
    ahead = forecast(queue, desks, {A: 300}, now=NOW, arrivals=elderly).ticket(me)
    assert plain == 2700
    # At 7.5, 22.5, 37.5 and 52.5 minutes: four go ahead before it is our turn at 65.
    assert ahead == 2700 + 4 * 300
    # Arrivals without priority queue behind: they change nothing.
    behind = forecast(queue, desks, {A: 300}, now=NOW, arrivals=[Arrivals(A, 0, 60.0)])
    assert behind.ticket(me) == plain


def test_a_counter_away_for_lunch_is_waited_for() -> None:
    queue = line(A, A, A)
    lunch = Desk(1, frozenset({A}), away=((250, 3850),))
    plan = forecast(queue, [lunch], {A: 100}, now=NOW)
    assert [plan.ticket(t.id) for t in queue] == [0, 100, 200]
    late = forecast([*queue, waiting(4)], [lunch], {A: 100}, now=NOW)
    assert late.ticket(uuid.UUID(int=4)) == 3850  # it starts after 250 s: lunch first
    closing = Desk(1, frozenset({A}), away=((150, math.inf),))
    assert forecast(queue, [closing], {A: 100}, now=NOW).ticket(queue[2].id) is None


def test_the_roster_says_when_a_counter_goes_and_comes_back() -> None:
    morning, afternoon = (
        Shift(8 * 3600, 12 * 3600, frozenset({A})),
        Shift(13 * 3600, 17 * 3600, frozenset({A, B})),
    )
    roster = [morning, afternoon]
    ten = 10 * 3600.0
    open_now = expected_desk(1, roster, ten, frozenset({A}), free_in_s=40)
    assert open_now == Desk(1, frozenset({A}), 40, ((7200, 10800), (25200, math.inf)))
    at_lunch = expected_desk(1, roster, 12.5 * 3600, None)
    assert at_lunch == Desk(1, frozenset({A, B}), 1800, ((16200, math.inf),), open_now=False)
    assert expected_desk(1, roster, 18 * 3600, None) is None  # done for the day
    # Open outside its usual hours, or with no roster at all: it is taken to stay open.
    assert expected_desk(1, roster, 7 * 3600, frozenset({A})) == Desk(1, frozenset({A}))
    assert expected_desk(1, [], ten, frozenset({A})) == Desk(1, frozenset({A}))


def test_learner_moves_toward_observations() -> None:
    learner = ServiceTimeLearner(mean_s=300)
    for _ in range(30):
        learner.observe(120)
    assert learner.mean_s == pytest.approx(120, rel=0.05)


def test_time_left_of_a_service_that_runs_long() -> None:
    learner = ServiceTimeLearner(mean_s=200)
    for seconds in (100, 100, 100, 100, 100, 600, 600, 600, 600, 600):
        learner.observe(seconds)
    # Half were short and half long: one past 100 s is a long one, with 400 s still to go.
    assert learner.remaining_s(200) == pytest.approx(400)
    # Past every duration seen: the mean minus the elapsed time, at least a quarter of it.
    assert learner.remaining_s(900) == pytest.approx(learner.mean_s / 4)


@given(st.integers(1, 50), st.floats(0, 49.9))
def test_erlang_c_is_a_probability(servers: int, load: float) -> None:
    assert 0.0 <= erlang_c(servers, load) <= 1.0


CATS = (A, B, "enquiry")


@st.composite
def halls(draw: st.DrawFn) -> tuple[list[Ticket], list[Desk], list[Arrivals]]:
    desks = [
        Desk(
            number,
            frozenset(draw(st.sets(st.sampled_from(CATS), min_size=1))),
            draw(st.sampled_from((0.0, 0.0, 45.0, 400.0))),
            draw(st.sampled_from(((), ((300.0, 900.0),), ((200.0, math.inf),)))),
        )
        for number in sorted(draw(st.sets(st.integers(1, 4), min_size=1)))
    ]
    tickets = [
        Ticket(
            uuid.UUID(int=n + 1),
            draw(st.sampled_from(CATS)),
            draw(st.sampled_from((0, 0, 1, 2))),
            NOW - timedelta(seconds=draw(st.integers(0, 600))),
            n,
            draw(st.booleans()) and draw(st.booleans()),
            draw(st.one_of(st.none(), st.none(), st.integers(1, 5))),
        )
        for n in range(draw(st.integers(0, 20)))
    ]
    arrivals = draw(
        st.lists(st.builds(Arrivals, st.sampled_from(CATS), st.integers(1, 3), st.floats(0.5, 12)))
    )
    return tickets, desks, arrivals


@given(halls(), st.sampled_from(CATS), st.integers(0, 3))
def test_a_newcomer_is_told_when_a_ticket_taken_now_would_be_called(
    hall: tuple[list[Ticket], list[Desk], list[Arrivals]], category: str, priority: int
) -> None:
    """The overview's "for a ticket taken now" is exactly the replay with that ticket in it."""
    tickets, desks, arrivals = hall
    means = {A: 150.0, B: 700.0, "enquiry": 260.0}
    told = forecast(
        tickets, desks, means, now=NOW, newcomers={category: priority}, arrivals=arrivals
    ).newcomer(category)
    taken = Ticket(uuid.UUID(int=10**6), category, priority, NOW, 10**6)
    then = forecast([*tickets, taken], desks, means, now=NOW, arrivals=arrivals).ticket(taken.id)
    assert told == then
