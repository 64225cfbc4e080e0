"""Tiered pricing (阶梯水价): which part of a consumption falls in which tier, and its price.

Tiers are data (``Tier`` rows loaded from ``tariff_tiers``), never code. Consumption
accumulates over the tier period (a calendar year for Beijing residential water), so a
bill for one month is priced from where the year's consumption stood before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from servicedb.money import Money

LITRES_PER_M3 = 1000


class TariffError(ValueError):
    """The tier table is not usable: unordered bounds, no open-ended last tier, …"""


@dataclass(frozen=True, slots=True)
class Tier:
    # Cumulative upper bound of the tier in litres within the period; None = no limit.
    upper_litres: int | None
    price_fen_per_m3: int


@dataclass(frozen=True, slots=True)
class TierCharge:
    tier_index: int  # 0-based
    litres: int
    price_fen_per_m3: int
    amount: Money


@dataclass(frozen=True, slots=True)
class TieredCharge:
    lines: tuple[TierCharge, ...]

    @property
    def total(self) -> Money:
        return Money(sum(line.amount.fen for line in self.lines))

    @property
    def litres(self) -> int:
        return sum(line.litres for line in self.lines)


def validate_tiers(tiers: Sequence[Tier]) -> None:
    if not tiers:
        raise TariffError("a tariff needs at least one tier")
    if tiers[-1].upper_litres is not None:
        raise TariffError("the last tier must be open-ended (upper bound None)")
    previous = 0
    for index, tier in enumerate(tiers[:-1]):
        if tier.upper_litres is None:
            raise TariffError(f"tier {index + 1} is open-ended but is not the last")
        if tier.upper_litres <= previous:
            raise TariffError(f"tier {index + 1} upper bound must exceed the previous one")
        previous = tier.upper_litres
    for index, tier in enumerate(tiers):
        if tier.price_fen_per_m3 < 0:
            raise TariffError(f"tier {index + 1} has a negative price")


def charge(tiers: Sequence[Tier], *, prior_litres: int, litres: int) -> TieredCharge:
    """Price ``litres`` consumed after ``prior_litres`` already used in this tier period.

    Each tier's part is rounded half-up to the fen on its own line, as printed bills do,
    and the total is the sum of the printed lines.
    """
    validate_tiers(tiers)
    if prior_litres < 0 or litres < 0:
        raise ValueError("consumption cannot be negative")
    lines: list[TierCharge] = []
    start, end = prior_litres, prior_litres + litres
    lower = 0
    for index, tier in enumerate(tiers):
        upper = tier.upper_litres if tier.upper_litres is not None else max(end, lower)
        in_tier = max(0, min(end, upper) - max(start, lower))
        if in_tier:
            fen = Decimal(in_tier) * tier.price_fen_per_m3 / LITRES_PER_M3
            lines.append(TierCharge(index, in_tier, tier.price_fen_per_m3, Money.round_fen(fen)))
        lower = upper
    return TieredCharge(tuple(lines))
