"""Words for people: every string a customer reads comes as a Chinese and English pair.

Chinese first (``T(zh, en)``), as everywhere in servicehall; the screen picks one by the
customer's language switch. Money is integer fen until the last moment, when ``yuan`` writes
it the way a Chinese bill does (¥1,234.56); a float never holds money here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


class Lang(enum.StrEnum):
    ZH = "zh"
    EN = "en"

    @property
    def other(self) -> Lang:
        return Lang.EN if self is Lang.ZH else Lang.ZH


@dataclass(frozen=True)
class T:
    """One text in both languages."""

    zh: str
    en: str

    def __call__(self, lang: Lang) -> str:
        return self.zh if lang is Lang.ZH else self.en

    def format(self, **values: object) -> T:
        return T(self.zh.format(**values), self.en.format(**values))

    def __add__(self, other: T) -> T:
        """Joined as written: each side carries its own punctuation and spaces."""
        return T(self.zh + other.zh, self.en + other.en)

    def joined(self, other: T) -> T:
        """Two names side by side: 报修 · 爆管 / Repair · Burst pipe."""
        return T(f"{self.zh} · {other.zh}", f"{self.en} · {other.en}")


def yuan(fen: int) -> str:
    """¥1,234.56 from 123456 fen; negative amounts keep their sign in front."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def cubic_metres(litres: int) -> str:
    """Water as a bill shows it: 12.3 m³ (litres are integers; one decimal is enough)."""
    tenths = (litres + 50) // 100
    return f"{tenths // 10}.{tenths % 10} m³"


def local(moment: datetime) -> datetime:
    """A stored (UTC) time as the hall's clock shows it."""
    return moment.astimezone(BEIJING)


def minutes_text(minutes: int | None) -> T:
    if minutes is None:
        return T("暂无预计", "no estimate yet")
    if minutes <= 0:
        return T("无需等候", "no wait")
    return T(f"约 {minutes} 分钟", f"about {minutes} min")
