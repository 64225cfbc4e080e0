"""Which zone (district metered area) a point lies in, with a spatial index."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

from shapely import STRtree
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

K = TypeVar("K", bound=Hashable)


class ZoneIndex(Generic[K]):
    """Point-in-polygon lookup over many zones in O(log n) per query."""

    def __init__(self, zones: Iterable[tuple[K, BaseGeometry]]) -> None:
        pairs = list(zones)
        self._keys = [key for key, _ in pairs]
        self._tree = STRtree([geometry for _, geometry in pairs])

    def zone_of(self, lon: float, lat: float) -> K | None:
        hits = self._tree.query(Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        # Shared borders: the lowest-indexed zone wins, so the answer is stable.
        return self._keys[int(min(hits))]

    def zones_at(self, lon: float, lat: float) -> list[K]:
        """Every zone holding the point, borders included: a point on a shared border is in both."""
        hits = self._tree.query(Point(lon, lat), predicate="intersects")
        return [self._keys[int(i)] for i in sorted(hits)]

    def zones_touching(self, area: BaseGeometry) -> list[K]:
        return [self._keys[int(i)] for i in sorted(self._tree.query(area, predicate="intersects"))]
