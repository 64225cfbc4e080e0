"""A simulated hall day: the real queue engine driven by simulated customers and counters.

Discrete events on a simulated clock: Poisson arrivals whose rate varies by hour, service
times from a lognormal (skewed) distribution, counters opening and closing, customers who
do not come when called. Used by the estimate benchmark and by the demo (which paces it
against the wall clock so the board and screen can be watched).
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.queueing.engine import HallQueue, TicketView
from servicehall.demo.seed import city

# Arrivals per hour at each local hour: a morning and an afternoon peak.
ARRIVALS_PER_HOUR = {8: 25, 9: 65, 10: 80, 11: 60, 12: 30, 13: 40, 14: 65, 15: 60, 16: 35}
CATEGORY_MIX = {
    "payment": 0.5,
    "enquiry": 0.2,
    "repair_complaint": 0.14,
    "new_connection": 0.1,
    "vip": 0.06,
}
MEAN_SERVICE_S = {
    "payment": 150,
    "enquiry": 240,
    "repair_complaint": 420,
    "new_connection": 780,
    "vip": 300,
}


@dataclass
class SimClock:
    """Simulated time; ``speed`` > 0 paces it against the wall clock (the demo), 0 runs flat out."""

    now: datetime
    speed: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)

    def __call__(self) -> datetime:
        return self.now

    def advance_to(self, moment: datetime) -> None:
        if moment <= self.now:
            return
        if self.speed > 0:
            self.stop.wait((moment - self.now).total_seconds() / self.speed)
        self.now = moment


@dataclass(frozen=True)
class CounterShift:
    counter: int
    categories: tuple[str, ...]
    opens: int  # local hour
    closes: int
    lunch: tuple[int, int] | None = None  # local hours away


SHIFTS = (
    CounterShift(1, ("payment", "enquiry"), 8, 17, (12, 13)),
    CounterShift(2, ("payment", "enquiry"), 8, 17, (11, 12)),
    CounterShift(3, ("payment", "new_connection"), 8, 17, (12, 13)),
    CounterShift(4, ("repair_complaint",), 8, 17, (13, 14)),
    CounterShift(5, ("new_connection", "repair_complaint"), 9, 16, (12, 13)),
    CounterShift(6, ("vip", "payment"), 8, 17, (12, 13)),
)


@dataclass
class Estimate:
    number: str
    category: str
    people_ahead: int
    ours_s: float | None
    linear_s: float | None
    actual_s: float | None = None


@dataclass
class DayResult:
    estimates: dict[str, Estimate]
    issued: int = 0
    served: int = 0
    no_shows: int = 0

    def mean_absolute_errors(self) -> tuple[float, float, int]:
        pairs = [
            e
            for e in self.estimates.values()
            if e.actual_s is not None and e.ours_s is not None and e.linear_s is not None
        ]
        if not pairs:
            return math.nan, math.nan, 0
        ours = sum(abs(e.ours_s - e.actual_s) for e in pairs) / len(pairs)  # type: ignore[operator]
        linear = sum(abs(e.linear_s - e.actual_s) for e in pairs) / len(pairs)  # type: ignore[operator]
        return ours, linear, len(pairs)


def simulate_day(
    queue: HallQueue,
    clock: SimClock,
    day: date,
    *,
    seed: int = 7,
    scale: float = 1.0,
    no_show_rate: float = 0.08,
    shifts: tuple[CounterShift, ...] = SHIFTS,
    on_ticket: Callable[[TicketView], None] | None = None,
    on_call: Callable[[TicketView], None] | None = None,
) -> DayResult:
    """Run one hall day through ``queue``. ``scale`` multiplies the arrival rates."""
    rng = random.Random(seed)
    tz = ZoneInfo(queue.timezone.key)

    def at(hour: float) -> datetime:
        return datetime.combine(day, datetime.min.time(), tz) + timedelta(hours=hour)

    clock.now = at(7.99)
    events: list[tuple[datetime, int, str, tuple[object, ...]]] = []
    order = itertools.count()

    def schedule(moment: datetime, kind: str, *data: object) -> None:
        heapq.heappush(events, (moment, next(order), kind, data))

    # Arrivals: a Poisson process whose rate changes every hour (thinning is unnecessary: each hour
    # is drawn with its own rate).
    for hour, rate in ARRIVALS_PER_HOUR.items():
        moment = at(hour)
        end = at(hour + 1)
        while True:
            moment += timedelta(seconds=rng.expovariate(rate * scale / 3600))
            if moment >= end:
                break
            schedule(moment, "arrive")
    for shift in shifts:
        schedule(at(shift.opens), "open", shift)
        schedule(at(shift.closes), "close", shift)
        if shift.lunch:
            schedule(at(shift.lunch[0]), "close", shift)
            schedule(at(shift.lunch[1]), "open", shift)

    result = DayResult({})
    open_counters: set[int] = set()
    busy: set[int] = set()
    serving: dict[int, TicketView] = {}
    will_not_come: set[str] = set()

    def try_call(counter: int) -> None:
        if counter not in open_counters or counter in busy:
            return
        ticket = queue.call_next(counter)
        if ticket is None:
            schedule(clock.now + timedelta(seconds=30), "poll", counter)
            return
        busy.add(counter)
        serving[counter] = ticket
        estimate = result.estimates.get(ticket.number)
        if estimate is not None and estimate.actual_s is None:
            estimate.actual_s = (clock.now - ticket.issued_at).total_seconds()
        if on_call:
            on_call(ticket)
        if ticket.number in will_not_come:
            schedule(clock.now + timedelta(seconds=45), "recall", counter)
        else:
            schedule(
                clock.now + timedelta(seconds=rng.uniform(15, 45)),
                "start",
                counter,
                ticket.category,
            )

    while events and not clock.stop.is_set():
        moment, _, kind, data = heapq.heappop(events)
        clock.advance_to(moment)
        if kind == "arrive":
            category = rng.choices(list(CATEGORY_MIX), weights=list(CATEGORY_MIX.values()))[0]
            reason = "elderly" if rng.random() < 0.05 else None
            # VIP service is for key accounts, who show their card at the kiosk.
            card = city.VIP_CUSTOMERS[0][1] if category == "vip" else None
            ticket = queue.take_ticket(category, priority_reason=reason, vip_card=card)
            result.issued += 1
            result.estimates[ticket.number] = Estimate(
                ticket.number,
                category,
                ticket.people_ahead,
                ticket.estimate_s,
                ticket.linear_estimate_s,
            )
            if rng.random() < no_show_rate:
                will_not_come.add(ticket.number)
            if on_ticket:
                on_ticket(ticket)
            for counter in sorted(open_counters - busy):
                try_call(counter)
        elif kind == "open":
            opening = data[0]
            assert isinstance(opening, CounterShift)  # noqa: S101 - scheduled above
            shift = opening
            queue.sign_in(
                shift.counter, f"S{shift.counter:03d}", city.DEMO_STAFF_PIN, shift.categories
            )
            open_counters.add(shift.counter)
            try_call(shift.counter)
        elif kind == "close":
            closing = data[0]
            assert isinstance(closing, CounterShift)  # noqa: S101 - scheduled above
            shift = closing
            open_counters.discard(shift.counter)
            if shift.counter not in busy:
                queue.sign_out(shift.counter)
        elif kind == "poll":
            try_call(int(data[0]))  # type: ignore[call-overload]
        elif kind == "recall":
            counter = int(data[0])  # type: ignore[call-overload]
            if queue.recall(counter) is None:  # no-show after the last recall
                result.no_shows += 1
                busy.discard(counter)
                _after_service(queue, counter, open_counters, try_call)
            else:
                schedule(clock.now + timedelta(seconds=45), "recall", counter)
        elif kind == "start":
            counter, category = int(data[0]), str(data[1])  # type: ignore[call-overload]
            queue.start(counter)
            mean = MEAN_SERVICE_S.get(category, 300)
            sigma = 0.6
            duration = rng.lognormvariate(math.log(mean) - sigma**2 / 2, sigma)
            schedule(clock.now + timedelta(seconds=duration), "finish", counter)
        elif kind == "finish":
            counter = int(data[0])  # type: ignore[call-overload]
            queue.finish(counter, outcome="served")
            result.served += 1
            busy.discard(counter)
            finished = serving.pop(counter, None)
            if finished is not None and rng.random() < 0.6:  # most press a rating key
                queue.rate(
                    finished.ticket_id, rng.choices((5, 4, 3, 2, 1), weights=(55, 25, 12, 5, 3))[0]
                )
            _after_service(queue, counter, open_counters, try_call)
    return result


def _after_service(
    queue: HallQueue, counter: int, open_counters: set[int], try_call: Callable[[int], None]
) -> None:
    if counter in open_counters:
        try_call(counter)
    else:
        queue.sign_out(counter)
