from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedb.money import Money

pytestmark = pytest.mark.unit


def test_yuan_strings_become_exact_fen() -> None:
    assert Money.from_yuan("0.10") + Money.from_yuan("0.20") == Money.from_yuan("0.30")
    assert Money.from_yuan("12.34").fen == 1234


def test_float_is_refused_everywhere() -> None:
    with pytest.raises(TypeError):
        Money.from_yuan(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(1.5)  # type: ignore[arg-type]


def test_sub_fen_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="whole number of fen"):
        Money.from_yuan("0.001")


def test_display_groups_thousands() -> None:
    assert str(Money(123_456_78)) == "¥123,456.78"
    assert str(Money(-5)) == "-¥0.05"


@given(st.integers(-(10**15), 10**15))
def test_fen_round_trip_through_yuan(fen: int) -> None:
    assert Money.from_yuan(Money(fen).yuan) == Money(fen)
    assert Money.from_yuan(str(Money(fen).yuan)) == Money(fen)


def test_half_fen_rounds_up() -> None:
    assert Money.round_fen(Decimal("2.5")) == Money(3)
    assert Money.round_fen(Decimal("-2.5")) == Money(-3)
