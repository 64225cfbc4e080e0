"""What people ask of sync: how far behind is each direction, since when, and why.

``hall_status`` is the hall's own view (``servicehall sync status``, the hall's /health);
``halls_overview`` is central's list of every hall with its lag and an alarm past a
threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from servicedb.engine import make_session_factory
from servicedb.models import Site, SiteKind, SyncCursor, SyncPeer
from servicedb.types import utcnow
from sync import hall_side
from sync.central_side import Hall


def record_refusal(engine: Engine, hall: Hall, error: str) -> None:
    writer = make_session_factory(engine, serialised_writes=True)
    with writer() as session, session.begin():
        peer = session.get(SyncPeer, hall.site_id)
        if peer is not None:
            peer.last_error = error[:500]
            peer.last_error_at = utcnow()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class Direction:
    pending: int
    lag_s: float | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "pending": self.pending,
            "lag_s": None if self.lag_s is None else round(self.lag_s, 1),
            "last_success_at": _iso(self.last_success_at),
            "last_error": self.last_error,
            "last_error_at": _iso(self.last_error_at),
        }


def hall_status(engine: Engine) -> dict[str, Direction]:
    """Up: changes not yet acknowledged and the age of the oldest. Down: time since the
    last page was applied (central's own lag is on central's list)."""
    now = utcnow()
    waiting = hall_side.pending(engine)
    with Session(engine) as session:
        cursors = {c.name: c for c in session.scalars(select(SyncCursor))}
    up, down = cursors.get(hall_side.UP), cursors.get(hall_side.DOWN_CURSOR)
    return {
        "up": Direction(
            waiting.changes,
            (now - waiting.oldest_at).total_seconds() if waiting.oldest_at else 0.0,
            up.last_success_at if up else None,
            _current_error(up),
            up.last_error_at if up else None,
        ),
        "down": Direction(
            0,
            (now - down.last_success_at).total_seconds() if down and down.last_success_at else None,
            down.last_success_at if down else None,
            _current_error(down),
            down.last_error_at if down else None,
        ),
    }


def _current_error(cursor: SyncCursor | None) -> str | None:
    """The last error, unless a success came after it."""
    if cursor is None or cursor.last_error_at is None:
        return None
    if cursor.last_success_at and cursor.last_success_at > cursor.last_error_at:
        return None
    return cursor.last_error


def halls_overview(engine: Engine, alarm_after_s: float) -> dict[str, Any]:
    now = utcnow()
    halls = []
    with Session(engine) as session:
        rows = session.execute(
            select(Site, SyncPeer)
            .outerjoin(SyncPeer, SyncPeer.site_id == Site.id)
            .where(Site.kind == SiteKind.HALL)
            .order_by(Site.code)
        ).all()
    for site, peer in rows:
        last_contact = max(
            (t for t in (peer and peer.last_up_at, peer and peer.last_down_at) if t), default=None
        )
        silent_s = (now - last_contact).total_seconds() if last_contact else None
        oldest = peer.hall_oldest_pending_at if peer else None
        lag_s = (now - oldest).total_seconds() if oldest else 0.0
        # A hall is late when it has not been heard from, or what it holds is getting old.
        registered = peer is not None and peer.token_sha256 is not None
        # A hall with no sync token is not syncing by choice (not yet opened): listed, no alarm.
        alarm, reason = False, None if registered else "not registered for sync"
        if registered and silent_s is not None and silent_s > alarm_after_s:
            alarm, reason = True, f"silent {silent_s:.0f} s"
        elif registered and lag_s > alarm_after_s:
            alarm, reason = True, f"oldest unsent change {lag_s:.0f} s old"
        halls.append(
            {
                "site": site.code,
                "name_zh": site.name_zh,
                "registered": registered,
                "up_seq": peer.up_seq if peer else 0,
                "up_rows": peer.up_rows if peer else 0,
                "last_up_at": _iso(peer.last_up_at if peer else None),
                "last_down_at": _iso(peer.last_down_at if peer else None),
                "hall_pending": peer.hall_pending if peer else 0,
                "lag_s": round(lag_s, 1),
                "silent_s": None if silent_s is None else round(silent_s, 1),
                "last_error": peer.last_error if peer else None,
                "alarm": alarm,
                "alarm_reason": reason,
            }
        )
    return {
        "alarm_after_s": alarm_after_s,
        "alarms": sum(1 for h in halls if h["alarm"]),
        "halls": halls,
    }
