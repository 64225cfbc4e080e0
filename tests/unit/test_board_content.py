"""The board's content is a pure function of hall state and clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hall_display.content import Call, HallState, Message, Notice, Waiting, board_content

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 Beijing
OUTAGE = Notice(
    "water_off",
    "金融大街管道更换",
    "main replacement on Jinrong St",
    NOW - timedelta(hours=1),
    NOW + timedelta(hours=7),
)


def state(calls: list[Call] = [], notices: list[Notice] = []) -> HallState:  # noqa: B006 - read only
    return HallState(
        "Asia/Shanghai",
        calls,
        [Waiting("缴费", "Bill payment", 5, 600)],
        [("本厅营业时间 8:30–17:00", "Open 8:30–17:00")],
        notices,
    )


def test_a_fresh_call_flashes_in_chinese_then_english() -> None:
    call = Call("A023", 3, NOW)
    first = board_content(state([call]), NOW)
    assert first.priority is not None and first.priority.flash
    assert first.priority.text == "请 A023 号到 3 号窗口"
    assert first.voice == "请 A023 号到 3 号窗口"
    later = board_content(state([call]), NOW + timedelta(seconds=4))
    assert later.priority is not None and later.priority.text == "A023 to counter 3"


def test_the_flash_ends_and_the_call_stays_in_the_list() -> None:
    content = board_content(state([Call("A023", 3, NOW)]), NOW + timedelta(seconds=30))
    assert content.priority is None and content.voice is None
    assert content.rotation[0].text == "A023→3"


def test_a_recall_flashes_again_with_a_new_voice_key() -> None:
    first = board_content(state([Call("A023", 3, NOW)]), NOW)
    recall = board_content(
        state([Call("A023", 3, NOW + timedelta(seconds=40), recalls=1)]),
        NOW + timedelta(seconds=41),
    )
    assert recall.priority is not None and recall.voice_key != first.voice_key


def test_active_outage_is_the_priority_message_in_local_time() -> None:
    content = board_content(state(notices=[OUTAGE]), NOW)
    assert content.priority is not None and content.priority.colour == "amber"
    texts = {
        board_content(state(notices=[OUTAGE]), NOW + timedelta(seconds=6 * i)).priority.text  # type: ignore[union-attr]
        for i in range(2)
    }
    assert texts == {
        "停水通知：金融大街管道更换 09:00-17:00",
        "Water off: main replacement on Jinrong St 09:00-17:00",
    }


def test_a_call_outranks_the_outage_for_its_flash_only() -> None:
    call = Call("B007", 5, NOW)
    during = board_content(state([call], [OUTAGE]), NOW).priority
    assert during == Message("请 B007 号到 5 号窗口", flash=True, colour="red")
    # After the 10 s flash the notice is back, Chinese and English in 6 s turns (NOW starts
    # an even turn: NOW's epoch seconds // 6 is even).
    after = [
        board_content(state([call], [OUTAGE]), NOW + timedelta(seconds=s)).priority
        for s in (12, 18, 24)
    ]
    chinese = Message("停水通知：金融大街管道更换 09:00-17:00", colour="amber")
    english = Message("Water off: main replacement on Jinrong St 09:00-17:00", colour="amber")
    assert after == [chinese, english, chinese]


def test_rotation_has_waiting_counts_and_announcements_in_both_languages() -> None:
    texts = [m.text for m in board_content(state(), NOW).rotation]
    assert "缴费 等候 5 人 约10分钟" in texts
    assert "本厅营业时间 8:30–17:00" in texts and "Open 8:30–17:00" in texts


def test_same_state_and_clock_give_the_same_content() -> None:
    assert board_content(state([Call("A1", 1, NOW)], [OUTAGE]), NOW) == board_content(
        state([Call("A1", 1, NOW)], [OUTAGE]), NOW
    )
