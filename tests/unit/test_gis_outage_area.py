"""Outage areas derived from a burst and the DMAs, drawn areas repaired, halls touched."""

from __future__ import annotations

import math

import pytest
from pyproj import Geod
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from gis.metric import area_m2
from gis.outage_area import (
    BurstOutsideNetwork,
    DistrictMeteredAreas,
    halls_touched,
    polygonal,
)
from gis.premises_index import InvalidArea

pytestmark = pytest.mark.unit

GEOD = Geod(ellps="WGS84")
# Four DMAs in a 2 × 2 block around (116.365, 39.915); the network ends at their edges.
MID_LON, MID_LAT = 116.365, 39.915
DMAS = {
    "SW": box(116.33, 39.88, MID_LON, MID_LAT),
    "SE": box(MID_LON, 39.88, 116.40, MID_LAT),
    "NW": box(116.33, MID_LAT, MID_LON, 39.95),
    "NE": box(MID_LON, MID_LAT, 116.40, 39.95),
}


def moved(lon: float, lat: float, bearing_deg: float, metres: float) -> tuple[float, float]:
    """A point ``metres`` away on the WGS-84 ellipsoid (independent of gis.metric)."""
    lon2, lat2, _ = GEOD.fwd(lon, lat, bearing_deg, metres)
    return lon2, lat2


@pytest.fixture
def network() -> DistrictMeteredAreas[str]:
    return DistrictMeteredAreas(DMAS.items())


def test_a_burst_isolates_its_dma(network: DistrictMeteredAreas[str]) -> None:
    outage = network.burst_area((116.35, 39.93))
    assert outage.area.equals(DMAS["NW"])
    assert (outage.districts, outage.touched) == (("NW",), ("NW",))


def test_a_burst_on_a_shared_border_takes_both_dmas(network: DistrictMeteredAreas[str]) -> None:
    outage = network.burst_area((MID_LON, 39.93))
    assert outage.area.equals(DMAS["NW"].union(DMAS["NE"]))
    assert outage.districts == ("NW", "NE")


def test_a_local_outage_is_a_metric_circle_clipped_to_the_dma(
    network: DistrictMeteredAreas[str],
) -> None:
    inside = network.burst_area((116.35, 39.93), radius_m=300)
    assert area_m2(inside.area) == pytest.approx(math.pi * 300**2, rel=0.01)
    assert inside.touched == ("NW",)
    # 100 m west of the NW/NE border: the circle is cut at the border, not spilled over.
    near_border = moved(MID_LON, 39.93, 270, 100)
    clipped = network.burst_area(near_border, radius_m=300)
    assert area_m2(clipped.area) < 0.8 * math.pi * 300**2
    assert area_m2(clipped.area.difference(DMAS["NW"])) < 1.0
    assert clipped.touched == ("NW",)


def test_a_margin_reaches_across_the_border_but_not_off_the_network(
    network: DistrictMeteredAreas[str],
) -> None:
    outage = network.burst_area((116.35, 39.93), margin_m=200)
    assert outage.area.contains(Point(moved(MID_LON, 39.93, 90, 150)))  # 150 m into NE
    assert not outage.area.contains(Point(moved(MID_LON, 39.93, 90, 250)))
    # Across the corner into SE the margin is a quarter circle around the corner.
    assert outage.area.contains(Point(moved(MID_LON, MID_LAT, 135, 150)))
    assert not outage.area.contains(Point(moved(MID_LON, MID_LAT, 135, 250)))
    assert set(outage.touched) == {"NW", "NE", "SW", "SE"}  # the SE corner is touched diagonally
    # West and north the network ends: the margin stops there.
    network_shape = DMAS["NW"].union(DMAS["NE"]).union(DMAS["SW"]).union(DMAS["SE"])
    assert area_m2(outage.area.difference(network_shape)) < 1.0
    assert isinstance(outage.area, Polygon)


def test_a_burst_outside_every_dma_is_refused(network: DistrictMeteredAreas[str]) -> None:
    with pytest.raises(BurstOutsideNetwork):
        network.burst_area((116.50, 39.90))
    with pytest.raises(ValueError, match="radius"):
        network.burst_area((116.35, 39.93), radius_m=0)


def test_a_self_crossing_drawing_is_repaired_and_a_line_is_refused() -> None:
    bow_tie = Polygon([(116.34, 39.89), (116.36, 39.91), (116.36, 39.89), (116.34, 39.91)])
    repaired = polygonal(bow_tie)
    assert isinstance(repaired, MultiPolygon) and repaired.is_valid
    assert len(repaired.geoms) == 2
    assert repaired.contains(Point(116.342, 39.90)) and repaired.contains(Point(116.358, 39.90))
    with pytest.raises(InvalidArea, match="LineString"):
        polygonal(LineString([(116.34, 39.89), (116.36, 39.91)]))


def test_halls_within_the_radius_of_the_area_in_the_order_given() -> None:
    area = DMAS["NW"]
    east_edge = (MID_LON, 39.93)
    halls = [
        ("inside", 116.35, 39.93),
        ("east-500m", *moved(*east_edge, 90, 500)),
        ("east-1500m", *moved(*east_edge, 90, 1500)),
        ("north-900m", *moved(116.35, 39.95, 0, 900)),
    ]
    assert halls_touched(area, halls, 1000) == ["inside", "east-500m", "north-900m"]
    assert halls_touched(area, halls, 450) == ["inside"]
    # The rule is about metres, not degrees: 490 m and 510 m fall either side of 500 m.
    assert halls_touched(area, [("a", *moved(*east_edge, 90, 490))], 500) == ["a"]
    assert halls_touched(area, [("b", *moved(*east_edge, 90, 510))], 500) == []
