"""Service-level deadlines per category and priority, how close an order is to them, and
what to do about it.

Each order has three clocks from ``opened_at`` (intake or the last reopen): **arrive** (the
crew on site; for desk categories — enquiry, complaint, misconduct — the first answer to
the customer), **restore** (the field's report: supply back, fault fixed, complaint
answered) and **close** (销账). A clock is met when its milestone happened before its
deadline; escalation raises the priority but keeps the deadlines set at intake
(``OrderState.sla_priority``) — an escalated order is not given a shorter, already-breached
target.

Defaults. The numbers are ours and configurable (``SlaPolicy.with_target``); they were
shaped after the public service commitments (供水服务承诺) Chinese city water companies
publish and GB/T 32063 《城镇供水服务》: urgent leaks and bursts "抢修人员日间 60 分钟内、
夜间 90 分钟内到达现场" or "市区二环内 45 分钟" and small repairs (DN100 以下) within 24 h,
large ones 30–48 h; questions about pressure or an unexplained outage answered within 4 h;
water-quality complaints within 24 h; metering and billing queries within 2 days;
complaints answered the same day, at most 3–10 days in special cases. A P1 burst main is
set tighter than those (arrive 30 min, restore 4 h) because it is the order that floods a
street; check the local utility's own published commitments before going live.

Spans are in clock time (emergencies do not wait for Monday) or in working time (a meter
query's "2 working days" counts only the calendar's working hours, 08:30–17:30 Beijing
time, Monday–Friday, with holidays and make-up working days (调休) as given).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from field_dispatch.orders import OrderState, PriorityRaised
from field_dispatch.vocabulary import MOST_URGENT, PRIORITIES, Actor, Category, Status

BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class WorkingCalendar:
    """Working hours in local time; ``holidays`` are days off, ``extra_workdays`` are 调休 days."""

    tz: ZoneInfo = BEIJING
    day_start: time = time(8, 30)
    day_end: time = time(17, 30)
    holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()

    @property
    def day_seconds(self) -> float:
        start = datetime.combine(date.min, self.day_start)
        return (datetime.combine(date.min, self.day_end) - start).total_seconds()

    def is_workday(self, day: date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.day_start, self.tz),
            datetime.combine(day, self.day_end, self.tz),
        )

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` of working time after ``start``."""
        local = start.astimezone(self.tz)
        day = local.date()
        left = seconds
        for _ in range(3660):  # ten years of days: a policy of more is a configuration error
            if self.is_workday(day):
                opens, closes = self._window(day)
                begin = max(opens, local)
                if begin < closes:
                    available = (closes - begin).total_seconds()
                    if left <= available:
                        return (begin + timedelta(seconds=left)).astimezone(start.tzinfo)
                    left -= available
            day += timedelta(days=1)
            local = datetime.combine(day, time.min, self.tz)
        raise ValueError("working-time span too long for the calendar")

    def between(self, start: datetime, end: datetime) -> float:
        """Working seconds from ``start`` to ``end`` (0 when end is not after start)."""
        if end <= start:
            return 0.0
        total = 0.0
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            if self.is_workday(day):
                opens, closes = self._window(day)
                begin, finish = max(opens, start), min(closes, end)
                if finish > begin:
                    total += (finish - begin).total_seconds()
            day += timedelta(days=1)
        return total


@dataclass(frozen=True)
class Span:
    seconds: float
    working: bool = False  # counted in the calendar's working hours

    @classmethod
    def minutes(cls, n: float) -> Span:
        return cls(n * 60)

    @classmethod
    def hours(cls, n: float) -> Span:
        return cls(n * 3600)

    @classmethod
    def working_days(cls, n: float, calendar: WorkingCalendar | None = None) -> Span:
        return cls(n * (calendar or WorkingCalendar()).day_seconds, working=True)


@dataclass(frozen=True)
class SlaTarget:
    arrive: Span
    restore: Span
    close: Span


def _by_priority(*targets: SlaTarget) -> dict[int, SlaTarget]:
    return dict(zip(PRIORITIES, targets, strict=True))


_M, _H, _W = Span.minutes, Span.hours, Span.working_days

