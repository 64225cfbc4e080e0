"""SLA targets from configuration: the documented defaults of ``field_dispatch.sla``, overridden
per category and priority, with the working calendar (hours, holidays, 调休 make-up days).

The shape (TOML under ``[central.dispatch.sla]``; every key optional)::

    warn_share = 0.75                # at risk once this share of a clock has passed
    day_start = "08:30"              # working hours, Beijing time
    day_end = "17:30"
    holidays = ["2026-10-01"]        # days off on a weekday
    extra_workdays = ["2026-10-10"]  # 调休: a Saturday or Sunday that is worked
    [central.dispatch.sla.targets.burst_main.1]
    arrive = "20m"
    restore = "3h"
    close = "24h"

A span is a number and a unit: ``s``, ``m``, ``h``, ``d`` (clock time), ``wh`` and ``wd``
(working hours and working days of the calendar). Anything else is refused with the key
that is wrong; a half-understood SLA table is worse than none. The defaults' working-day
spans are 9-hour days (08:30–17:30): with other working hours, set the targets you rely on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time

from field_dispatch.sla import SlaPolicy, SlaTarget, Span, WorkingCalendar
from field_dispatch.vocabulary import PRIORITIES, Category

_SPAN = re.compile(r"(\d{1,6}(?:\.\d{1,3})?)(s|m|h|d|wh|wd)")
_CLOCK_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_KEYS = frozenset({"warn_share", "day_start", "day_end", "holidays", "extra_workdays", "targets"})
_MILESTONES = ("arrive", "restore", "close")


class SlaConfigError(ValueError):
    """The SLA configuration is wrong; the message names the key."""


def parse_span(text: object, calendar: WorkingCalendar, where: str = "span") -> Span:
    if not isinstance(text, str):
        raise SlaConfigError(f"{where}: expected text such as '30m', '4h' or '2wd'")
    match = _SPAN.fullmatch(text.strip())
    if match is None:
        raise SlaConfigError(
            f"{where}: {text[:40]!r} is not a span; use a number and s, m, h, d, wh or wd"
        )
    amount, unit = float(match.group(1)), match.group(2)
    if amount <= 0:
        raise SlaConfigError(f"{where}: a span must be longer than zero")
    if unit == "wd":
        return Span(amount * calendar.day_seconds, working=True)
    if unit == "wh":
        return Span(amount * 3600, working=True)
    return Span(amount * _CLOCK_SECONDS[unit])


def _time(value: object, where: str) -> time:
    try:
        if not isinstance(value, str):
            raise ValueError
        return time.fromisoformat(value)
    except ValueError:
        raise SlaConfigError(f"{where}: expected a time such as '08:30'") from None


def _days(value: object, where: str) -> frozenset[date]:
    if not isinstance(value, list | tuple):
        raise SlaConfigError(f"{where}: expected a list of dates such as ['2026-10-01']")
    days = set()
    for item in value:
        try:
            days.add(item if isinstance(item, date) else date.fromisoformat(str(item)))
        except ValueError:
            raise SlaConfigError(
                f"{where}: {str(item)[:20]!r} is not a date (YYYY-MM-DD)"
            ) from None
    return frozenset(days)


def policy_from_config(config: Mapping[str, object] | None) -> SlaPolicy:
    """The SLA policy: defaults, then what ``config`` overrides."""
    config = config or {}
    unknown = sorted(set(config) - _KEYS)
    if unknown:
        raise SlaConfigError(f"sla.{unknown[0]}: unknown key; expected one of {sorted(_KEYS)}")
    calendar = WorkingCalendar()
    start = _time(config.get("day_start", "08:30"), "sla.day_start")
    end = _time(config.get("day_end", "17:30"), "sla.day_end")
    if end <= start:
        raise SlaConfigError("sla.day_end: the working day must end after it starts")
    calendar = WorkingCalendar(
        day_start=start,
        day_end=end,
        holidays=_days(config.get("holidays", []), "sla.holidays"),
        extra_workdays=_days(config.get("extra_workdays", []), "sla.extra_workdays"),
    )
    warn = config.get("warn_share", 0.75)
    if isinstance(warn, bool) or not isinstance(warn, int | float) or not 0 < warn < 1:
        raise SlaConfigError("sla.warn_share: expected a share between 0 and 1, e.g. 0.75")
    policy = SlaPolicy(calendar=calendar, warn_share=float(warn))
    targets = config.get("targets", {})
    if not isinstance(targets, Mapping):
        raise SlaConfigError("sla.targets: expected a table of categories")
    for category_name, by_priority in targets.items():
        where = f"sla.targets.{category_name}"
        try:
            category = Category(category_name)
        except ValueError:
            raise SlaConfigError(
                f"{where}: unknown category; expected one of {[c.value for c in Category]}"
            ) from None
        if not isinstance(by_priority, Mapping):
            raise SlaConfigError(f"{where}: expected a table of priorities 1–5")
        for priority_name, spans in by_priority.items():
            here = f"{where}.{priority_name}"
            priority = int(priority_name) if str(priority_name).isdigit() else 0
            if priority not in PRIORITIES:
                raise SlaConfigError(f"{here}: a priority is 1 (most urgent) to 5")
            if not isinstance(spans, Mapping) or set(spans) != set(_MILESTONES):
                raise SlaConfigError(f"{here}: expected exactly arrive, restore and close")
            arrive, restore, close = (
                parse_span(spans[m], calendar, f"{here}.{m}") for m in _MILESTONES
            )
            policy = policy.with_target(category, priority, SlaTarget(arrive, restore, close))
    return policy
