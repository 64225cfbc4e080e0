"""Outages near the customer's premises or a chosen street, with the expected restoration."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.presenters.base import Presenter
from kiosk.screens import ScreenName
from kiosk.text import T, local
from servicehall.hall.api.kiosk_schemas import OutagesOut

KINDS = {
    "water_off": T("停水", "Water off"),
    "low_pressure": T("降压", "Low pressure"),
    "emergency_repair": T("抢修", "Emergency repair"),
    "line_fault": T("线路故障", "Line fault"),
}
STATUS = {"planned": T("计划", "Planned"), "active": T("进行中", "Now")}


@dataclass(frozen=True)
class OutageRow:
    kind: T
    status: T
    title: T
    detail: T
    since: str
    restore: T


@dataclass(frozen=True)
class OutagesView:
    where: T
    rows: tuple[OutageRow, ...]
    none: bool


class OutagesPresenter(Presenter):
    screen = ScreenName.OUTAGES

    def setup(self) -> None:
        self._found: OutagesOut | None = None

    def forget(self) -> None:
        self.setup()

    def load(self, *, account_no: str | None = None, street_code: str | None = None) -> None:
        self._found = self.core.hall.outages(account_no=account_no, street_code=street_code)
        self.core.go(ScreenName.OUTAGES)

    def view(self) -> OutagesView:
        found = self._found
        if found is None:
            return OutagesView(T("", ""), (), True)
        rows = tuple(
            OutageRow(
                kind=KINDS.get(o.kind, T(o.kind, o.kind)),
                status=STATUS.get(o.status, T(o.status, o.status)),
                title=T(o.title_zh, o.title_en),
                detail=T(o.detail_zh, o.detail_en),
                since=f"{local(o.starts_at):%m-%d %H:%M}",
                restore=T(
                    f"预计 {local(o.restore_at):%m-%d %H:%M} 恢复",
                    f"expected back {local(o.restore_at):%d %b %H:%M}",
                )
                if o.restore_at
                else T("恢复时间待定", "restoration time not yet known"),
            )
            for o in found.outages
        )
        return OutagesView(T(found.where_zh, found.where_en), rows, not rows)