# What a priority means when the category says nothing more specific.
GENERIC = _by_priority(
    SlaTarget(_M(30), _H(4), _H(24)),
    SlaTarget(_H(1), _H(12), _H(48)),
    SlaTarget(_H(4), _H(24), _W(3)),
    SlaTarget(_W(2), _W(3), _W(5)),
    SlaTarget(_W(5), _W(10), _W(15)),
)
_FIELD_EMERGENCY = _by_priority(
    SlaTarget(_M(30), _H(4), _H(24)),  # 爆管: the street floods
    SlaTarget(_M(45), _H(8), _H(48)),  # "市区 45 分钟到达"
    SlaTarget(_H(1), _H(24), _H(72)),  # "日间 60 分钟内到达", small repair 24 h
    SlaTarget(_H(2), _H(48), _W(5)),  # large repair 30–48 h
    SlaTarget(_H(4), _H(48), _W(5)),
)
_DESK = _by_priority(  # first answer, full answer, closed
    SlaTarget(_H(1), _H(4), _H(24)),
    SlaTarget(_H(4), _H(24), _W(2)),
    SlaTarget(_H(24), _W(3), _W(5)),  # "一般情况当天答复"
    SlaTarget(_W(1), _W(5), _W(10)),  # "投诉 … 5 个工作日内答复"
    SlaTarget(_W(3), _W(10), _W(15)),  # "10 日内答复用户"
)
DEFAULTS: Mapping[Category, Mapping[int, SlaTarget]] = {
    Category.BURST_MAIN: _FIELD_EMERGENCY,
    Category.NO_WATER: _FIELD_EMERGENCY,
    Category.LEAK: _FIELD_EMERGENCY,
    Category.LOW_PRESSURE: {**GENERIC, 3: SlaTarget(_H(4), _H(24), _W(3))},  # "4 小时内答复"
    Category.METER_FAULT: GENERIC,  # P4 meter query: arrive within 2 working days
    Category.LINE_FAULT: GENERIC,
    Category.HELP: GENERIC,
    Category.COMPLAINT: _DESK,
    Category.ENQUIRY: _DESK,
    Category.MISCONDUCT: _DESK,
}


class Milestone(enum.StrEnum):
    ARRIVE = "arrive"
    RESTORE = "restore"
    CLOSE = "close"


class SlaLevel(enum.IntEnum):
    OK = 0
    AT_RISK = 1
    BREACHED = 2


@dataclass(frozen=True)
class SlaPolicy:
    targets: Mapping[Category, Mapping[int, SlaTarget]] = field(default_factory=lambda: DEFAULTS)
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    warn_share: float = 0.75  # at risk once this share of a clock's span has passed

    def target(self, category: Category, priority: int) -> SlaTarget:
        return self.targets.get(category, GENERIC).get(priority, GENERIC[priority])

    def with_target(self, category: Category, priority: int, target: SlaTarget) -> SlaPolicy:
        merged = {cat: dict(by) for cat, by in self.targets.items()}
        merged.setdefault(category, dict(GENERIC))[priority] = target
        return SlaPolicy(merged, self.calendar, self.warn_share)

    def due(self, start: datetime, span: Span) -> datetime:
        if span.working:
            return self.calendar.add(start, span.seconds)
        return start + timedelta(seconds=span.seconds)

    def used(self, start: datetime, now: datetime, span: Span) -> float:
        """The share of the span that has passed at ``now`` (may exceed 1)."""
        if span.seconds <= 0:
            return float("inf")
        elapsed = (
            self.calendar.between(start, now)
            if span.working
            else max((now - start).total_seconds(), 0.0)
        )
        return elapsed / span.seconds


@dataclass(frozen=True)
class Deadlines:
    arrive_by: datetime
    restore_by: datetime
    close_by: datetime

    def of(self, milestone: Milestone) -> datetime:
        return {
            Milestone.ARRIVE: self.arrive_by,
            Milestone.RESTORE: self.restore_by,
            Milestone.CLOSE: self.close_by,
        }[milestone]


def deadlines(order: OrderState, policy: SlaPolicy) -> Deadlines:
    target = policy.target(order.category, order.sla_priority)
    return Deadlines(
        policy.due(order.opened_at, target.arrive),
        policy.due(order.opened_at, target.restore),
        policy.due(order.opened_at, target.close),
    )


@dataclass(frozen=True)
class ClockState:
    milestone: Milestone
    due_at: datetime
    level: SlaLevel
    share_used: float
    met: bool  # the milestone happened (on time or late)


