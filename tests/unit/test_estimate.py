from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.queueing.estimate import (
    ServiceTimeLearner,
    erlang_c,
    linear_rule,
    mean_wait_erlang,
    wait_for_position,
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


def test_position_wait_counts_own_turn_and_free_counters() -> None:
    assert wait_for_position(0, counters=2, free_counters=1, mean_service_s=300) == 0
    assert wait_for_position(0, counters=2, free_counters=0, mean_service_s=300) == 150
    assert wait_for_position(4, counters=2, free_counters=0, mean_service_s=300) == 750
    assert linear_rule(4, 2, 300) == 600
    assert wait_for_position(4, counters=0, free_counters=0, mean_service_s=300) is None


def test_no_shows_shorten_the_wait() -> None:
    plain = wait_for_position(10, counters=2, free_counters=0, mean_service_s=300)
    fewer = wait_for_position(10, counters=2, free_counters=0, mean_service_s=300, no_show_rate=0.2)
    assert plain is not None and fewer is not None and fewer < plain


def test_learner_moves_toward_observations() -> None:
    learner = ServiceTimeLearner(mean_s=300)
    for _ in range(30):
        learner.observe(120)
    assert learner.mean_s == pytest.approx(120, rel=0.05)


@given(st.integers(1, 50), st.floats(0, 49.9))
def test_erlang_c_is_a_probability(servers: int, load: float) -> None:
    assert 0.0 <= erlang_c(servers, load) <= 1.0
