"""SLA targets from configuration: defaults, overrides, calendars; anything else refused by key."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.sla_config import SlaConfigError, parse_span, policy_from_config
from field_dispatch.sla import Span, WorkingCalendar
from field_dispatch.vocabulary import Category

pytestmark = pytest.mark.unit
MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_no_configuration_is_the_documented_defaults() -> None:
    policy = policy_from_config(None)
    burst = policy.target(Category.BURST_MAIN, 1)
    assert (burst.arrive, burst.restore, burst.close) == (
        Span(1800),
        Span(4 * 3600),
        Span(24 * 3600),
    )
    meter = policy.target(Category.METER_FAULT, 4)
    assert meter.arrive == Span(2 * 9 * 3600, working=True)  # 2 working days of 9 hours
    assert policy.warn_share == 0.75


def test_overrides_calendar_and_make_up_days() -> None:
    policy = policy_from_config(
        {
            "warn_share": 0.8,
            "holidays": ["2026-11-24"],
            "extra_workdays": ["2026-11-28"],
            "targets": {"burst_main": {"1": {"arrive": "20m", "restore": "3h", "close": "1d"}},
                        "enquiry": {"4": {"arrive": "2wh", "restore": "1wd", "close": "3wd"}}},
        }
    )  # fmt: skip
    burst = policy.target(Category.BURST_MAIN, 1)
    assert (burst.arrive, burst.restore, burst.close) == (Span(1200), Span(10800), Span(86400))
    assert policy.target(Category.BURST_MAIN, 2) == policy_from_config({}).target(
        Category.BURST_MAIN, 2
    )
    assert policy.warn_share == 0.8
    # Tuesday is a holiday: one working day from Monday 10:00 is Wednesday 10:00, not Tuesday.
    enquiry = policy.target(Category.ENQUIRY, 4)
    assert policy.due(MONDAY_10, enquiry.restore) == MONDAY_10 + timedelta(days=2)
    assert policy.calendar.is_workday(date(2026, 11, 28))  # a Saturday worked (调休)


@pytest.mark.parametrize(
    ("config", "names"),
    [
        ({"targets": {"burst": {"1": {}}}}, "sla.targets.burst"),
        ({"targets": {"burst_main": {"0": {"arrive": "1h", "restore": "1h", "close": "1h"}}}}, "sla.targets.burst_main.0"),
        ({"targets": {"leak": {"2": {"arrive": "1h", "restore": "1h"}}}}, "sla.targets.leak.2"),
        ({"targets": {"leak": {"2": {"arrive": "1 hour", "restore": "1h", "close": "1h"}}}}, "sla.targets.leak.2.arrive"),
        ({"targets": {"leak": {"2": {"arrive": "0m", "restore": "1h", "close": "1h"}}}}, "sla.targets.leak.2.arrive"),
        ({"warn_share": 1.5}, "sla.warn_share"),
        ({"warn_share": True}, "sla.warn_share"),
        ({"holidays": ["2026-13-01"]}, "sla.holidays"),
        ({"day_start": "18:00", "day_end": "09:00"}, "sla.day_end"),
        ({"wran_share": 0.5}, "sla.wran_share"),
    ],
)  # fmt: skip
def test_a_wrong_key_is_named(config: dict[str, object], names: str) -> None:
    with pytest.raises(SlaConfigError) as caught:
        policy_from_config(config)
    assert str(caught.value).startswith(names)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12) | st.integers() | st.none() | st.floats())
def test_any_span_text_is_understood_exactly_or_refused(text: object) -> None:
    try:
        span = parse_span(text, WorkingCalendar())
    except SlaConfigError:
        return
    assert isinstance(text, str) and span.seconds > 0
    number = float(text.strip().rstrip("shmdw"))
    unit = text.strip()[len(text.strip().rstrip("shmdw")) :]
    expected = {"s": 1, "m": 60, "h": 3600, "d": 86400, "wh": 3600, "wd": 9 * 3600}[unit] * number
    assert span.seconds == pytest.approx(expected) and span.working == unit.startswith("w")