@dataclass(frozen=True)
class SlaReport:
    level: SlaLevel  # the worst clock still running, or a clock that was met late
    clocks: tuple[ClockState, ...]

    @property
    def worst(self) -> ClockState | None:
        worst = max(self.clocks, key=lambda c: c.level, default=None)
        return worst if worst is not None and worst.level > SlaLevel.OK else None


def _reached(order: OrderState, milestone: Milestone) -> datetime | None:
    if milestone is Milestone.ARRIVE:
        # Desk categories and orders resolved without a visit count the first answer.
        return order.arrived_at or order.resolved_at
    if milestone is Milestone.RESTORE:
        return order.resolved_at
    return order.closed_at


def sla_state(order: OrderState, now: datetime, policy: SlaPolicy) -> SlaReport:
    """Where each clock stands at ``now``: ok, at risk (past the warn share) or breached."""
    target = policy.target(order.category, order.sla_priority)
    due = deadlines(order, policy)
    spans = {
        Milestone.ARRIVE: target.arrive,
        Milestone.RESTORE: target.restore,
        Milestone.CLOSE: target.close,
    }
    clocks = []
    for milestone, span in spans.items():
        reached = _reached(order, milestone)
        if order.status is Status.CANCELLED and reached is None:
            continue  # a cancelled order's remaining clocks stop
        at = reached if reached is not None else now
        share = policy.used(order.opened_at, at, span)
        if at > due.of(milestone):
            level = SlaLevel.BREACHED
        elif reached is None and share >= policy.warn_share:
            level = SlaLevel.AT_RISK
        else:
            level = SlaLevel.OK
        clocks.append(ClockState(milestone, due.of(milestone), level, share, reached is not None))
    level = max((c.level for c in clocks), default=SlaLevel.OK)
    return SlaReport(SlaLevel(level), tuple(clocks))


# --- escalation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WarnDispatcher:
    key: str
    order_id: str
    milestone: Milestone
    due_at: datetime


@dataclass(frozen=True)
class NotifySupervisor:
    key: str
    order_id: str
    milestone: Milestone
    due_at: datetime


@dataclass(frozen=True)
class RaisePriority:
    key: str
    order_id: str
    milestone: Milestone
    priority: int

    def event(self, at: datetime) -> PriorityRaised:
        """The order event for this decision; its id is the key, so applying it twice is harmless."""
        return PriorityRaised(
            event_id=self.key,
            order_id=self.order_id,
            at=at,
            actor=Actor.SYSTEM,
            priority=self.priority,
            reason=f"SLA {self.milestone} breached",
        )


Decision = WarnDispatcher | NotifySupervisor | RaisePriority


def escalate(
    order: OrderState, now: datetime, policy: SlaPolicy, done: Iterable[str] = ()
) -> list[Decision]:
    """What to do about the order's clocks now, leaving out decisions already made.

    At risk: warn the dispatcher. Breached while still running: one priority step up (never
    past 1) and the supervisor notified. Each decision has a key built from the order, the
    clock and the level; pass the keys already acted on as ``done`` and a second sweep
    decides nothing new. Clocks already met (even late) decide nothing: the breach is for
    the KPIs, not for a reminder.
    """
    if not order.is_open and order.status is not Status.RESOLVED:
        return []
    already = set(done)
    decisions: list[Decision] = []
    for clock in sla_state(order, now, policy).clocks:
        if clock.met or clock.level is SlaLevel.OK:
            continue
        stem = f"sla:{order.order_id}:{order.reopen_count}:{clock.milestone}"
        wanted: list[Decision] = []
        if clock.level is SlaLevel.AT_RISK:
            wanted.append(
                WarnDispatcher(f"{stem}:warn", order.order_id, clock.milestone, clock.due_at)
            )
        else:
            if order.is_open and order.priority > MOST_URGENT:
                wanted.append(
                    RaisePriority(
                        f"{stem}:raise", order.order_id, clock.milestone, order.priority - 1
                    )
                )
            wanted.append(
                NotifySupervisor(
                    f"{stem}:supervisor", order.order_id, clock.milestone, clock.due_at
                )
            )
        decisions.extend(d for d in wanted if d.key not in already)
    return decisions
