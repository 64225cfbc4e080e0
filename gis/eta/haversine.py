"""Travel times with no routing service: straight line × detour ÷ the speed of the hour.

Good enough to rank crews by who is nearest and to give a first ETA; a routing service
(:mod:`gis.eta.osrm`, :mod:`gis.eta.valhalla`) replaces it in production, and it is the
fallback when that service is down (:mod:`gis.eta.fallback`).

- Distance: haversine on a sphere of the mean Earth radius. Over a city it is within
  0.5 % of the WGS-84 geodesic (tested against geopy), at about 40 ns a pair instead of
  tens of microseconds.
- Detour: urban road distance is about 1.2–1.3 × the straight line (circuity studies);
  1.3 by default, since Beijing's hutong and walled compounds lengthen the last kilometre.
- Speed: a van's average speed by local hour of day (Asia/Shanghai), interpolated between
  hour midpoints so an ETA does not jump at 07:00. The defaults are rounded figures of the
  order published for central Beijing (weekday peaks near 20–25 km/h, daytime 30, nights
  45), not our measurements: calibrate them from the crews' own recorded trips.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gis.eta.base import Point, as_points, require_aware

EARTH_MEAN_RADIUS_M = 6_371_008.8
BEIJING = ZoneInfo("Asia/Shanghai")

# km/h for each local hour 00 … 23.
BEIJING_WEEKDAY_KMH: tuple[float, ...] = (
    45, 46, 46, 46, 45, 42,  # 00–05: empty roads
    36, 25, 21, 26, 30, 30,  # 06–11: morning peak 07–09
    29, 30, 30, 29, 26, 21,  # 12–17: evening peak builds from 16
    20, 25, 31, 36, 40, 43,  # 18–23
)  # fmt: skip
BEIJING_WEEKEND_KMH: tuple[float, ...] = (
    45, 46, 46, 46, 46, 44,
    40, 36, 32, 29, 27, 27,
    28, 28, 27, 26, 25, 24,
    25, 28, 32, 36, 40, 43,
)  # fmt: skip


@dataclass(frozen=True)
class SpeedProfile:
    """Average driving speed (km/h) by local hour, for weekdays and weekends."""

    weekday_kmh: tuple[float, ...] = BEIJING_WEEKDAY_KMH
    weekend_kmh: tuple[float, ...] = BEIJING_WEEKEND_KMH
    timezone: ZoneInfo = BEIJING

    def __post_init__(self) -> None:
        for name in ("weekday_kmh", "weekend_kmh"):
            values = getattr(self, name)
            if len(values) != 24 or not all(0 < v < 200 for v in values):
                raise ValueError(f"{name}: 24 speeds in km/h, each above 0, are needed")

    def kmh_at(self, at: datetime) -> float:
        """The speed at ``at``, linear between the midpoints of neighbouring hours."""
        require_aware(at)
        local = at.astimezone(self.timezone)
        hours = self.weekend_kmh if local.weekday() >= 5 else self.weekday_kmh
        position = local.hour + local.minute / 60 + local.second / 3600 - 0.5
        before = int(np.floor(position)) % 24
        after = (before + 1) % 24
        share = position - np.floor(position)
        return float(hours[before] * (1 - share) + hours[after] * share)


def _unit_vectors(points: NDArray[np.float64]) -> NDArray[np.float64]:
    lon, lat = np.radians(points[:, 0]), np.radians(points[:, 1])
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def haversine_m(sources: NDArray[np.float64], targets: NDArray[np.float64]) -> NDArray[np.float64]:
    """Great-circle metres between every ``(lon, lat)`` row of ``sources`` and of ``targets``.

    The haversine angle computed through the chord between unit vectors, θ = 2·asin(c/2):
    the same number, but the trigonometry runs once per point instead of once per pair,
    and differences of nearby coordinates keep their precision down to millimetres.
    """
    a, b = _unit_vectors(sources), _unit_vectors(targets)
    chord2: NDArray[np.float64] = np.subtract.outer(a[0], b[0])
    chord2 *= chord2
    part = np.subtract.outer(a[1], b[1])
    part *= part
    chord2 += part
    np.subtract.outer(a[2], b[2], out=part)
    part *= part
    chord2 += part
    np.sqrt(chord2, out=chord2)
    chord2 *= 0.5
    np.minimum(chord2, 1.0, out=chord2)  # antipodes: rounding must not push asin past 1
    np.arcsin(chord2, out=chord2)
    chord2 *= 2 * EARTH_MEAN_RADIUS_M
    return chord2


class HaversineTravelTimes:
    """Seconds = haversine metres × ``detour`` ÷ the profile's speed at departure."""

    def __init__(self, detour: float = 1.3, speeds: SpeedProfile | None = None) -> None:
        if not 1.0 <= detour <= 3.0:
            raise ValueError("detour: road distance over straight-line distance, 1.0–3.0")
        self.detour = detour
        self.speeds = speeds or SpeedProfile()

    def matrix(
        self,
        sources: Sequence[Point] | ArrayLike,
        targets: Sequence[Point] | ArrayLike,
        at: datetime,
    ) -> NDArray[np.float64]:
        src = as_points(sources, "sources")
        dst = as_points(targets, "targets")
        metres_per_second = self.speeds.kmh_at(at) / 3.6
        if len(src) == 0 or len(dst) == 0:
            return np.empty((len(src), len(dst)), dtype=np.float64)
        seconds = haversine_m(src, dst)
        seconds *= self.detour / metres_per_second
        return seconds
