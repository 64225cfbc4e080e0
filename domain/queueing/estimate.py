"""How long until a ticket is called.

The common linear rule is ``people ahead × mean service time ÷ counters``. Erlang C gives
the M/M/n wait of a random arrival for a pool of identical counters. A utility hall is not
such a pool: counters serve overlapping sets of categories and call by priority and then
the longest wait among them, so a long queue in one category ties up the counters it
shares with others. The estimate therefore replays the hall's own call policy
(``domain.queueing.policy``) forward from the current state — ``forecast`` — once for the
whole hall, giving every waiting ticket, and a ticket of each category taken now, its call
time. What the replay charges a counter for each call is learned from today:

* the time a counter is taken per call: from the call to the finish (the walk to the
  counter is part of it), per category, as an exponentially weighted mean;
* the share of called customers who do not come, and how long a counter spends
  recalling them before giving up;
* for the counter's current customer, the expected time left given how long it has
  already taken (skewed service times: a service running long is likely to run on);
* people who will arrive with a higher priority and go ahead (elderly, VIP,
  appointments): today's rate of such arrivals per category over the last hour, replayed
  as expected arrivals at evenly spaced times.

Counters keep a roster (lunch in turn, shifts ending): ``expected_desk`` turns the roster
of a recent day into when each counter is expected away and back, and the replay waits
for it. A per-category ``Calibration`` (actual ÷ printed wait) is still measured, but no
longer applied: once the above were modelled, scaling by it made the estimates worse.
``bench/queue_estimates.py`` measures the result against the linear rule.
"""

from __future__ import annotations

import collections
import heapq
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from domain.queueing.policy import CallKey, CallQueues, Category, CounterId, Ticket
from domain.queueing.policy import Counter as PolicyCounter


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
    """Exponentially weighted mean of observed durations, starting from a default.

    The last ``keep`` durations are kept as well, for the time left of one under way.
    """

    mean_s: float
    weight: float = 0.15
    observations: int = 0
    keep: int = 60
    recent: collections.deque[float] = field(default_factory=collections.deque)

    def observe(self, seconds: float) -> None:
        if seconds <= 0 or math.isnan(seconds):
            return
        # The first few observations count more, so the estimate leaves the default quickly.
        weight = max(self.weight, 1.0 / (self.observations + 2))
        self.mean_s += weight * (seconds - self.mean_s)
        self.observations += 1
        self.recent.append(seconds)
        if len(self.recent) > self.keep:
            self.recent.popleft()

    def remaining_s(self, elapsed_s: float) -> float:
        """Expected time left of one that has run ``elapsed_s`` so far.

        The mean of (duration − elapsed) over today's durations longer than that (the
        mean residual life, read off the data); with too few of those, the mean minus the
        elapsed time, but never less than a quarter of the mean.
        """
        longer = [d - elapsed_s for d in self.recent if d > elapsed_s]
        if len(longer) >= 5:
            return sum(longer) / len(longer)
        return max(self.mean_s - elapsed_s, 0.25 * self.mean_s)


@dataclass(frozen=True)
class Desk:
    """A counter in the replay: what it serves, when it is next free, when it will be away.

    ``free_in_s``: when the current customer is done (0 when free), or, for a counter
    closed now that the roster expects back, when it opens. ``away``: (from, until) in
    seconds from now when it is expected to be closed (lunch, the end of its shift; until
    may be ``inf``). ``open_now``: staffed and not paused at this moment.
    """

    counter: CounterId
    serves: frozenset[Category]
    free_in_s: float = 0.0
    away: tuple[tuple[float, float], ...] = ()
    open_now: bool = True


@dataclass(frozen=True)
class Shift:
    """One stretch a counter was open on a recent day: local seconds since midnight."""

    opens_s: float
    closes_s: float
    serves: frozenset[Category]


def expected_desk(
    counter: CounterId,
    shifts: Sequence[Shift],
    now_s: float,
    serves_now: frozenset[Category] | None,
    free_in_s: float = 0.0,
) -> Desk | None:
    """A counter as the replay should expect it, from its roster on a recent day.

    Halls keep a roster: counters go to lunch in turn and close at the end of their shift
    at about the same times every day. ``shifts`` is what the counter did on the last day
    it worked (sorted); ``now_s`` the local time of day. An open counter (``serves_now``)
    inside one of those shifts is expected to close when that shift ended and to come back
    for the later ones; one open outside them is taken to stay open. A closed counter is
    expected at its next shift today, serving what it served then; None when there is none.
    """
    later = [s for s in shifts if s.opens_s > now_s]
    if serves_now:
        current = next((s for s in shifts if s.opens_s <= now_s < s.closes_s), None)
        if current is None:
            return Desk(counter, serves_now, free_in_s)
        return Desk(counter, serves_now, free_in_s, _away(current.closes_s, later, now_s))
    if not later:
        return None
    first = later[0]
    return Desk(
        counter, first.serves, first.opens_s - now_s, _away(first.closes_s, later[1:], now_s), False
    )


def _away(closes_s: float, later: Sequence[Shift], now_s: float) -> tuple[tuple[float, float], ...]:
    away = []
    for shift in later:
        if shift.opens_s > closes_s:
            away.append((closes_s - now_s, shift.opens_s - now_s))
        closes_s = max(closes_s, shift.closes_s)
    away.append((closes_s - now_s, math.inf))
    return tuple(away)


@dataclass(frozen=True)
class Arrivals:
    """People expected to take tickets of ``category`` with ``priority`` (> 0): they go ahead."""

    category: Category
    priority: int
    per_hour: float


