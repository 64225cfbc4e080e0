"""Idle timeout: warn with a countdown, then go home and forget the customer.

A person who walks away from a kiosk must not leave their account on the screen for the
next one. ``IdleWatch`` is the rule alone (a clock goes in, a decision comes out); the core
calls ``tick`` every second and ``touch`` on every tap.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass


class IdleState(enum.Enum):
    ACTIVE = "active"
    WARNING = "warning"  # show the countdown; a tap keeps the customer's place
    EXPIRED = "expired"  # go home, forget everything


@dataclass(frozen=True)
class IdleCheck:
    state: IdleState
    seconds_left: int  # of the warning's countdown (0 unless WARNING)


class IdleWatch:
    def __init__(self, idle_s: float, warn_s: float) -> None:
        if not 0 < warn_s < idle_s:
            raise ValueError("the warning must start after some idle time and before the end")
        self.idle_s = idle_s
        self.warn_s = warn_s
        self._last = 0.0
        self._paused = False

    def touch(self, now: float) -> None:
        self._last = now

    def pause(self, paused: bool, now: float) -> None:
        """Paused while the kiosk itself is working (a payment at the bank): no timeout."""
        self._paused = paused
        self._last = now

    def check(self, now: float) -> IdleCheck:
        if self._paused:
            return IdleCheck(IdleState.ACTIVE, 0)
        quiet = now - self._last
        if quiet >= self.idle_s:
            return IdleCheck(IdleState.EXPIRED, 0)
        if quiet >= self.idle_s - self.warn_s:
            return IdleCheck(IdleState.WARNING, math.ceil(self.idle_s - quiet))
        return IdleCheck(IdleState.ACTIVE, 0)
