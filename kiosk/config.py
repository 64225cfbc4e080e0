"""A kiosk's settings: where its hall is, which devices it has, how its panel is mounted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from devices.printer.receipts import PaperWidth

APP_VERSION = "0.1.0"


@dataclass(frozen=True)
class Panel:
    """The touch panel's exact size in pixels; portrait when taller than wide."""

    width: int
    height: int

    @property
    def portrait(self) -> bool:
        return self.height > self.width

    @classmethod
    def parse(cls, text: str) -> Panel:
        match = re.fullmatch(r"\s*([0-9]{3,5})\s*[xX×]\s*([0-9]{3,5})\s*", text)
        if not match:
            raise ValueError(
                f"a panel size is WIDTHxHEIGHT in pixels, e.g. 1080x1920, not {text!r}"
            )
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


@dataclass(frozen=True)
class KioskConfig:
    hall_url: str
    token: str
    state_dir: Path  # the payment journals, the acquirer's STAN; nothing else of the customer's
    panel: Panel = field(default_factory=lambda: Panel(1080, 1920))
    kiosk_mode: bool = True  # borderless full screen, no cursor, Esc and close ignored
    paper: PaperWidth = PaperWidth.MM80
    account_prefix: str = "XC"  # the area letters before an account's nine digits
    idle_s: float = 60.0
    warn_s: float = 15.0
    heartbeat_s: float = 30.0
    retry_hall_s: float = 5.0  # how often an out-of-service kiosk tries its hall again
    record_wait_s: float = 20.0  # how long a customer waits for the hall to record a payment
    speak: bool = False  # spoken prompts (espeak-ng)
    name: str = "kiosk"

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z]{2}", self.account_prefix):
            raise ValueError("an account prefix is two capital letters, e.g. XC")
