"""What a swipe yields: a summary safe to show and store, and the PAN held only in memory."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CardSummary:
    """Safe to log, print and store: at most BIN + last four (PCI DSS 3.4.1)."""

    masked_pan: str  # 622202******1234
    bin: str
    last4: str
    expiry_year: int | None
    expiry_month: int | None
    holder_name: str | None
    service_code: str | None
    chip_preferred: bool  # service code 2xx / 6xx: "use the chip where feasible"
    tracks: tuple[int, ...]  # which tracks the swipe delivered

    @property
    def expiry(self) -> str | None:
        if self.expiry_year is None or self.expiry_month is None:
            return None
        return f"{self.expiry_month:02d}/{self.expiry_year % 100:02d}"


class SwipedCard:
    """A card just read. The PAN lives here, in memory, for the payment call only.

    ``repr``/``str`` show the masked summary, pickling is refused, and ``forget()`` drops the
    PAN as soon as the payment request has been made.
    """

    __slots__ = ("_pan", "summary")

    def __init__(self, summary: CardSummary, pan: str) -> None:
        self.summary = summary
        self._pan: str | None = pan

    def pan_for_payment(self) -> str:
        if self._pan is None:
            raise ValueError("the card number was already used and forgotten")
        return self._pan

    def forget(self) -> None:
        self._pan = None

    def __repr__(self) -> str:
        return f"SwipedCard({self.summary.masked_pan}, exp {self.summary.expiry})"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a swiped card is never serialised")


def mask_pan(pan: str) -> str:
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]
