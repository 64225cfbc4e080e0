"""Where the technicians are: the last position each one reported, and whether it is stale.

``CrewPositions`` is the seam between who writes positions and who reads them. The GPS
ingest (branch dispatch-field) may keep last-known positions in memory and implement it
directly; ``DbCrewPositions`` reads the same answer from ``gps_fixes`` so the console and
the planner work whoever fills that table.

Stale: a phone that has said nothing for ``stale_after`` (default 5 minutes; OwnTracks in
*move* mode reports every few seconds to a minute) is shown faded on the map and its
position is not trusted for travel times — the planner falls back to the crew's depot.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from servicedb.models import GpsFix, Technician
from servicedb.types import utcnow

DEFAULT_STALE_AFTER = timedelta(minutes=5)
# Fixes older than this are no position at all (a phone left in a locker over the weekend).
DEFAULT_HORIZON = timedelta(hours=24)


@dataclass(frozen=True)
class CrewPosition:
    technician_id: uuid.UUID
    tracker_user: str
    crew_id: uuid.UUID
    lon: float
    lat: float
    fix_at: datetime
    accuracy_m: float | None
    speed_kmh: float | None
    course_deg: float | None
    stale: bool

    def age_s(self, now: datetime) -> float:
        return max((now - self.fix_at).total_seconds(), 0.0)


class CrewPositions(Protocol):
    def latest(self) -> list[CrewPosition]:
        """Each technician's newest position within the horizon, with its staleness now."""
        ...


class DbCrewPositions:
    """Reads ``gps_fixes``: the newest fix per technician, one query over the (technician, time) index."""

    def __init__(
        self,
        engine: Engine,
        *,
        stale_after: timedelta = DEFAULT_STALE_AFTER,
        horizon: timedelta = DEFAULT_HORIZON,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self.stale_after = stale_after
        self.horizon = horizon
        self._clock = clock

    def latest(self) -> list[CrewPosition]:
        now = self._clock()
        newest = (
            select(GpsFix.technician_id, func.max(GpsFix.fix_at).label("fix_at"))
            .where(GpsFix.fix_at >= now - self.horizon)
            .group_by(GpsFix.technician_id)
            .subquery()
        )
        query = (
            select(GpsFix, Technician.tracker_user, Technician.crew_id)
            .join(
                newest,
                (newest.c.technician_id == GpsFix.technician_id)
                & (newest.c.fix_at == GpsFix.fix_at),
            )
            .join(Technician, Technician.id == GpsFix.technician_id)
            .order_by(Technician.tracker_user)
        )
        positions: dict[uuid.UUID, CrewPosition] = {}
        with Session(self._engine) as session:
            for fix, tracker_user, crew_id in session.execute(query):
                if fix.technician_id in positions:
                    continue  # two fixes with the same timestamp: either will do
                positions[fix.technician_id] = CrewPosition(
                    technician_id=fix.technician_id,
                    tracker_user=tracker_user,
                    crew_id=crew_id,
                    lon=fix.lon,
                    lat=fix.lat,
                    fix_at=fix.fix_at,
                    accuracy_m=fix.accuracy_m,
                    speed_kmh=fix.speed_kmh,
                    course_deg=fix.course_deg,
                    stale=now - fix.fix_at > self.stale_after,
                )
        return list(positions.values())