@dataclass(frozen=True)
class Forecast:
    """When each waiting ticket, and a ticket of each category taken now, will be called.

    Seconds from now; a ticket no open counter may call has no entry (``None``).
    """

    called_in_s: Mapping[uuid.UUID, float]
    newcomer_s: Mapping[Category, float]
    elapsed_s: float = 0.0  # since the replay: every wait is that much shorter

    def ticket(self, ticket_id: uuid.UUID) -> float | None:
        return self._left(self.called_in_s.get(ticket_id))

    def newcomer(self, category: Category) -> float | None:
        return self._left(self.newcomer_s.get(category))

    def later(self, seconds: float) -> Forecast:
        """The same replay read ``seconds`` after it was made."""
        return replace(self, elapsed_s=self.elapsed_s + seconds)

    def _left(self, wait_s: float | None) -> float | None:
        return None if wait_s is None else max(wait_s - self.elapsed_s, 0.0)


_LAST_ID = uuid.UUID(int=(1 << 128) - 1)


def newcomer_key(priority: int, now: datetime) -> CallKey:
    """The call key of a ticket taken now: behind everyone already in line at its priority."""
    return (-priority, True, now, 1 << 62, _LAST_ID)


def forecast(
    tickets: Sequence[Ticket],
    desks: Sequence[Desk],
    per_call_s: Mapping[Any, float],
    *,
    now: datetime,
    newcomers: Mapping[Any, int] | None = None,
    arrivals: Sequence[Arrivals] = (),
    default_s: float = 300.0,
    horizon_s: float = 6 * 3600.0,
) -> Forecast:
    """Replay the call policy forward from now, once, for the whole hall.

    Each counter, when it is free, calls what ``CallQueues`` says it calls next and is then
    busy for ``per_call_s`` of that ticket's category (the expected counter time of one
    call, no-shows included). ``newcomers`` maps a category to the priority a ticket taken
    now would have; its call time is the first moment a counter that serves the category
    is free and would call someone behind it (or nobody): from then on that counter would
    have called the newcomer instead. ``arrivals`` are replayed as people joining ahead
    at evenly spaced times, up to ``horizon_s``.
    """
    counters = [PolicyCounter(desk.counter, desk.serves) for desk in desks]
    open_ids = {c.id for c in counters}
    served = frozenset().union(*(c.serves for c in counters))
    queues = CallQueues(tickets)
    pending = sum(
        1
        for t in tickets
        if (t.target_counter in open_ids if t.target_counter is not None else t.category in served)
    )
    newcomer_keys = {
        category: newcomer_key(priority, now)
        for category, priority in (newcomers or {}).items()
        if category in served
    }
    # Per counter, the newcomers whose call time it may still decide.
    undecided = [[(k, newcomer_keys[k]) for k in c.serves if k in newcomer_keys] for c in counters]
    called: dict[uuid.UUID, float] = {}
    newcomer_s: dict[Category, float] = {}

    # Expected arrivals ahead: (when, stream) in a heap, each stream evenly spaced. They are
    # told apart from real tickets by a negative number.
    streams = [a for a in arrivals if a.per_hour > 0 and a.priority > 0]
    upcoming = [(1800.0 / a.per_hour, i) for i, a in enumerate(streams)]
    heapq.heapify(upcoming)
    budget = 100  # expected arrivals replayed at most (a busy hall's priority arrivals in 6 h)

    free = [(max(desk.free_in_s, 0.0), index) for index, desk in enumerate(desks)]
    heapq.heapify(free)
    while free and (pending or len(newcomer_s) < len(newcomer_keys)):
        moment, index = heapq.heappop(free)
        while upcoming and upcoming[0][0] <= moment and budget > 0:
            at, stream_index = heapq.heappop(upcoming)
            stream = streams[stream_index]
            budget -= 1
            queues.add(
                Ticket(
                    _phantom_id(budget),
                    stream.category,
                    stream.priority,
                    now + timedelta(seconds=at),
                    -1,
                )
            )
            if at <= horizon_s:
                heapq.heappush(upcoming, (at + 3600.0 / stream.per_hour, stream_index))
        back = _back_from_away(desks[index].away, moment)
        if back is not None:
            if back != math.inf:
                heapq.heappush(free, (back, index))
            continue
        counter = counters[index]
        entry = queues.take(counter)
        if undecided[index]:
            # From now on this counter would call a newcomer before what it calls next
            # (or it has nothing to call): that is the newcomer's call time.
            still = []
            for category, key in undecided[index]:
                if category in newcomer_s:
                    continue
                if entry is None or (entry[1].target_counter is None and entry[0] > key):
                    newcomer_s[category] = moment
                else:
                    still.append((category, key))
            undecided[index] = still
        if entry is None:
            # Nothing for this counter now; someone expected may yet arrive for it.
            if upcoming and budget > 0:
                heapq.heappush(free, (max(upcoming[0][0], moment), index))
            continue
        ticket = entry[1]
        if ticket.seq >= 0:
            called[ticket.id] = moment
            pending -= 1
        heapq.heappush(free, (moment + per_call_s.get(ticket.category, default_s), index))
    return Forecast(called, newcomer_s)


def _back_from_away(away: tuple[tuple[float, float], ...], moment: float) -> float | None:
    """When the counter is back, if it is away at ``moment`` (``inf``: not today)."""
    for start, end in away:
        if start <= moment < end:
            return end
    return None


def _phantom_id(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)
