"""The one call policy: who a counter calls next, and what "N people ahead" promises."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.queueing import policy
from domain.queueing.estimate import Desk, forecast
from domain.queueing.policy import CallQueues, Counter, Ticket

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
A, B, C = "payment", "enquiry", "repairs"


def ticket(
    n: int,
    category: str = A,
    *,
    priority: int = 0,
    since_s: float | None = None,
    seq: int | None = None,
    at_front: bool = False,
    to: int | None = None,
) -> Ticket:
    return Ticket(
        uuid.UUID(int=n),
        category,
        priority,
        T0 + timedelta(seconds=n if since_s is None else since_s),
        n if seq is None else seq,
        at_front,
        to,
    )


def numbers(tickets: list[Ticket]) -> list[int]:
    return [t.id.int for t in tickets]


def test_priority_then_front_then_longest_in_line_then_number() -> None:
    counter = Counter(1, frozenset({A, B}))
    tickets = [
        ticket(1, A),
        ticket(2, B, priority=1),
        ticket(3, A, at_front=True),
        ticket(4, B, since_s=0.5),
        ticket(5, A, priority=3),
        ticket(6, A, since_s=1, seq=0),  # same moment as ticket 1, lower number
    ]
    assert numbers(policy.call_order(tickets, counter)) == [5, 2, 3, 4, 6, 1]


def test_same_moment_same_number_is_decided_by_id() -> None:
    # A001 and D001 taken in the same instant: the order is still total.
    counter = Counter(1, frozenset({A, B}))
    first, second = ticket(7, B, since_s=0, seq=1), ticket(8, A, since_s=0, seq=1)
    assert numbers(policy.call_order([second, first], counter)) == [7, 8]


def test_a_counter_calls_what_was_sent_to_it_first_and_never_what_went_elsewhere() -> None:
    four = Counter(4, frozenset({C}))
    tickets = [
        ticket(1, C, priority=3),
        ticket(2, C, to=4),
        ticket(3, A, to=4),  # another service, but sent to this counter
        ticket(4, C, to=5),
        ticket(5, A),
    ]
    assert numbers(policy.call_order(tickets, four)) == [2, 3, 1]
    assert policy.next_for(tickets, Counter(9, frozenset({B}))) is None


def test_the_ticket_sent_to_counter_4_is_told_it_is_next() -> None:
    # The issue: a ticket transferred to counter 4 was told "4 ahead" and was then the
    # next one counter 4 called. The count and the call now come from the same rule.
    four, five = Counter(4, frozenset({C})), Counter(5, frozenset({C, B}))
    queue = [ticket(n, C) for n in range(1, 5)]
    sent = ticket(9, A, to=4)
    everyone = [*queue, sent]
    assert policy.people_ahead(everyone, sent, [four, five]) == 0
    assert policy.next_for(everyone, four) == sent
    # And someone waiting for repairs counts the transfer, which goes first at counter 4.
    assert policy.people_ahead(everyone, queue[1], [four, five]) == 2


def test_people_ahead_counts_every_counter_that_serves_it() -> None:
    # Counter 1 serves payment and enquiries: the earlier enquiry is ahead of the payment
    # ticket there. Counter 2 (payment only) does not make it two.
    counters = [Counter(1, frozenset({A, B})), Counter(2, frozenset({A}))]
    tickets = [ticket(1, B), ticket(2, C), ticket(3, A), ticket(4, A)]
    assert policy.people_ahead(tickets, tickets[3], counters) == 2
    assert policy.people_ahead(tickets, tickets[2], counters) == 1
    assert policy.people_ahead(tickets, tickets[1], counters) == 0  # nobody serves it here


# --- properties over generated halls -------------------------------------------------------

CATEGORIES = (A, B, C)
COUNTER_IDS = (1, 2, 3, 4)


@st.composite
def halls(draw: st.DrawFn) -> tuple[list[Ticket], list[Counter]]:
    counters = [
        Counter(number, frozenset(draw(st.sets(st.sampled_from(CATEGORIES), min_size=1))))
        for number in draw(st.sets(st.sampled_from(COUNTER_IDS), min_size=1))
    ]
    size = draw(st.integers(1, 25))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=size, max_size=size, unique=True))
    tickets = [
        Ticket(
            uuid.UUID(int=n),
            draw(st.sampled_from(CATEGORIES)),
            draw(st.sampled_from((0, 0, 0, 1, 2, 3))),
            T0 + timedelta(seconds=draw(st.integers(0, 8))),  # ties on purpose
            draw(st.integers(1, 6)),
            draw(st.booleans()) and draw(st.booleans()),
            draw(st.one_of(st.none(), st.none(), st.sampled_from((*COUNTER_IDS, 7)))),
        )
        for n in ids
    ]
    return tickets, counters


@given(halls(), st.data())
def test_call_queues_call_what_the_policy_says(
    hall: tuple[list[Ticket], list[Counter]], data: st.DataObject
) -> None:
    tickets, counters = hall
    queues = CallQueues(tickets)
    remaining = list(tickets)
    for _ in range(len(tickets) + 3):
        counter = data.draw(st.sampled_from(counters))
        expected = policy.next_for(remaining, counter)
        assert queues.peek(counter) == expected
        taken = queues.take(counter)
        assert (taken[1] if taken else None) == expected
        if expected is not None:
            remaining.remove(expected)
        assert len(queues) == len(remaining)


@given(halls(), st.data())
def test_told_n_ahead_called_after_at_most_n_calls_at_its_counters(
    hall: tuple[list[Ticket], list[Counter]], data: st.DataObject
) -> None:
    """Whatever the counters do, and whoever arrives behind it, the promise holds."""
    tickets, counters = hall
    me = data.draw(st.sampled_from(tickets))
    mine = policy.serving(me, counters)
    assume(mine)
    promised = policy.people_ahead(tickets, me, counters)
    remaining = list(tickets)
    calls_before = 0
    arrivals = 0
    # Some calls at any counter, and arrivals of no higher priority, in any order …
    steps = data.draw(st.lists(st.one_of(st.sampled_from(counters), st.sampled_from(CATEGORIES))))
    # … then its own counters keep calling until it is called.
    steps += [mine[0]] * (len(tickets) + len(steps))
    for step in steps:
        if isinstance(step, str):
            arrivals += 1
            priority = data.draw(st.integers(0, me.priority))
            late = T0 + timedelta(hours=1, seconds=arrivals)
            remaining.append(Ticket(uuid.UUID(int=20_000 + arrivals), step, priority, late, 1))
            continue
        called = policy.next_for(remaining, step)
        if called is None:
            continue
        remaining.remove(called)
        if called == me:
            break
        if step in mine:
            calls_before += 1
    else:
        pytest.fail("never called")
    assert calls_before <= promised


@given(halls())
def test_the_replay_calls_in_policy_order(hall: tuple[list[Ticket], list[Counter]]) -> None:
    tickets, counters = hall
    counter = counters[0]
    plan = forecast(tickets, [Desk(counter.id, counter.serves)], {}, now=T0, default_s=60)
    order = policy.call_order(tickets, counter)
    assert [plan.ticket(t.id) for t in order] == [60.0 * i for i in range(len(order))]
    assert all(plan.ticket(t.id) is None for t in tickets if t not in order)


@given(halls(), st.data())
def test_the_replay_calls_within_the_people_ahead(
    hall: tuple[list[Ticket], list[Counter]], data: st.DataObject
) -> None:
    """N ahead and a minute per call: called within N minutes, and only if a counter serves it."""
    tickets, counters = hall
    me = data.draw(st.sampled_from(tickets))
    desks = [Desk(c.id, c.serves) for c in counters]
    wait = forecast(tickets, desks, {}, now=T0, default_s=60).ticket(me.id)
    if not policy.serving(me, counters):
        assert wait is None
        return
    assert wait is not None
    assert wait <= 60.0 * policy.people_ahead(tickets, me, counters)
