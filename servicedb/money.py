"""Money as integer minor units (fen). Never float, never SQLite REAL."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN_PER_YUAN = 100


@dataclass(frozen=True, order=True, slots=True)
class Money:
    """An amount of CNY in fen. Arithmetic stays in integers."""

    fen: int

    def __post_init__(self) -> None:
        if not isinstance(self.fen, int) or isinstance(self.fen, bool):
            raise TypeError(f"Money takes integer fen, got {type(self.fen).__name__}")

    @classmethod
    def zero(cls) -> Money:
        return cls(0)

    @classmethod
    def from_yuan(cls, amount: Decimal | str | int) -> Money:
        """Parse yuan given as Decimal, int or a decimal string such as ``"12.34"``.

        Floats are refused on purpose: 0.1 + 0.2 is not 0.3 in binary.
        """
        if isinstance(amount, float):
            raise TypeError("Money.from_yuan refuses float; pass a Decimal or a string")
        try:
            value = Decimal(amount)
        except InvalidOperation as err:
            raise ValueError(f"not an amount of yuan: {amount!r}") from err
        if not value.is_finite():
            raise ValueError(f"not an amount of yuan: {amount!r}")
        fen = value * FEN_PER_YUAN
        if fen != fen.to_integral_value():
            raise ValueError(f"{amount!r} yuan is not a whole number of fen")
        return cls(int(fen))

    @classmethod
    def round_fen(cls, fen: Decimal) -> Money:
        """Round a fractional fen amount half-up, as bills are rounded."""
        return cls(int(fen.quantize(Decimal(1), rounding=ROUND_HALF_UP)))

    @property
    def yuan(self) -> Decimal:
        return Decimal(self.fen) / FEN_PER_YUAN

    def __add__(self, other: Money) -> Money:
        return Money(self.fen + other.fen)

    def __sub__(self, other: Money) -> Money:
        return Money(self.fen - other.fen)

    def __neg__(self) -> Money:
        return Money(-self.fen)

    def __str__(self) -> str:
        sign = "-" if self.fen < 0 else ""
        whole, cents = divmod(abs(self.fen), FEN_PER_YUAN)
        return f"{sign}¥{whole:,}.{cents:02d}"
