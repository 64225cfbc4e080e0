"""What every presenter shares: the core it belongs to, and the customer it may forget."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from kiosk.cards import Swipe
from kiosk.screens import Purpose, ScreenName
from kiosk.text import T
from servicehall.hall.api.kiosk_schemas import AccountSummaryOut

if TYPE_CHECKING:
    from kiosk.core import KioskCore


@dataclass
class Customer:
    """All the kiosk knows about the person in front of it; dropped by ``forget``."""

    purpose: Purpose | None = None
    account: AccountSummaryOut | None = None
    session: str | None = None  # X-Customer-Session, after proof of identity

    def forget(self) -> None:
        self.purpose = None
        self.account = None
        self.session = None


class Presenter:
    screen: ClassVar[ScreenName]
    prompt: ClassVar[T | None] = None  # spoken when the screen opens (if speech is on)
    wants_swipe: ClassVar[bool] = False

    def __init__(self, core: KioskCore, customer: Customer) -> None:
        self.core = core
        self.customer = customer
        self.setup()

    def setup(self) -> None:
        """Set the presenter's own fields (instead of overriding ``__init__``)."""

    def forget(self) -> None:
        """Drop everything about the customer (back home, idle, out of service)."""

    def on_swipe(self, swipe: Swipe) -> bool:
        """A card was swiped while this screen showed; False when it means nothing here."""
        return False

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        """Busy (taps dropped) and no idle timeout while the kiosk works for the customer
        outside a tap (a swipe's payment runs on the reader's thread)."""
        core = self.core
        with core._lock:
            core.busy = True
            core.notice = None
        core.hold_idle(True)
        core.changed()
        try:
            yield
        finally:
            core.hold_idle(False)
            with core._lock:
                core.busy = False
            core.changed()

    def account(self) -> AccountSummaryOut:
        if self.customer.account is None:
            raise RuntimeError("no account chosen yet")
        return self.customer.account
