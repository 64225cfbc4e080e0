"""The PIN pad seam: what the kiosk may ask of an encrypting PIN pad, and how that can fail.

The kiosk never sees a PIN. It shows the amount, asks the EPP for a PIN, and receives an ISO
9564 format-0 block already encrypted under the terminal's PIN key (which lives inside the
EPP, put there by key injection). That block goes into field 52 of the 0200 unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from devices.errors import DeviceError
from devices.health import DeviceHealth


@dataclass(frozen=True)
class PinPrompt:
    """What the PIN pad's own display shows while the customer types."""

    amount_fen: int
    text_zh: str = "请输入银行卡密码，按确认键结束"
    text_en: str = "Enter your card PIN, then press Enter"


class PinEntryFailed(DeviceError):
    """No PIN block came back. ``message_zh`` / ``message_en`` are for the customer."""

    message_zh = "密码输入未完成"
    message_en = "The PIN was not entered"


class PinEntryCancelled(PinEntryFailed):
    message_zh = "您已取消密码输入"
    message_en = "PIN entry was cancelled"


class PinEntryTimedOut(PinEntryFailed):
    message_zh = "密码输入超时，请重试"
    message_en = "PIN entry timed out. Please try again"


class PinPad(Protocol):
    """An encrypting PIN pad.

    ``request_pin`` returns the 8-byte encrypted format-0 PIN block for the card whose PAN
    digits are given (``pinblock.pan_field_digits``), or raises ``PinEntryCancelled`` /
    ``PinEntryTimedOut`` (``DeviceConnectionError`` when the pad is gone).
    """

    def request_pin(
        self, pan_last12: str, prompt: PinPrompt, *, timeout_s: float = 30.0
    ) -> bytes: ...

    @property
    def health(self) -> DeviceHealth: ...

    def close(self) -> None: ...
