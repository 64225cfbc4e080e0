"""Where: the account's premises, or a district and then a street from the hall's list."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.presenters.base import Presenter
from kiosk.screens import Purpose, ScreenName
from kiosk.text import T
from servicehall.hall.api.kiosk_schemas import District


@dataclass(frozen=True)
class PlaceView:
    purpose: Purpose
    title: T
    districts: tuple[tuple[str, T], ...]
    district: str | None
    streets: tuple[tuple[str, T], ...]


class PlacePresenter(Presenter):
    screen = ScreenName.PLACE
    prompt = T("请选择地点", "Choose the place")

    def setup(self) -> None:
        self.purpose = Purpose.OUTAGES
        self.district: str | None = None
        self._districts: list[District] = []

    def forget(self) -> None:
        self.purpose, self.district = Purpose.OUTAGES, None

    def open(self, purpose: Purpose) -> None:
        """A tap: the districts and streets come from the hall (once; they rarely change)."""
        if not self._districts:
            self._districts = list(self.core.hall.places().districts)
        self.purpose, self.district = purpose, None
        self.customer.purpose = purpose
        self.core.go(ScreenName.PLACE)

    def view(self) -> PlaceView:
        chosen = next((d for d in self._districts if d.code == self.district), None)
        return PlaceView(
            purpose=self.purpose,
            title=T("停水查询：选择地点", "Outages: choose the place")
            if self.purpose is Purpose.OUTAGES
            else T("报修地点", "Where is the problem?"),
            districts=tuple((d.code, T(d.name_zh, d.name_en)) for d in self._districts),
            district=self.district,
            streets=tuple((s.code, T(s.name_zh, s.name_en)) for s in chosen.streets)
            if chosen
            else (),
        )

    def pick_district(self, code: str) -> None:
        if not any(d.code == code for d in self._districts):
            raise ValueError(f"no district {code!r}")
        self.district = code

    def my_account(self) -> None:
        self.core.p.account.open(self.purpose)

    def pick_street(self, code: str) -> None:
        """A tap (outages are asked of the hall)."""
        street = next((s for d in self._districts for s in d.streets if s.code == code), None)
        if street is None:
            raise ValueError(f"no street {code!r}")
        if self.purpose is Purpose.OUTAGES:
            self.core.p.outages.load(street_code=code)
        else:
            self.core.p.report.at_street(code, street.name_zh)
