"""What a running hall is made of, as the HTTP layer sees it."""

from __future__ import annotations

from dataclasses import dataclass

from devices.ledboard.simulator import AlphaSignSimulator
from domain.queueing.engine import HallQueue
from hall_display.driver import DisplayLoop
from servicehall.hall.kiosk_services import KioskServices
from servicehall.hall.live import LiveFeed
from servicehall.hall.tokens import TokenCheck


@dataclass(frozen=True)
class HallParts:
    queue: HallQueue
    tokens: TokenCheck
    live: LiveFeed
    display: DisplayLoop | None
    board_simulator: AlphaSignSimulator | None
    kiosk: KioskServices | None = None
