"""ISO/IEC 7813 parsing: byte-exact vectors, each class of bad swipe, and fuzzing."""

from __future__ import annotations

import contextlib
import pickle
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.cardreader.errors import CardExpired, CardReadError, NotABankCard, SwipeAgain
from devices.cardreader.protocol import lrc_track1, lrc_track2, luhn_ok, parse_swipe
from devices.cardreader.simulator import EXPIRED, MASTERCARD, VISA

pytestmark = pytest.mark.unit
TODAY = date(2026, 11, 22)
T1 = "%B4111111111111111^ZHANG/WEI^3012101000000000?"
T2 = ";4111111111111111=30121010000000000?"


def test_luhn_on_published_test_numbers() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("5555555555554444")
    assert not luhn_ok("4111111111111112")


def test_lrc_vectors() -> None:
    # Track 2 ";1234=?" : XOR of 0xB,1,2,3,4,0xD,0xF = 0xD → '='
    assert lrc_track2(";1234=?") == "="
    # Track 1 LRC is a printable character in the 6-bit set.
    assert 0x20 <= ord(lrc_track1(T1)) <= 0x5F


@pytest.mark.parametrize(
    "raw",
    [
        (T1 + T2 + "\r\n").encode(),
        (T1 + lrc_track1(T1) + T2 + lrc_track2(T2) + "\r").encode(),
        (T2 + "\r\n").encode(),
        (T1 + "\n").encode(),
        (T1 + T2).encode(),
    ],
)
def test_both_tracks_either_track_with_or_without_lrc(raw: bytes) -> None:
    card = parse_swipe(raw, today=TODAY)
    assert card.summary.masked_pan == "411111******1111"
    assert card.summary.last4 == "1111" and card.summary.bin == "411111"
    assert card.summary.expiry == "12/30"
    assert card.pan_for_payment() == "4111111111111111"


def test_holder_name_and_chip_flag() -> None:
    card = parse_swipe((MASTERCARD.track1() + MASTERCARD.track2() + "\r\n").encode(), today=TODAY)
    assert card.summary.holder_name == "NA LI"
    assert card.summary.service_code == "201" and card.summary.chip_preferred
    assert card.summary.tracks == (1, 2)


def test_empty_fields_marked_by_separator_alone() -> None:
    card = parse_swipe(b";4111111111111111==?\r\n", today=TODAY)
    assert card.summary.expiry is None and card.summary.service_code is None


def test_expired_card_is_its_own_reason() -> None:
    with pytest.raises(CardExpired) as caught:
        parse_swipe((EXPIRED.track2() + "\r\n").encode(), today=TODAY)
    assert "过期" in caught.value.message_zh


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (T2.replace("=", "x").encode(), SwipeAgain),
        ((T2 + "Z").encode(), SwipeAgain),  # wrong LRC
        (T2[:12].encode() + b"\r\n", SwipeAgain),  # half a swipe
        (b"\xff\xfe garbage", SwipeAgain),
        (b"\r\n", SwipeAgain),
        (b"%A4111111111111111^X/Y^3012101?", NotABankCard),  # format code A
        (b";4111111111111112=3012101?", NotABankCard),  # Luhn fails
        ((T1 + ";5555555555554444=3012101?").encode(), SwipeAgain),  # tracks disagree
    ],
)
def test_bad_swipes_have_typed_reasons(raw: bytes, error: type[CardReadError]) -> None:
    with pytest.raises(error):
        parse_swipe(raw, today=TODAY)


def test_card_shows_only_masked_data_and_cannot_be_pickled() -> None:
    card = parse_swipe((VISA.track2() + "\r\n").encode(), today=TODAY)
    assert "4111111111111111" not in repr(card) and "4111111111111111" not in str(card)
    with pytest.raises(TypeError):
        pickle.dumps(card)
    card.forget()
    with pytest.raises(ValueError, match="forgotten"):
        card.pan_for_payment()


def test_errors_never_carry_track_data() -> None:
    for raw in [(T1 + "Z" + T2).encode(), b"%B4111111111111111^^", (T2 + "Q").encode()]:
        with pytest.raises(CardReadError) as caught:
            parse_swipe(raw, today=TODAY)
        assert "4111111111111111" not in str(caught.value)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_give_a_card_or_a_typed_error(raw: bytes) -> None:
    with contextlib.suppress(CardReadError):
        parse_swipe(raw, today=TODAY)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(T1 + T2)))
def test_every_truncation_is_a_typed_outcome(cut: int) -> None:
    try:
        card = parse_swipe((T1 + T2)[:cut].encode(), today=TODAY)
    except CardReadError:
        return
    assert card.summary.last4 == "1111"
