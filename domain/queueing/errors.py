"""Why a queue action cannot be done, in words staff and customers can act on."""

from __future__ import annotations


class QueueError(Exception):
    """A refused action. ``message_zh`` / ``message_en`` are for the person at the screen."""

    message_zh = "操作无法完成"
    message_en = "This cannot be done"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnknownCategory(QueueError):
    message_zh = "没有此业务类别"
    message_en = "There is no such service"


class UnknownCounter(QueueError):
    message_zh = "没有此窗口"
    message_en = "There is no such counter"


class UnknownTicket(QueueError):
    message_zh = "没有此号票"
    message_en = "There is no such ticket"


class NothingAtCounter(QueueError):
    message_zh = "本窗口当前没有正在办理的号"
    message_en = "No ticket is being served at this counter"


class WrongState(QueueError):
    message_zh = "此号票当前不能这样操作"
    message_en = "This ticket cannot do that now"
