"""Outage areas: drawn by a dispatcher, or derived from a burst main and the DMAs.

A water network is split into district metered areas (DMAs, 计量分区): each is fed
through a few metered inlets whose valves can close it off. So when a main bursts, the
first answer to "who loses water" is the DMA the burst lies in. The rules, in order:

1. **The DMAs holding the burst.** A burst exactly on the border of two DMAs is in both,
   and the area is their union (either may be fed by the broken main).
2. **Local outage** (``radius_m``): crews can often close a few valves inside the DMA and
   cut only the streets around the burst. The area is then a circle of ``radius_m``
   metres around the burst, *clipped* to the DMAs of rule 1 — the outage does not leak
   into a neighbour that is fed through its own inlets.
3. **Margin** (``margin_m``, without ``radius_m``): pressure also drops just across the
   border, where a neighbour's premises hang off mains near the shared boundary. The DMAs
   of rule 1 are grown by ``margin_m`` metres and clipped to the network (the union of all
   DMAs), so the area never covers ground the utility does not supply.

Buffers are computed in metres (:mod:`gis.metric`), never in degrees. What comes back is
always a valid Polygon or MultiPolygon, ready for :class:`gis.premises_index.PremisesIndex`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from gis.metric import area_m2, buffer_m, distance_to_m
from gis.premises_index import InvalidArea
from gis.zones import ZoneIndex

K = TypeVar("K", bound=Hashable)
C = TypeVar("C")

# A DMA that shares less than this with the area only touches it through a rounding sliver.
_SLIVER_M2 = 1.0


class BurstOutsideNetwork(ValueError):
    """The burst lies in no district metered area: there is no DMA to isolate."""


@dataclass(frozen=True)
class OutageArea(Generic[K]):
    area: Polygon | MultiPolygon
    districts: tuple[K, ...]  # the DMAs holding the burst (rule 1)
    touched: tuple[K, ...]  # every DMA whose premises the area reaches


def polygonal(geometry: BaseGeometry) -> Polygon | MultiPolygon:
    """The polygonal part of a geometry, repaired if invalid; refused if there is none.

    A dispatcher's hand-drawn ring may cross itself; ``make_valid`` splits a bow-tie into
    its two lobes instead of letting a point-in-polygon test answer nonsense. Lines and
    points (what is left where two polygons only touch) are dropped.
    """
    fixed = geometry if geometry.is_valid else shapely.make_valid(geometry)
    polygons: list[Polygon] = []
    for part in shapely.get_parts(fixed):
        if isinstance(part, MultiPolygon):
            polygons.extend(part.geoms)
        elif isinstance(part, Polygon) and not part.is_empty:
            polygons.append(part)
    if not polygons:
        raise InvalidArea(f"no polygon in this {geometry.geom_type}: an outage needs an area")
    if len(polygons) == 1:
        return polygons[0]
    merged = shapely.union_all(polygons)
    if not isinstance(merged, Polygon | MultiPolygon):  # a union of polygons is polygonal
        raise InvalidArea(f"the union of the parts is a {merged.geom_type}")
    return merged


class DistrictMeteredAreas(Generic[K]):
    """The network's DMAs, keyed by the caller's ids, for deriving burst outage areas."""

    def __init__(self, dmas: Iterable[tuple[K, BaseGeometry]]) -> None:
        pairs = [(key, polygonal(geometry)) for key, geometry in dmas]
        if not pairs:
            raise ValueError("no district metered areas given")
        self._shapes: dict[K, Polygon | MultiPolygon] = dict(pairs)
        self._index = ZoneIndex(pairs)
        self._network = polygonal(shapely.union_all([shape for _, shape in pairs]))

    def burst_area(
        self,
        burst: tuple[float, float],
        *,
        radius_m: float | None = None,
        margin_m: float = 0.0,
    ) -> OutageArea[K]:
        """The outage area for a burst at WGS-84 ``(lon, lat)``, by the rules in the module doc."""
        if radius_m is not None and radius_m <= 0:
            raise ValueError("radius_m: a local outage needs a positive radius")
        if margin_m < 0:
            raise ValueError("margin_m cannot be negative")
        districts = self._index.zones_at(*burst)
        if not districts:
            raise BurstOutsideNetwork(f"no DMA holds the burst at {burst}")
        base = polygonal(shapely.union_all([self._shapes[key] for key in districts]))
        if radius_m is not None:
            area = polygonal(buffer_m(Point(*burst), radius_m).intersection(base))
        elif margin_m > 0:
            area = polygonal(buffer_m(base, margin_m).intersection(self._network))
        else:
            area = base
        touched = tuple(
            key
            for key in self._index.zones_touching(area)
            if area_m2(self._shapes[key].intersection(area)) >= _SLIVER_M2
        )
        return OutageArea(area, tuple(districts), touched)


def halls_touched(
    area: BaseGeometry, halls: Iterable[tuple[C, float, float]], radius_m: float
) -> list[C]:
    """Codes of the halls within ``radius_m`` metres of the area, in the order given.

    ``halls`` are ``(code, lon, lat)``. A hall inside the area is at distance 0. The same
    rule as the hall's own board uses: an outage is news for the people within
    ``radius_m`` of the hall (``hall.notice_radius_m``).
    """
    if radius_m < 0:
        raise ValueError("radius_m cannot be negative")
    return [code for code, lon, lat in halls if distance_to_m((lon, lat), area) <= radius_m]
