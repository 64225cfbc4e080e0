"""How long until a ticket is called.

The common linear rule is ``people ahead × mean service time ÷ counters``. Erlang C gives
the M/M/n wait of a random arrival for a pool of identical counters. A utility hall is not
such a pool: counters serve overlapping sets of categories and call the longest wait among
them, so a long queue in one category ties up the counters it shares with others. The
estimate printed on a ticket therefore replays the hall's own call policy from the current
state (``replay_wait``) with service times learned from today's services and today's
no-show rate. ``bench/queue_estimates.py`` measures it against the linear rule.
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


@dataclass
class Calibration:
    """What the waits actually were, as a multiple of what was printed (EWMA, clamped)."""

    ratio: float = 1.0
    weight: float = 0.1
    observations: int = 0

    def observe(self, estimated_s: float, actual_s: float) -> None:
        if estimated_s < 60:  # "called at once" says little about the scale of the error
            return
        sample = min(max(actual_s / estimated_s, 0.25), 4.0)
        weight = max(self.weight, 1.0 / (self.observations + 2))
        self.ratio += weight * (sample - self.ratio)
        self.observations += 1

    def apply(self, estimate_s: float | None) -> float | None:
        return None if estimate_s is None else estimate_s * self.ratio


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


@dataclass(frozen=True)
class Waiter:
    """A waiting ticket as the estimator sees it, in call order (earlier in the list = called first)."""

    category: object
    target_counter: object | None = None


@dataclass(frozen=True)
class Desk:
    """An open counter: what it serves, and the service under way (None when free)."""

    counter: object
    serves: frozenset[object]
    busy_category: object | None = None
    busy_for_s: float = 0.0


def replay_wait(
    queue: list[Waiter],
    me: int,
    desks: list[Desk],
    mean_s: dict[object, float],
    *,
    no_show_rate: float = 0.0,
    no_show_cost_s: float = 90.0,
) -> float | None:
    """Seconds until ``queue[me]`` is called, by replaying the hall's own call policy.

    Each counter, when it frees up, takes the first ticket in call order that it serves
    (or that was sent to it), and is busy for that category's expected time: the learned
    mean, or the recall time when the customer does not come. Counters that serve several
    categories and a long queue in one of them are where a pooled model (Erlang C, the
    linear rule) goes wrong; the replay follows what will actually happen, given the means.
    None when no open counter serves the ticket.
    """
    shown = 1.0 - min(max(no_show_rate, 0.0), 0.9)
    free_at = {}
    for desk in desks:
        if desk.busy_category is None:
            free_at[desk.counter] = 0.0
        else:
            mean = mean_s.get(desk.busy_category, 300.0)
            # A service already running long is likely to run on a while yet (skewed times).
            free_at[desk.counter] = max(mean - desk.busy_for_s, 0.3 * mean)
    serves = {desk.counter: desk.serves for desk in desks}
    waiting = list(enumerate(queue[: me + 1]))
    while free_at:
        counter = min(free_at, key=lambda c: free_at[c])
        pick = next(
            (
                index
                for index, (_, w) in enumerate(waiting)
                if w.target_counter == counter
                or (w.target_counter is None and w.category in serves[counter])
            ),
            None,
        )
        if pick is None:
            del free_at[counter]  # nothing left in front of us that this counter would take
            continue
        position, waiter = waiting.pop(pick)
        if position == me:
            return free_at[counter]
        free_at[counter] += (
            shown * mean_s.get(waiter.category, 300.0) + (1.0 - shown) * no_show_cost_s
        )
    return None
