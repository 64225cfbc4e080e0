"""The hall's call policy, written once: who a counter calls next, and who is ahead of whom.

Plain values in, an order out: no database, no clock. The engine's SQL for "next"
(``views.call_candidates``), the people-ahead count on a ticket and the replay behind the
wait estimates (``estimate.forecast``) all rest on this module, and tests hold the SQL to
it on SQLite and PostgreSQL.

The rule, for counter *c*:

1. *c* may call a ticket sent to it (``target_counter == c``), or a ticket sent to no
   counter whose category *c* serves now. A ticket sent to another counter is not *c*'s.
2. Tickets sent to *c* come before the rest (a parked customer returning, a transfer to
   this counter): the counter asked for them.
3. Then, within each of those two groups, by ``call_key``: higher priority first
   (appointment > VIP > elderly/disabled > everyone else), a ticket put at the front, the
   longest in line (``queued_since``), the lower number, and the id so the order is total
   (two tickets of different services can be taken in the same microsecond).

Because the key is the same for every counter, a hall's whole waiting list can be sorted
once; a counter's order is that list filtered by rule 1, with rule 2's tickets first.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

Category = Hashable
CounterId = Hashable
CallKey = tuple[int, bool, datetime, int, uuid.UUID]
Heap = list[tuple[CallKey, "Ticket"]]


@dataclass(frozen=True, slots=True)
class Ticket:
    """A waiting ticket, as the policy sees it."""

    id: uuid.UUID
    category: Category
    priority: int
    queued_since: datetime
    seq: int
    at_front: bool = False
    target_counter: CounterId | None = None


@dataclass(frozen=True, slots=True)
class Counter:
    """An open counter and the categories it serves now."""

    id: CounterId
    serves: frozenset[Category]


def call_key(ticket: Ticket) -> CallKey:
    """Smaller is called first, among the tickets a counter may call (rule 3)."""
    return (-ticket.priority, not ticket.at_front, ticket.queued_since, ticket.seq, ticket.id)


def may_call(counter: Counter, ticket: Ticket) -> bool:
    """Rule 1: is ``ticket`` one that ``counter`` may call?"""
    if ticket.target_counter is not None:
        return ticket.target_counter == counter.id
    return ticket.category in counter.serves


def rank(counter: Counter, ticket: Ticket) -> tuple[bool, CallKey]:
    """Where ``ticket`` stands at ``counter`` (rules 2 and 3); only for tickets it may call."""
    return (ticket.target_counter != counter.id, call_key(ticket))


def call_order(tickets: Iterable[Ticket], counter: Counter) -> list[Ticket]:
    """The tickets ``counter`` may call, in the order it would call them."""
    return sorted((t for t in tickets if may_call(counter, t)), key=lambda t: rank(counter, t))


def next_for(tickets: Iterable[Ticket], counter: Counter) -> Ticket | None:
    """The ticket ``counter`` calls next, or None when it may call none of them."""
    return min(
        (t for t in tickets if may_call(counter, t)),
        key=lambda t: rank(counter, t),
        default=None,
    )


def serving(ticket: Ticket, counters: Iterable[Counter]) -> list[Counter]:
    """The counters among ``counters`` that may call ``ticket``."""
    return [c for c in counters if may_call(c, ticket)]


def people_ahead(tickets: Iterable[Ticket], ticket: Ticket, counters: Sequence[Counter]) -> int:
    """How many calls at the counters that may call ``ticket`` can come before it.

    The tickets that some counter serving ``ticket`` would call before it. Each call takes
    one of them; once they are gone, ``ticket`` is first at every such counter. So it is
    called after at most this many calls at those counters — as long as nobody new arrives
    ahead of it (a higher priority, a transfer to the front or to one of those counters).
    Calls at other counters can only take some of them away. Zero when no counter in
    ``counters`` may call it: there is nobody to count calls at.
    """
    mine = serving(ticket, counters)
    if not mine:
        return 0
    mine_ids = {c.id for c in mine}
    if ticket.target_counter is not None:
        # Only its counter calls it, and there only those sent to it come first.
        key = call_key(ticket)
        return sum(
            1 for t in tickets if t.target_counter == ticket.target_counter and call_key(t) < key
        )
    served = frozenset().union(*(c.serves for c in mine))
    key = call_key(ticket)
    # (``ticket`` itself is neither sent to a counter nor before its own key.)
    return sum(
        1
        for t in tickets
        if t.target_counter in mine_ids  # sent to one of its counters: always first there
        or (t.target_counter is None and t.category in served and call_key(t) < key)
    )


class CallQueues:
    """The waiting tickets kept so that "who does this counter call next" is cheap.

    The replay of a whole hall calls this once per simulated call: a heap per category for
    the tickets sent to no counter, and one per counter for the tickets sent to it. The
    next ticket for a counter is the head of its own heap, else the best head among the
    categories it serves — the same answer as ``next_for`` over the whole list, in
    O(categories served + log n) instead of O(n).
    """

    def __init__(self, tickets: Iterable[Ticket] = ()) -> None:
        self._by_category: dict[Category, Heap] = {}
        self._by_counter: dict[CounterId, Heap] = {}
        self._for_counter: dict[CounterId, tuple[Heap, list[Heap]]] = {}
        self._size = 0
        for ticket in tickets:
            if ticket.target_counter is not None:
                heap = self._by_counter.setdefault(ticket.target_counter, [])
            else:
                heap = self._by_category.setdefault(ticket.category, [])
            heap.append((call_key(ticket), ticket))
            self._size += 1
        for heap in (*self._by_category.values(), *self._by_counter.values()):
            heapq.heapify(heap)

    def __len__(self) -> int:
        return self._size

    def add(self, ticket: Ticket) -> None:
        if ticket.target_counter is not None:
            heap = self._by_counter.setdefault(ticket.target_counter, [])
        else:
            heap = self._by_category.setdefault(ticket.category, [])
        heapq.heappush(heap, (call_key(ticket), ticket))
        self._size += 1

    def _heaps(self, counter: Counter) -> tuple[Heap, list[Heap]]:
        """The heaps ``counter`` calls from (made empty when missing, so later adds land there)."""
        found = self._for_counter.get(counter.id)
        if found is None:
            own = self._by_counter.setdefault(counter.id, [])
            found = (own, [self._by_category.setdefault(c, []) for c in counter.serves])
            self._for_counter[counter.id] = found
        return found

    def _best(self, counter: Counter) -> Heap | None:
        own, categories = self._heaps(counter)
        if own:
            return own
        best: Heap | None = None
        for heap in categories:
            if heap and (best is None or heap[0][0] < best[0][0]):
                best = heap
        return best

    def peek(self, counter: Counter) -> Ticket | None:
        """The ticket ``counter`` would call next, left in place."""
        heap = self._best(counter)
        return heap[0][1] if heap else None

    def take(self, counter: Counter) -> tuple[CallKey, Ticket] | None:
        """The ticket ``counter`` calls next (with its key), removed; None when it may call none."""
        heap = self._best(counter)
        if not heap:
            return None
        self._size -= 1
        return heapq.heappop(heap)
