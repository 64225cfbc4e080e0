"""GeoJSON in and out of shapely, refusing coordinates that are not plausible [lon, lat]."""

from __future__ import annotations

import json
from typing import Any

from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry


class GeoJSONError(ValueError):
    pass


def to_geojson(geometry: BaseGeometry) -> str:
    return json.dumps(mapping(geometry), separators=(",", ":"))


def from_geojson(text: str) -> BaseGeometry:
    try:
        data: Any = json.loads(text)
        geometry = shape(data)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise GeoJSONError(f"not a GeoJSON geometry: {err}") from err
    minx, miny, maxx, maxy = geometry.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GeoJSONError("coordinates out of range: GeoJSON takes [lon, lat]")
    return geometry
