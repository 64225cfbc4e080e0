from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.queueing.estimate import (
    Desk,
    ServiceTimeLearner,
    Waiter,
    erlang_c,
    linear_rule,
    mean_wait_erlang,
    replay_wait,
)

pytestmark = pytest.mark.unit


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


A, B = "payment", "new_connection"


def test_replay_free_counter_calls_at_once() -> None:
    desks = [Desk(1, frozenset({A}))]
    assert replay_wait([Waiter(A)], 0, desks, {A: 120}) == 0


def test_replay_waits_for_the_work_ahead_on_the_counters_that_serve_it() -> None:
    desks = [Desk(1, frozenset({A})), Desk(2, frozenset({A}))]
    queue = [Waiter(A)] * 4 + [Waiter(A)]
    # Two counters, four people ahead at 120 s each: the fifth is called at 240 s.
    assert replay_wait(queue, 4, desks, {A: 120}) == 240


def test_replay_a_shared_counter_is_taken_by_the_longer_wait() -> None:
    # Counter 1 serves A only, counter 2 serves A and B; three B tickets are ahead of us.
    desks = [Desk(1, frozenset({A})), Desk(2, frozenset({A, B}))]
    queue = [Waiter(B), Waiter(B), Waiter(B), Waiter(A)]
    # Counter 2 works through the B queue; counter 1 takes us at once.
    assert replay_wait(queue, 3, desks, {A: 120, B: 900}) == 0
    # With counter 1 busy for another 100 s, we wait for it, not for counter 2's B work.
    busy = [Desk(1, frozenset({A}), busy_category=A, busy_for_s=20), Desk(2, frozenset({A, B}))]
    assert replay_wait(queue, 3, busy, {A: 120, B: 900}) == 100


def test_replay_transfers_to_a_counter_and_no_counter() -> None:
    desks = [Desk(1, frozenset({A})), Desk(2, frozenset({A}))]
    sent = [Waiter(A, target_counter=2), Waiter(A, target_counter=2), Waiter(A)]
    assert replay_wait(sent, 2, desks, {A: 100}) == 0  # counter 1 is free for us
    assert replay_wait([Waiter(B)], 0, desks, {A: 100}) is None


def test_no_shows_shorten_the_wait() -> None:
    desks = [Desk(1, frozenset({A}))]
    queue = [Waiter(A)] * 10 + [Waiter(A)]
    plain = replay_wait(queue, 10, desks, {A: 300})
    fewer = replay_wait(queue, 10, desks, {A: 300}, no_show_rate=0.2)
    assert plain is not None and fewer is not None and fewer < plain


def test_learner_moves_toward_observations() -> None:
    learner = ServiceTimeLearner(mean_s=300)
    for _ in range(30):
        learner.observe(120)
    assert learner.mean_s == pytest.approx(120, rel=0.05)


@given(st.integers(1, 50), st.floats(0, 49.9))
def test_erlang_c_is_a_probability(servers: int, load: float) -> None:
    assert 0.0 <= erlang_c(servers, load) <= 1.0
