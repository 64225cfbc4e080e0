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
from devices.cardreader.protocol import lrc_track1
from devices.cardreader.simulator import EXPIRED, VISA
from kiosk.cards import (
    BankSwipe,
    CustomerCardSwipe,
    VipCardSwipe,
    customer_card_track,
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
    # Hand-written: %U, 12 digits, ^, the account, ^, ?, then the LRC of that track.
    track = "%U900100200300^XC000000042^?"
    swipe = parse(track + lrc_track1(track))
    assert swipe == CustomerCardSwipe("900100200300", "XC000000042")
    assert "900100200300" not in repr(swipe)
    assert parse(track) == swipe  # readers that do not send the LRC


def test_a_vip_card() -> None:
    assert parse("%VVIP-XC-0001^?") == VipCardSwipe("VIP-XC-0001")
    assert vip_card_track("VIP-XC-0001").startswith("%VVIP-XC-0001^?")


@pytest.mark.parametrize(
    ("swiped", "reason"),
    [
        ("%U900100200300^XC000000042^", SwipeAgain),  # half a swipe: no end sentinel
        ("%U900100200300^XC000000042^?!", SwipeAgain),  # wrong LRC
        ("%U9001^XC000000042^?", SwipeAgain),  # number too short
        ("%U900100200300^xc000000042^?", SwipeAgain),  # lower case is not in track 1's set
        ("%Vab^?", SwipeAgain),
        (";900100200300=XC?", SwipeAgain),  # a track 2 with letters
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
    st.text("0123456789", min_size=12, max_size=19),
    st.from_regex(r"[A-Z]{2}[0-9]{9}", fullmatch=True),
    st.booleans(),
)
def test_customer_cards_round_trip(number: str, account: str, with_lrc: bool) -> None:
    track = customer_card_track(number, account)
    swiped = track if with_lrc else track[:-1]
    assert parse(swiped) == CustomerCardSwipe(number, account)


@given(st.text("%UV^?0123456789ABCXYZ-", max_size=40))
def test_near_misses_of_the_layout_never_misread(text: str) -> None:
    try:
        swipe = parse(text)
    except CardReadError:
        return
    if isinstance(swipe, CustomerCardSwipe):
        assert text.startswith(f"%U{swipe.card_number}^{swipe.account_no}^?")
    if isinstance(swipe, VipCardSwipe):
        assert text.startswith(f"%V{swipe.card_number}^?")


def test_masking() -> None:
    assert mask_card_number("900100200300") == "9001****0300"
    assert mask_card_number("1234") == "****"
