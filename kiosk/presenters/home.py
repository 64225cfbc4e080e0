"""The home screen: the five errands, and honest words about what does not work now."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.presenters.base import Presenter
from kiosk.screens import Purpose, ScreenName
from kiosk.text import T


@dataclass(frozen=True)
class Tile:
    key: str
    label: T
    hint: T
    enabled: bool = True


@dataclass(frozen=True)
class HomeView:
    welcome: T
    tiles: tuple[Tile, ...]
    banners: tuple[T, ...]  # what does not work now, said before anyone chooses


TICKET, PAY, RECORDS, REPORT, OUTAGES = "ticket", "pay", "records", "report", "outages"


class HomePresenter(Presenter):
    screen = ScreenName.HOME

    def view(self) -> HomeView:
        core = self.core
        banners: list[T] = []
        problem = core.printer_problem()
        if problem is not None:
            banners.append(
                problem
                + T("：号票和凭证将以二维码显示", ": tickets and receipts are shown as a QR code")
            )
        if not core.card_payment_possible():
            banners.append(
                T(
                    "银行卡缴费暂不可用，可扫码缴费",
                    "Card payments are not available; pay by QR code",
                )
            )
        return HomeView(
            welcome=T("欢迎使用自助服务", "Welcome — self service"),
            tiles=(
                Tile(TICKET, T("取号", "Take a ticket"), T("排队办理业务", "Queue for a counter")),
                Tile(PAY, T("缴费", "Pay a bill"), T("银行卡 / 扫码", "Bank card or QR code")),
                Tile(
                    RECORDS,
                    T("账单查询", "Bills & payments"),
                    T("用水量、账单、欠费", "Usage, bills, arrears"),
                ),
                Tile(
                    REPORT,
                    T("报修 / 投诉", "Repairs & complaints"),
                    T("漏水、爆管、水质…", "Leaks, bursts, quality…"),
                ),
                Tile(
                    OUTAGES,
                    T("停水查询", "Outages near me"),
                    T("停水、降压、抢修", "Water off, low pressure"),
                ),
            ),
            banners=tuple(banners),
        )

    def choose(self, key: str) -> None:
        """A tile was tapped (runs as a tap: the ticket and place lists come from the hall)."""
        p = self.core.p
        if key == TICKET:
            p.ticket.open()
        elif key == PAY:
            p.account.open(Purpose.PAY)
        elif key == RECORDS:
            p.account.open(Purpose.RECORDS)
        elif key == REPORT:
            p.report.open()
        elif key == OUTAGES:
            p.place.open(Purpose.OUTAGES)
        else:
            raise ValueError(f"no tile {key!r}")
