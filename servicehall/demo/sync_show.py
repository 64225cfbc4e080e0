"""The demo's sync story: the hall's link to central goes down, the hall works on, and
central catches up once the link is back.

The hall's agent reaches central through a fault proxy on loopback (``sync.faultproxy``); the
show cuts it (every new connection is reset) for a while, says what waits in the hall's
outbox, restores it and says when central has everything. Nothing here helps the agent: it
finds the link back on its own back-off, as a real hall would.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from servicedb.types import utcnow
from sync import operations
from sync.faultproxy import Fault, FaultProxy

POLL_S = 0.5


@dataclass
class OfflineShow:
    proxy: FaultProxy
    hall_engine: Engine
    central_engine: Engine
    site: str
    cut_at_s: float
    offline_s: float
    alarm_after_s: float
    say: Callable[[str], None]
    events: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @classmethod
    def timed_for(cls, minutes: float | None) -> tuple[float, float]:
        """When to cut and for how long: ~20 s in, or a quarter of a short run each."""
        if minutes is None:
            return 20.0, 20.0
        total = minutes * 60
        return min(20.0, total * 0.25), min(20.0, total * 0.25)

    def start(self) -> OfflineShow:
        self._thread = threading.Thread(target=self._run, name="demo-sync-show", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        # The link is never left cut behind the demo's back.
        self.proxy.set_mode(Fault.PASS)

    def _note(self, what: str, line: str, **data: Any) -> None:
        self.events.append({"at": time.strftime("%H:%M:%S"), "event": what, **data})
        self.say(line)

    def _run(self) -> None:
        if self._stop.wait(self.cut_at_s):
            return
        self.proxy.set_mode(Fault.DROP)
        self.proxy.cut_all()
        cut = time.monotonic()
        self._note(
            "offline",
            f"sync: the link from {self.site} to central is cut for {self.offline_s:.0f} s; "
            "the hall works on",
        )
        if self._stop.wait(self.offline_s):
            return
        up = operations.hall_status(self.hall_engine)["up"]
        self._note(
            "waiting",
            f"sync: hall offline: {up.pending} changes waiting"
            + (f" (oldest {up.lag_s:.0f} s old)" if up.pending and up.lag_s else ""),
            pending=up.pending,
            offline_s=round(time.monotonic() - cut, 1),
        )
        self.proxy.set_mode(Fault.PASS)
        back, back_at = time.monotonic(), utcnow()
        self._note("back", "sync: the link is back; the hall's agent retries on its back-off")
        while not self._stop.wait(POLL_S):
            # Caught up: central has heard from the hall since the link came back, and the
            # hall's outbox is empty (everything it held was acknowledged).
            hall = self._central_view()
            heard = [
                datetime.fromisoformat(t)
                for t in (hall.get("last_up_at"), hall.get("last_down_at"))
                if t
            ]
            if not heard or max(heard) < back_at:
                continue
            if operations.hall_status(self.hall_engine)["up"].pending:
                continue
            self._note(
                "caught_up",
                f"sync: central caught up {time.monotonic() - back:.1f} s after the link came "
                f"back: it has {self.site}'s changes up to #{hall.get('up_seq', '?')} "
                f"({hall.get('up_rows', 0):,} rows received in all)",
                after_s=round(time.monotonic() - back, 1),
                up_seq=hall.get("up_seq"),
            )
            return
        self._note(
            "not_caught_up",
            "sync: the demo ended before central caught up (the agent backs off up to 60 s)",
        )

    def _central_view(self) -> dict[str, Any]:
        overview = operations.halls_overview(self.central_engine, self.alarm_after_s)
        for hall in overview["halls"]:
            if hall["site"] == self.site:
                return dict(hall)
        return {}

    def write(self, path: Path) -> None:
        document = {
            "events": self.events,
            "hall": {k: v.as_json() for k, v in operations.hall_status(self.hall_engine).items()},
            "central": operations.halls_overview(self.central_engine, self.alarm_after_s),
        }
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
