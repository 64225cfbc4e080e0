"""Why a card could not be used, in words a customer at a kiosk can act on."""

from __future__ import annotations

from devices.errors import ProtocolError


class CardReadError(ProtocolError):
    """Base of the reasons a swipe gives no usable card. ``message_zh`` / ``message_en`` are for people."""

    message_zh = "无法读取此卡"
    message_en = "This card cannot be read"

    def __init__(self, detail: str) -> None:
        # ``detail`` is for logs and never contains card data.
        super().__init__(detail)
        self.detail = detail


class SwipeAgain(CardReadError):
    """A misread: noise, a bad LRC, half a track. Another swipe will probably work."""

    message_zh = "读卡失败，请重新刷卡"
    message_en = "The card was not read. Please swipe again"


class CardExpired(CardReadError):
    message_zh = "此卡已过期，请换一张卡"
    message_en = "This card has expired. Please use another card"


class NotABankCard(CardReadError):
    message_zh = "这不是银行卡，请使用银行卡"
    message_en = "This is not a bank card. Please use a bank card"
