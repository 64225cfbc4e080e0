"""How long until a ticket is called: queueing theory where it fits, corrected by what is observed.

The common linear rule is ``people ahead × mean service time ÷ counters``. For FCFS with
``n`` counters, a customer with ``k`` people ahead waits for ``k + 1 − free`` departures, each
arriving at rate ``n / s`` while all counters are busy (M/M/n), so the expected wait is
``(k + 1 − free) · s / n``: the linear rule forgets the customer's own turn and the counters
that are already free. People ahead who will not show up (no-shows) are discounted, and the
mean service time is learned from today's services.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability an arrival has to wait in M/M/n (Erlang C); 1.0 when the queue is unstable."""
    if servers <= 0:
        return 1.0
    if offered_load >= servers:
        return 1.0
    term = 1.0
    total = 1.0
    for k in range(1, servers):
        term *= offered_load / k
        total += term
    top = term * offered_load / servers * servers / (servers - offered_load)
    return top / (total + top)


def mean_wait_erlang(servers: int, arrivals_per_s: float, mean_service_s: float) -> float | None:
    """Expected wait of a random arrival, M/M/n; None when the queue grows without bound."""
    load = arrivals_per_s * mean_service_s
    if servers <= 0 or load >= servers:
        return None
    return erlang_c(servers, load) * mean_service_s / (servers - load)


def linear_rule(people_ahead: int, counters: float, mean_service_s: float) -> float | None:
    """The baseline many halls print: people ahead × mean service time ÷ counters."""
    if counters <= 0:
        return None
    return people_ahead * mean_service_s / counters


def wait_for_position(
    people_ahead: int,
    *,
    counters: float,
    free_counters: float,
    mean_service_s: float,
    no_show_rate: float = 0.0,
) -> float | None:
    """Expected seconds until a ticket with ``people_ahead`` is called (state-dependent M/M/n)."""
    if counters <= 0:
        return None
    expected_ahead = people_ahead * (1.0 - min(max(no_show_rate, 0.0), 0.9))
    departures_needed = max(0.0, expected_ahead + 1.0 - max(free_counters, 0.0))
    return departures_needed * mean_service_s / counters


@dataclass
class ServiceTimeLearner:
    """Exponentially weighted mean of observed service times, starting from the category's default."""

    mean_s: float
    weight: float = 0.15
    observations: int = 0

    def observe(self, seconds: float) -> None:
        if seconds <= 0 or math.isnan(seconds):
            return
        # The first few observations count more, so the estimate leaves the default quickly.
        weight = max(self.weight, 1.0 / (self.observations + 2))
        self.mean_s += weight * (seconds - self.mean_s)
        self.observations += 1
