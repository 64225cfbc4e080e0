"""One presenter per screen: what it shows (``view()``) and what its taps do. No Kivy here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.cards import Swipe
from kiosk.presenters.account import AccountPresenter
from kiosk.presenters.base import Customer, Presenter
from kiosk.presenters.bill import BillPresenter
from kiosk.presenters.card import CardPresenter
from kiosk.presenters.home import HomePresenter
from kiosk.presenters.outages import OutagesPresenter
from kiosk.presenters.paid import PaidPresenter
from kiosk.presenters.place import PlacePresenter
from kiosk.presenters.proof import ProofPresenter
from kiosk.presenters.qr import QrPresenter
from kiosk.presenters.records import RecordsPresenter
from kiosk.presenters.report import ReportPresenter
from kiosk.presenters.status import StatusPresenter
from kiosk.presenters.ticket import CheckinPresenter, TicketDonePresenter, TicketPresenter
from kiosk.screens import ScreenName
from kiosk.text import T

if TYPE_CHECKING:
    from kiosk.core import KioskCore


class Presenters:
    def __init__(self, core: KioskCore) -> None:
        self.customer = Customer()
        c = self.customer
        self.home = HomePresenter(core, c)
        self.ticket = TicketPresenter(core, c)
        self.checkin = CheckinPresenter(core, c)
        self.ticket_done = TicketDonePresenter(core, c)
        self.account = AccountPresenter(core, c)
        self.bill = BillPresenter(core, c)
        self.card = CardPresenter(core, c)
        self.qr = QrPresenter(core, c)
        self.paid = PaidPresenter(core, c)
        self.proof = ProofPresenter(core, c)
        self.records = RecordsPresenter(core, c)
        self.report = ReportPresenter(core, c)
        self.place = PlacePresenter(core, c)
        self.outages = OutagesPresenter(core, c)
        self.status = StatusPresenter(core, c)
        self._all: tuple[Presenter, ...] = (
            self.home,
            self.ticket,
            self.checkin,
            self.ticket_done,
            self.account,
            self.bill,
            self.card,
            self.qr,
            self.paid,
            self.proof,
            self.records,
            self.report,
            self.place,
            self.outages,
            self.status,
        )
        # The report's later steps (phone, details, done) are screens of the report presenter.
        self._by_screen: dict[ScreenName, Presenter] = {p.screen: p for p in self._all}

    def of(self, screen: ScreenName) -> Presenter | None:
        return self._by_screen.get(screen)

    def prompt(self, screen: ScreenName) -> T | None:
        presenter = self.of(screen)
        return presenter.prompt if presenter is not None else None

    def forget(self) -> None:
        for presenter in self._all:
            presenter.forget()
        self.customer.forget()

    def wants_swipe(self, screen: ScreenName) -> bool:
        presenter = self.of(screen)
        return presenter is not None and presenter.wants_swipe

    def swiped(self, screen: ScreenName, swipe: Swipe) -> bool:
        presenter = self.of(screen)
        return presenter is not None and presenter.wants_swipe and presenter.on_swipe(swipe)
