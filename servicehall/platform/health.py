"""What a process is connected to, and since when — the body of ``GET /health``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from servicedb.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ComponentState:
    state: str  # connecting | connected | disconnected | degraded | fault | stopped
    since: datetime
    detail: str = ""


class HealthBoard:
    """Thread-safe record of each component's state; logs every change once."""

    def __init__(self, site: str, role: str) -> None:
        self.site = site
        self.role = role
        self.started_at = utcnow()
        self._lock = threading.Lock()
        self._components: dict[str, ComponentState] = {}
        self._extras: dict[str, Callable[[], Any]] = {}

    def add_extra(self, name: str, provider: Callable[[], Any]) -> None:
        """A section of /health computed when asked (e.g. sync's pending rows and lag)."""
        self._extras[name] = provider

    def set(self, component: str, state: str, detail: str = "") -> None:
        with self._lock:
            previous = self._components.get(component)
            if previous and previous.state == state and previous.detail == detail:
                return
            since = previous.since if previous and previous.state == state else utcnow()
            self._components[component] = ComponentState(state, since, detail)
        if previous is None or previous.state != state:
            level = (
                logging.INFO if state in ("connected", "connecting", "stopped") else logging.WARNING
            )
            log.log(level, "%s: %s %s", component, state, detail)

    def get(self, component: str) -> ComponentState | None:
        with self._lock:
            return self._components.get(component)

    def snapshot(self) -> dict[str, Any]:
        # Sections first: a section may set a component's state (central's sync alarms do).
        extras: dict[str, Any] = {}
        for name, provider in self._extras.items():
            try:
                extras[name] = provider()
            except Exception as err:  # /health must answer even when a section cannot
                extras[name] = {"error": f"{type(err).__name__}: {err}"}
        with self._lock:
            components = dict(self._components)
        ok = all(c.state == "connected" for c in components.values())
        return {
            **extras,
            "site": self.site,
            "role": self.role,
            "status": "ok" if ok else "degraded",
            "started_at": self.started_at.isoformat(),
            "components": {
                name: {"state": c.state, "since": c.since.isoformat(), "detail": c.detail}
                for name, c in sorted(components.items())
            },
        }
