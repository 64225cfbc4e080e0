"""Every device reports connected / degraded / fault, with a reason and when that changed."""

from __future__ import annotations

import enum
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

log = logging.getLogger(__name__)


class HealthState(enum.StrEnum):
    CONNECTED = "connected"
    DEGRADED = "degraded"  # works, but a person should look (paper near end, no ACK)
    FAULT = "fault"  # does not work (unplugged, paper out, cover open)


@dataclass(frozen=True)
class DeviceHealth:
    state: HealthState
    reason: str
    since: datetime

    @property
    def ok(self) -> bool:
        return self.state is not HealthState.FAULT


class HealthTracker:
    """The current health of one device; logs each change once, keeps ``since`` otherwise."""

    def __init__(self, device: str) -> None:
        self._device = device
        self._lock = threading.Lock()
        self._health = DeviceHealth(HealthState.FAULT, "not opened yet", datetime.now(UTC))

    @property
    def current(self) -> DeviceHealth:
        with self._lock:
            return self._health

    def set(self, state: HealthState, reason: str) -> DeviceHealth:
        with self._lock:
            if self._health.state is state and self._health.reason == reason:
                return self._health
            changed = self._health.state is not state
            since = datetime.now(UTC) if changed else self._health.since
            self._health = DeviceHealth(state, reason, since)
        if changed:
            level = logging.INFO if state is HealthState.CONNECTED else logging.WARNING
            log.log(level, "%s: %s (%s)", self._device, state.value, reason)
        return self._health
