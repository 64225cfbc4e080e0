"""Tiered water prices, with Beijing residential water as the worked example.

Beijing (京发改〔2014〕865号): 0–180 m³ a year at ¥5/m³, 181–260 m³ at ¥7/m³, above 260 m³
at ¥9/m³ (water, resource fee and sewage treatment together).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.billing.tiered import TariffError, Tier, charge
from servicedb.money import Money

pytestmark = pytest.mark.unit

BEIJING = (Tier(180_000, 500), Tier(260_000, 700), Tier(None, 900))


def test_inside_first_tier_is_priced_at_first_tier() -> None:
    bill = charge(BEIJING, prior_litres=0, litres=12_000)
    assert bill.total == Money(6000)  # 12 m³ × ¥5
    assert [line.tier_index for line in bill.lines] == [0]


def test_month_that_crosses_into_second_tier_is_split() -> None:
    # 175 m³ used so far this year; this month 10 m³: 5 at ¥5, 5 at ¥7.
    bill = charge(BEIJING, prior_litres=175_000, litres=10_000)
    assert [(line.litres, line.amount) for line in bill.lines] == [
        (5_000, Money(2500)),
        (5_000, Money(3500)),
    ]
    assert bill.total == Money(6000)


def test_month_spanning_all_three_tiers() -> None:
    bill = charge(BEIJING, prior_litres=170_000, litres=100_000)
    # 10 m³ × 5 + 80 m³ × 7 + 10 m³ × 9 = 50 + 560 + 90 = ¥700
    assert bill.total == Money(70_000)


def test_known_year_of_readings_sums_to_the_fen() -> None:
    # Twelve monthly consumptions, in litres, with fractional cubic metres.
    months = [
        14_250,
        15_100,
        16_333,
        18_000,
        19_999,
        21_500,
        25_001,
        26_400,
        22_750,
        19_000,
        16_200,
        15_500,
    ]
    prior = 0
    total = Money(0)
    for litres in months:
        total += charge(BEIJING, prior_litres=prior, litres=litres).total
        prior += litres
    # 230.033 m³ in the year: exactly 180 × 5 + 50.033 × 7 = ¥1,250.231. Each printed line
    # is rounded half-up on its own (months 3, 5, 7 and the tier-1 part of month 10 each
    # round half a fen up; month 10's tier-2 part rounds 0.1 fen down): ¥1,250.25.
    assert prior == 230_033
    assert total == Money(125_025)


def test_rounding_is_half_up_per_line() -> None:
    # 1 litre at ¥5/m³ is 0.5 fen: rounds up to 1 fen.
    assert charge(BEIJING, prior_litres=0, litres=1).total == Money(1)


def test_tiers_must_end_open() -> None:
    with pytest.raises(TariffError, match="open-ended"):
        charge((Tier(100, 1),), prior_litres=0, litres=1)


def test_tier_bounds_must_increase() -> None:
    with pytest.raises(TariffError, match="exceed"):
        charge((Tier(100, 1), Tier(50, 2), Tier(None, 3)), prior_litres=0, litres=1)


@given(prior=st.integers(0, 10**9), first=st.integers(0, 10**7), second=st.integers(0, 10**7))
def test_splitting_a_period_never_changes_the_litres_priced(
    prior: int, first: int, second: int
) -> None:
    whole = charge(BEIJING, prior_litres=prior, litres=first + second)
    part1 = charge(BEIJING, prior_litres=prior, litres=first)
    part2 = charge(BEIJING, prior_litres=prior + first, litres=second)
    assert whole.litres == part1.litres + part2.litres == first + second
    # Per-line rounding may move each part by at most half a fen per line.
    assert abs(whole.total.fen - (part1.total + part2.total).fen) <= 3


@given(prior=st.integers(0, 10**9), litres=st.integers(0, 10**8))
def test_charge_is_between_cheapest_and_dearest_price(prior: int, litres: int) -> None:
    total = charge(BEIJING, prior_litres=prior, litres=litres).total.fen
    assert litres * 500 / 1000 - 2 <= total <= litres * 900 / 1000 + 2
