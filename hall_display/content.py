"""What the LED board and the hall screen show: a pure function of the hall's state and the clock.

Order of importance: a call just made (flashing, zh and en in turn, again on a recall);
then active outage notices for the hall's zones (停水 / 降压 / 抢修) as priority messages;
otherwise the normal rotation: the last calls, waiting counts with estimates, announcements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

CALL_FLASH = timedelta(seconds=10)
ROTATE = timedelta(seconds=6)

_OUTAGE_WORDS = {
    "water_off": ("停水通知", "Water off"),
    "low_pressure": ("降压通知", "Low pressure"),
    "emergency_repair": ("抢修通知", "Emergency repair"),
    "line_fault": ("线路故障", "Line fault"),
}


@dataclass(frozen=True)
class Call:
    number: str
    counter: int
    at: datetime
    recalls: int = 0


@dataclass(frozen=True)
class Waiting:
    name_zh: str
    name_en: str
    waiting: int
    estimate_s: float | None  # None: no open counter serves it now


@dataclass(frozen=True)
class Notice:
    kind: str
    title_zh: str
    title_en: str
    starts_at: datetime
    restore_at: datetime | None


@dataclass(frozen=True)
class HallState:
    timezone: str
    calls: Sequence[Call]  # newest first
    waiting: Sequence[Waiting]
    announcements: Sequence[tuple[str, str]]  # (zh, en)
    notices: Sequence[Notice]  # active ones for the hall's zones


@dataclass(frozen=True)
class Message:
    text: str
    flash: bool = False
    colour: str = "red"  # red | green | amber


@dataclass(frozen=True)
class BoardContent:
    priority: Message | None
    rotation: tuple[Message, ...]
    # What to say now (the call just made), as display text; hall_display.spoken makes it speakable.
    voice: str | None = None
    voice_key: str | None = None  # one per call or recall, so each is announced once


def call_text(call: Call, *, english: bool) -> str:
    if english:
        return f"{call.number} to counter {call.counter}"
    return f"请 {call.number} 号到 {call.counter} 号窗口"


def notice_text(notice: Notice, tz: ZoneInfo, *, english: bool) -> str:
    """停水通知：金融大街管道更换 09:00-17:00 — the kind is said once, even when the title says it."""
    zh, en = _OUTAGE_WORDS.get(notice.kind, ("通知", "Notice"))
    start = notice.starts_at.astimezone(tz)
    until = notice.restore_at.astimezone(tz) if notice.restore_at else None
    if english:
        span = f"{start:%H:%M}-{until:%H:%M}" if until else f"from {start:%H:%M}"
        title = notice.title_en
        said = title.lower().startswith(en.lower())
        return f"{title} {span}" if said else f"{en}: {title} {span}"
    span = f"{start:%H:%M}-{until:%H:%M}" if until else f"{start:%H:%M} 起"
    title = notice.title_zh
    return f"{title} {span}" if title.startswith(zh) else f"{zh}：{title} {span}"


def estimate_text(estimate_s: float | None, *, english: bool) -> str:
    """A wait as people read it. The estimate is None only when no open counter serves the
    service: that is said (暂停服务), never shown as "约 0 分钟"; a wait under half a minute is
    无需等候 / No wait."""
    if estimate_s is None:
        return "No counter open" if english else "暂停服务"
    minutes = round(estimate_s / 60)
    if minutes <= 0:
        return "No wait" if english else "无需等候"
    return f"about {minutes} min" if english else f"约{minutes}分钟"


def _slot(now: datetime, count: int) -> int:
    return int(now.timestamp() // ROTATE.total_seconds()) % max(count, 1)


def board_content(state: HallState, now: datetime) -> BoardContent:
    tz = ZoneInfo(state.timezone)
    fresh = next((call for call in state.calls if timedelta(0) <= now - call.at < CALL_FLASH), None)
    priority: Message | None = None
    voice = voice_key = None
    if fresh is not None:
        english = int((now - fresh.at).total_seconds() // 3) % 2 == 1
        priority = Message(call_text(fresh, english=english), flash=True, colour="red")
        voice = call_text(fresh, english=False)
        voice_key = f"{fresh.number}|{fresh.counter}|{fresh.at.isoformat()}"
    elif state.notices:
        notice = state.notices[_slot(now, len(state.notices))]
        english = _slot(now, 2) == 1
        priority = Message(notice_text(notice, tz, english=english), colour="amber")
    rotation: list[Message] = []
    if state.calls:
        recent = "  ".join(f"{c.number}→{c.counter}" for c in state.calls[:4])
        rotation.append(Message(recent, colour="green"))
    for line in state.waiting:
        wait = estimate_text(line.estimate_s, english=False)
        rotation.append(Message(f"{line.name_zh} 等候 {line.waiting} 人 {wait}", colour="amber"))
    for text_zh, text_en in state.announcements:
        rotation.append(Message(text_zh))
        rotation.append(Message(text_en))
    return BoardContent(priority, tuple(rotation), voice, voice_key)
