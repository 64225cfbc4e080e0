"""Display text → Mandarin a speech engine reads right: letters, ticket digits, counter numbers."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hall_display.spoken import chinese_number, digits_one_by_one, spoken_call, spoken_text

pytestmark = pytest.mark.unit

_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")}
_UNIT = {"十": 10, "百": 100, "千": 1000}


def parse_chinese_number(text: str) -> int:
    """An independent reader of Chinese numbers (the textbook algorithm), to check against."""
    total = section = digit = 0
    for char in text:
        if char in _DIGIT:
            digit = _DIGIT[char]
        elif char in _UNIT:
            section += (digit or 1) * _UNIT[char]
            digit = 0
        elif char == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        else:
            raise ValueError(char)
    return total + section + digit


@pytest.mark.parametrize(
    ("n", "said"),
    [
        (0, "零"),
        (3, "三"),
        (10, "十"),
        (12, "十二"),
        (20, "二十"),
        (105, "一百零五"),
        (110, "一百一十"),
        (1010, "一千零一十"),
        (10010, "一万零一十"),
    ],
)
def test_counter_numbers_are_said_as_chinese_numbers(n: int, said: str) -> None:
    assert chinese_number(n) == said


@given(st.integers(min_value=0, max_value=99_999_999))
def test_chinese_numbers_read_back_to_the_same_number(n: int) -> None:
    said = chinese_number(n)
    assert parse_chinese_number(said) == n
    assert not said.startswith("一十")  # 十二, never 一十二
    assert "零零" not in said  # one 零 for a gap, however wide


def test_the_call_spells_the_letter_reads_the_ticket_digit_by_digit_and_the_counter_as_a_number() -> (
    None
):
    assert spoken_call("A023", 3) == "请 A 零二三 号到 三 号窗口"
    assert spoken_call("B100", 12) == "请 B 一零零 号到 十二 号窗口"
    assert spoken_call("v7", 20) == "请 V 七 号到 二十 号窗口"


def test_the_boards_call_text_becomes_the_same_spoken_call() -> None:
    assert spoken_text("请 A023 号到 3 号窗口") == spoken_call("A023", 3)


def test_words_codes_and_full_width_characters() -> None:
    assert spoken_text("VIP 请到 2 号窗口") == "V I P 请到 二 号窗口"
    assert spoken_text("编号 007") == "编号 零零七"  # a code keeps its zeros
    assert spoken_text("请Ａ０２３号") == "请 A 零二三 号"  # full-width, as typed in Chinese
    assert spoken_text("缴费") == "缴费"


def test_what_is_not_a_ticket_number_is_refused() -> None:
    for bad in ("023", "ABC1", "A", "A-1", "A１"):
        with pytest.raises(ValueError):
            spoken_call(bad, 1)
    with pytest.raises(ValueError):
        digits_one_by_one("١٢")  # Arabic-Indic digits are not ASCII digits
    with pytest.raises(ValueError):
        chinese_number(-1)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_no_ascii_digit_or_latin_word_survives(text: str) -> None:
    spoken = spoken_text(text)
    assert not re.search(r"[0-9０-９]", spoken)
    # Every Latin letter left stands alone, so the engine says it as a letter, not a word.
    assert not re.search(r"[A-Za-z]{2}", spoken)
    assert spoken == spoken_text(spoken)  # nothing left to convert


@given(
    st.from_regex(r"[A-Z]{1,2}[0-9]{1,6}", fullmatch=True),
    st.integers(min_value=1, max_value=999),
)
def test_every_ticket_digit_is_said_once_in_order(number: str, counter: int) -> None:
    words = spoken_call(number, counter).split(" ")
    letters = number.rstrip("0123456789")
    assert words[0] == "请" and words[1 : 1 + len(letters)] == list(letters)
    digits = words[1 + len(letters)]
    assert [str(_DIGIT[c]) for c in digits] == list(number[len(letters) :])
    assert parse_chinese_number(words[-2]) == counter and words[-1] == "号窗口"
