"""WGS-84 ↔ GCJ-02, used only at the edge where a Chinese map app is opened.

Everything we store and compute is WGS-84 ``(lon, lat)``: phones and GPS units report it,
OSRM and Valhalla route on it. Chinese map apps (Amap/高德, Tencent) draw their tiles in
GCJ-02, the state-mandated obfuscation of WGS-84, shifted by a few hundred metres in a
non-linear way. A WGS-84 point shown on an Amap tile lands in the wrong street, so the one
place that converts is the link that opens Amap (:func:`amap_marker_url`); a point picked
on an Amap map comes back through :func:`gcj02_to_wgs84` before it is stored.

The forward transform is the well-known public algorithm (Krasovsky 1940 ellipsoid,
a = 6378245 m); it is the same as the ``coordtransform`` and ``eviltransform`` libraries,
and tests check our numbers against theirs. Outside China's bounding box GCJ-02 equals
WGS-84 and nothing is shifted. There is no closed-form inverse: :func:`gcj02_to_wgs84`
iterates the forward transform until it lands on the given GCJ-02 point (to ~1 mm).
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the published algorithm has it
_EE = 0.00669342162296594323  # its first eccentricity squared

# The bounding box the published algorithm treats as "China"; outside it GCJ-02 = WGS-84.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)


def out_of_china(lon: float, lat: float) -> bool:
    return not (_CHINA_LON[0] <= lon <= _CHINA_LON[1] and _CHINA_LAT[0] <= lat <= _CHINA_LAT[1])


def _offset_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _offset_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _check(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"not a (lon, lat) in degrees: ({lon}, {lat})")


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """The GCJ-02 ``(lon, lat)`` a Chinese map app draws a WGS-84 point at."""
    _check(lon, lat)
    if out_of_china(lon, lat):
        return lon, lat
    d_lat = _offset_lat(lon - 105.0, lat - 35.0)
    d_lon = _offset_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """The WGS-84 point that GCJ-02 shifts to ``(lon, lat)``, to about a millimetre.

    The shift varies slowly (a few metres per kilometre), so fixed-point iteration
    w ← w + (g − forward(w)) converges in a handful of steps.
    """
    _check(lon, lat)
    if out_of_china(lon, lat):
        return lon, lat
    w_lon, w_lat = lon, lat
    for _ in range(30):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = lon - f_lon, lat - f_lat
        w_lon, w_lat = w_lon + e_lon, w_lat + e_lat
        if abs(e_lon) < 1e-10 and abs(e_lat) < 1e-10:  # 1e-10° ≈ 0.01 mm
            break
    return w_lon, w_lat


def amap_marker_url(lon: float, lat: float, name: str, *, source: str = "servicehall") -> str:
    """A link that opens Amap (web, or the app on a phone) with a marker at a WGS-84 point.

    Amap's URI API takes GCJ-02 by default (``coordinate=gaode``); we convert here, at the
    edge, rather than leaning on its ``coordinate=wgs84`` switch, so the same numbers can go
    to any GCJ-02 app (Tencent maps too).
    """
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    query = urlencode(
        {
            "position": f"{g_lon:.6f},{g_lat:.6f}",
            "name": name,
            "src": source,
            "coordinate": "gaode",
            "callnative": "1",
        }
    )
    return f"https://uri.amap.com/marker?{query}"
