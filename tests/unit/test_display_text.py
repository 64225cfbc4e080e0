"""Texts the board and the hall screen share: waits people can trust, notices said once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hall_display.content import (
    HallState,
    Notice,
    Waiting,
    board_content,
    estimate_text,
    notice_text,
)

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 Beijing
BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("estimate_s", "zh", "en"),
    [
        (None, "暂停服务", "No counter open"),
        (0.0, "无需等候", "No wait"),
        (25.0, "无需等候", "No wait"),
        (95.0, "约2分钟", "about 2 min"),
        (600.0, "约10分钟", "about 10 min"),
    ],
)
def test_waits_are_said_so_people_can_trust_them(
    estimate_s: float | None, zh: str, en: str
) -> None:
    assert estimate_text(estimate_s, english=False) == zh
    assert estimate_text(estimate_s, english=True) == en


def test_the_board_never_shows_about_zero_minutes_or_hides_a_closed_service() -> None:
    state = HallState(
        "Asia/Shanghai",
        [],
        [Waiting("缴费", "Bill payment", 0, 0.0), Waiting("贵宾", "VIP", 3, None)],
        [],
        [],
    )
    texts = [m.text for m in board_content(state, NOW).rotation]
    assert texts == ["缴费 等候 0 人 无需等候", "贵宾 等候 3 人 暂停服务"]


def test_a_notice_whose_title_names_its_kind_says_the_kind_once() -> None:
    # As central publishes them: the title already starts with 停水通知 / Water off.
    notice = Notice(
        "water_off",
        "停水通知：金融大街供水管道更换",
        "Water off: main replacement on Jinrong Street",
        NOW - timedelta(hours=1),
        NOW + timedelta(hours=7),
    )
    assert (
        notice_text(notice, BEIJING, english=False) == "停水通知：金融大街供水管道更换 09:00-17:00"
    )
    assert (
        notice_text(notice, BEIJING, english=True)
        == "Water off: main replacement on Jinrong Street 09:00-17:00"
    )
    bare = Notice("low_pressure", "阜成门一带", "around Fuchengmen", NOW, None)
    assert notice_text(bare, BEIJING, english=False) == "降压通知：阜成门一带 10:00 起"
    assert notice_text(bare, BEIJING, english=True) == "Low pressure: around Fuchengmen from 10:00"
