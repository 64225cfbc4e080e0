"""What an on-screen keypad has typed so far, and what it may type (no system keyboard).

Kivy has no numeric on-screen keyboard layout, and a kiosk must never open a free-text
field (no Chinese input method, nothing to escape to), so every entry is a ``KeyBuffer``:
a fixed alphabet, a maximum length, and a check of the whole value before it is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BACK, CLEAR = "back", "clear"


@dataclass
class KeyBuffer:
    alphabet: str
    max_len: int
    pattern: str  # what a complete value looks like (a regular expression)
    secret: bool = False  # shown as dots (an SMS code)
    value: str = field(default="")

    def press(self, key: str) -> bool:
        """Apply one key; False when it was not accepted (full, or not in the alphabet)."""
        if key == BACK:
            self.value = self.value[:-1]
            return True
        if key == CLEAR:
            self.value = ""
            return True
        if len(key) != 1 or key not in self.alphabet or len(self.value) >= self.max_len:
            return False
        self.value += key
        return True

    @property
    def complete(self) -> bool:
        return re.fullmatch(self.pattern, self.value) is not None

    @property
    def shown(self) -> str:
        return "•" * len(self.value) if self.secret else self.value

    def forget(self) -> None:
        self.value = ""


def account_digits() -> KeyBuffer:
    """The nine digits after the area prefix (XC000000001)."""
    return KeyBuffer(DIGITS, 9, r"[0-9]{9}")


def sms_code() -> KeyBuffer:
    return KeyBuffer(DIGITS, 6, r"[0-9]{6}", secret=True)


def phone_number() -> KeyBuffer:
    """A mainland mobile number, as the hall's report API accepts it."""
    return KeyBuffer(DIGITS, 11, r"1[3-9][0-9]{9}")


def appointment_code() -> KeyBuffer:
    return KeyBuffer(DIGITS + LETTERS, 16, r"[A-Z0-9]{4,16}")
