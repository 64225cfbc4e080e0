from __future__ import annotations

import math

import pytest
from shapely.geometry import Point, box

from gis.geojson import GeoJSONError, from_geojson, to_geojson
from gis.metric import area_m2, buffer_m, distance_m
from gis.zones import ZoneIndex

pytestmark = pytest.mark.unit

TIANANMEN = (116.3975, 39.9087)


def test_buffer_is_in_metres_not_degrees() -> None:
    circle = buffer_m(Point(*TIANANMEN), 500)
    assert area_m2(circle) == pytest.approx(math.pi * 500**2, rel=0.01)
    # East-west extent in degrees is wider than north-south at 40°N.
    minx, miny, maxx, maxy = circle.bounds
    assert (maxx - minx) > (maxy - miny) * 1.2


def test_distance_is_geodesic_metres() -> None:
    # One degree of latitude is about 111 km.
    assert distance_m((116.0, 39.0), (116.0, 40.0)) == pytest.approx(111_050, rel=0.005)


def test_zone_index_finds_the_containing_zone() -> None:
    index = ZoneIndex(
        [("west", box(116.30, 39.88, 116.35, 39.93)), ("east", box(116.35, 39.88, 116.40, 39.93))]
    )
    assert index.zone_of(116.32, 39.90) == "west"
    assert index.zone_of(116.38, 39.90) == "east"
    assert index.zone_of(117.0, 39.90) is None
    assert index.zones_touching(buffer_m(Point(116.35, 39.90), 100)) == ["west", "east"]


def test_geojson_round_trip_and_lat_lon_mixup_is_refused() -> None:
    area = box(116.30, 39.88, 116.35, 39.93)
    assert from_geojson(to_geojson(area)).equals(area)
    with pytest.raises(GeoJSONError, match="lon, lat"):
        from_geojson('{"type":"Point","coordinates":[39.9,116.4]}')
    with pytest.raises(GeoJSONError):
        from_geojson("not json")
