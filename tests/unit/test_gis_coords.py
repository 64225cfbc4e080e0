"""WGS-84 ↔ GCJ-02 against the numbers published by two reference implementations."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gis.coords import amap_marker_url, gcj02_to_wgs84, out_of_china, wgs84_to_gcj02
from gis.metric import distance_m

pytestmark = pytest.mark.unit

# wandergis/coordtransform, README and test file: wgs84togcj02(116.404, 39.915).
COORDTRANSFORM_WGS = (116.404, 39.915)
COORDTRANSFORM_GCJ = (116.41024449916938, 39.91640428150164)

# googollee/eviltransform, python/test.py: (wgsLat, wgsLng, gcjLat, gcjLng).
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


def test_forward_matches_coordtransform_to_the_last_digits() -> None:
    lon, lat = wgs84_to_gcj02(*COORDTRANSFORM_WGS)
    assert lon == pytest.approx(COORDTRANSFORM_GCJ[0], abs=1e-12)
    assert lat == pytest.approx(COORDTRANSFORM_GCJ[1], abs=1e-12)


@pytest.mark.parametrize(("wgs_lat", "wgs_lon", "gcj_lat", "gcj_lon"), EVILTRANSFORM)
def test_forward_and_exact_inverse_match_eviltransform(
    wgs_lat: float, wgs_lon: float, gcj_lat: float, gcj_lon: float
) -> None:
    lon, lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
    assert (lon, lat) == pytest.approx((gcj_lon, gcj_lat), abs=1e-6)
    # eviltransform asks its exact inverse to land within 0.5 m; ours is within a centimetre.
    back = gcj02_to_wgs84(gcj_lon, gcj_lat)
    assert distance_m(back, (wgs_lon, wgs_lat)) < 0.01


def test_the_shift_in_beijing_is_hundreds_of_metres() -> None:
    # Why it matters: a WGS-84 point drawn on an Amap tile is a street away.
    shifted = wgs84_to_gcj02(*COORDTRANSFORM_WGS)
    assert 100 < distance_m(COORDTRANSFORM_WGS, shifted) < 700


def test_outside_china_nothing_moves() -> None:
    assert out_of_china(13.3889, 52.5170)
    assert wgs84_to_gcj02(13.3889, 52.5170) == (13.3889, 52.5170)
    assert gcj02_to_wgs84(-74.006, 40.7128) == (-74.006, 40.7128)


@settings(deadline=None)
@given(
    st.floats(min_value=73.0, max_value=135.0),
    st.floats(min_value=18.0, max_value=53.0),
)
def test_inverse_undoes_forward_anywhere_in_china(lon: float, lat: float) -> None:
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert distance_m(back, (lon, lat)) < 0.01


def test_nonsense_coordinates_are_refused() -> None:
    with pytest.raises(ValueError, match="lon, lat"):
        wgs84_to_gcj02(float("nan"), 39.9)
    with pytest.raises(ValueError):
        gcj02_to_wgs84(39.9, 116.4)  # lat, lon swapped: 116° is no latitude


def test_amap_link_carries_gcj02_and_says_so() -> None:
    url = amap_marker_url(*COORDTRANSFORM_WGS, "爆管 西城区")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "uri.amap.com", "/marker")
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query["position"] == "116.410244,39.916404"
    assert query["coordinate"] == "gaode"
    assert query["name"] == "爆管 西城区"
