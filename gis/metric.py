"""Work in metres near a place: a local azimuthal equidistant projection.

Buffers and areas are never computed in degrees (a degree of longitude is 85 km in Beijing
and 111 km at the equator); geometries go to metres around their own centre and back.
"""

from __future__ import annotations

from functools import lru_cache

import shapely
from pyproj import Geod, Transformer
from shapely.geometry.base import BaseGeometry

_WGS84 = Geod(ellps="WGS84")


@lru_cache(maxsize=64)
def _transformers(lon0: float, lat0: float) -> tuple[Transformer, Transformer]:
    local = f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m"
    forward = Transformer.from_crs("EPSG:4326", local, always_xy=True)
    back = Transformer.from_crs(local, "EPSG:4326", always_xy=True)
    return forward, back


def _origin(geometry: BaseGeometry) -> tuple[float, float]:
    centre = geometry.centroid
    # Rounded so nearby geometries share a cached transformer.
    return round(centre.x, 2), round(centre.y, 2)


def buffer_m(geometry: BaseGeometry, metres: float) -> BaseGeometry:
    forward, back = _transformers(*_origin(geometry))
    local = shapely.transform(geometry, forward.transform, interleaved=False).buffer(metres)
    return shapely.transform(local, back.transform, interleaved=False)


def area_m2(geometry: BaseGeometry) -> float:
    if geometry.is_empty:
        return 0.0  # an empty intersection has no centre to project around
    forward, _ = _transformers(*_origin(geometry))
    return float(shapely.transform(geometry, forward.transform, interleaved=False).area)


def distance_to_m(point: tuple[float, float], geometry: BaseGeometry) -> float:
    """Metres from a ``(lon, lat)`` point to the nearest part of a geometry (0 inside it).

    Both are projected around the point itself, where the local projection is true to
    scale, so this holds for the few kilometres a hall's notice radius spans.
    """
    forward, _ = _transformers(round(point[0], 3), round(point[1], 3))
    x, y = forward.transform(point[0], point[1])
    local = shapely.transform(geometry, forward.transform, interleaved=False)
    return float(shapely.distance(shapely.Point(x, y), local))


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance between two ``(lon, lat)`` points, in metres."""
    _, _, metres = _WGS84.inv(a[0], a[1], b[0], b[1])
    return float(metres)
