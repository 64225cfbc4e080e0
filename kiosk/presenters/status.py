"""The honest out-of-service screen: the hall cannot be reached, so nothing is pretended."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.presenters.base import Presenter
from kiosk.screens import ScreenName
from kiosk.text import T


@dataclass(frozen=True)
class OutOfServiceView:
    title: T
    body: T
    retry: T


class StatusPresenter(Presenter):
    screen = ScreenName.OUT_OF_SERVICE
    prompt = T(
        "本机暂停服务，请到人工窗口办理", "This kiosk is out of service; please go to a counter"
    )

    def view(self) -> OutOfServiceView:
        return OutOfServiceView(
            title=T("暂停服务", "Out of service"),
            body=T(
                "本机暂时无法连接营业厅系统，不能取号和缴费。请到人工窗口办理，给您带来不便，敬请谅解。",
                "This kiosk cannot reach the hall's system, so it cannot issue tickets or take payments. Please go to a counter. We are sorry for the trouble.",
            ),
            retry=T(
                f"正在自动重新连接（每 {self.core.config.retry_hall_s:g} 秒）",
                f"Reconnecting by itself (every {self.core.config.retry_hall_s:g} s)",
            ),
        )
