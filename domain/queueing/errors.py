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


class CounterClosed(QueueError):
    message_zh = "本窗口未签到或已暂停服务"
    message_en = "This counter is not signed in, or is paused"


class CalledNotResolved(QueueError):
    message_zh = "请先处理当前叫到的号：开始办理、重呼或标记未到"
    message_en = "Deal with the ticket just called first: start, recall or mark it a no-show"


class StillServing(QueueError):
    message_zh = "请先办结当前业务"
    message_en = "Finish the current service first"


class HallClosed(QueueError):
    message_zh = "现在不在取号时间内"
    message_en = "Tickets are not being issued now"

    def __init__(self, detail: str, zh: str | None = None, en: str | None = None) -> None:
        super().__init__(detail)
        if zh:
            self.message_zh = zh
        if en:
            self.message_en = en


class QuotaReached(QueueError):
    message_zh = "今日该业务号已取完，请明日再来或预约"
    message_en = "Today's tickets for this service are all taken; please come tomorrow or book"


class InvalidAppointment(QueueError):
    message_zh = "预约码无效、已使用或不在预约时段内"
    message_en = "This appointment code is not valid now"


class InvalidVipCard(QueueError):
    message_zh = "贵宾卡无效或已过期"
    message_en = "This VIP card is not valid"
