"""Swipes at the kiosk: bank cards (ISO/IEC 7813), the utility's customer and VIP cards.

Tracks are written out by hand from the layouts in kiosk/cards.py and the standard's
framing; the parser must read each right or refuse it with a typed reason, never misread.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.cardreader.errors import CardExpired, CardReadError, NotABankCard, SwipeAgain
from devices.cardreader.protocol import lrc_track2, luhn_ok
from devices.cardreader.simulator import EXPIRED, VISA
from kiosk.cards import (
    BankSwipe,
    CustomerCardSwipe,
    VipCardSwipe,
    customer_card_number,
    customer_card_track,
    is_customer_card_number,
    mask_card_number,
    parse_kiosk_swipe,
    vip_card_track,
)

pytestmark = pytest.mark.unit
TODAY = date(2026, 11, 23)


def parse(text: str) -> object:
    return parse_kiosk_swipe(text.encode("ascii") + b"\r\n", today=TODAY)


def test_a_bank_card_is_read_by_the_bank_card_parser() -> None:
    swipe = parse(VISA.track1() + VISA.track2())
    assert isinstance(swipe, BankSwipe)
    assert swipe.card.summary.masked_pan == "411111******1111"
    assert "4111111111111111" not in repr(swipe)


def test_a_customer_card_names_its_account() -> None:
    # Hand-written from the hall's layout: IIN 990086, the account's 9 digits 000000042,
    # issue 001, then the guard digit. Luhn over 990086000000042001 (doubling from the
    # right) gives 9, so the guard is 9 + 5 = 14 → 4 — and the 19 digits fail Luhn.
    number = "9900860000000420014"
    assert not luhn_ok(number) and customer_card_number("XC000000042") == number
    track = f";{number}==?"
    swipe = parse(track + lrc_track2(track))
    assert swipe == CustomerCardSwipe(number, "XC000000042")
    assert number not in repr(swipe)
    assert parse(track) == swipe  # readers that do not send the LRC
    other_area = parse_kiosk_swipe(track.encode(), today=TODAY, account_prefix="GA")
    assert isinstance(other_area, CustomerCardSwipe) and other_area.account_no == "GA000000042"


def test_a_vip_card() -> None:
    assert parse("%VVIP-XC-0001^?") == VipCardSwipe("VIP-XC-0001")
    assert vip_card_track("VIP-XC-0001").startswith("%VVIP-XC-0001^?")


@pytest.mark.parametrize(
    ("swiped", "reason"),
    [
        (";9900860000000420014==", SwipeAgain),  # half a swipe: no end sentinel
        (";9900860000000420014==?0", SwipeAgain),  # wrong LRC
        (";9900860000000420015==?", SwipeAgain),  # guard digit misread
        (";990086000000042001==?", SwipeAgain),  # a digit short
        (";9900860000000420014=3012?", SwipeAgain),  # fields where the layout has none
        ("%Vab^?", SwipeAgain),  # lower case is not in track 1's set
        ("%VVIP-XC-0001^", SwipeAgain),
        (";990086A00000420014==?", SwipeAgain),  # a letter in track 2
        ("%A900100200300^NAME^3012?", NotABankCard),  # another format code
        (EXPIRED.track1() + EXPIRED.track2(), CardExpired),
        (";4111111111111112=3012101?", NotABankCard),  # fails the Luhn check
    ],
)
def test_refused_with_a_reason(swiped: str, reason: type[CardReadError]) -> None:
    with pytest.raises(reason):
        parse(swiped)


def test_garbage_bytes_are_refused() -> None:
    with pytest.raises(SwipeAgain):
        parse_kiosk_swipe(b"\xff\xfe%U\x00\r\n", today=TODAY)


@given(st.binary(max_size=120))
def test_any_bytes_give_a_card_or_a_typed_refusal(data: bytes) -> None:
    try:
        swipe = parse_kiosk_swipe(data, today=TODAY)
    except CardReadError:
        return
    assert isinstance(swipe, BankSwipe | CustomerCardSwipe | VipCardSwipe)


@given(
    st.from_regex(r"XC[0-9]{9}", fullmatch=True),
    st.integers(min_value=0, max_value=999),
    st.booleans(),
)
def test_customer_cards_round_trip(account: str, issue: int, with_lrc: bool) -> None:
    number = customer_card_number(account, issue)
    track = customer_card_track(number)
    swiped = track if with_lrc else track[:-1]
    assert parse(swiped) == CustomerCardSwipe(number, account)


@given(st.text(";=?%V^0123456789ABCXYZ-", max_size=40))
def test_near_misses_of_the_layouts_never_misread(text: str) -> None:
    try:
        swipe = parse(text)
    except CardReadError:
        return
    if isinstance(swipe, CustomerCardSwipe):
        assert text.startswith(f";{swipe.card_number}==?") and is_customer_card_number(
            swipe.card_number
        )
    if isinstance(swipe, VipCardSwipe):
        assert text.startswith(f"%V{swipe.card_number}^?")
    if isinstance(swipe, BankSwipe):
        assert luhn_ok(swipe.card.pan_for_payment())


def test_masking() -> None:
    assert mask_card_number("9900860000000420014") == "9900***********0014"
    assert mask_card_number("1234") == "****"
