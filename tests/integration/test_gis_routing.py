"""The OSRM and Valhalla adapters against fake servers on localhost speaking their JSON.

The fakes answer like the real servers do (shapes from OSRM's HTTP API docs and
Valhalla's matrix reference and serializer): OSRM's ``code``/``durations`` with ``null``
for no route and HTTP 400 + ``code`` for errors, its table-size limit; Valhalla's concise
and verbose ``sources_to_targets``, its pair limit (error 150), error 171 for a point off
the road and 442 when no pair has a route. Their travel times come from a toy world
(straight line at 8 m/s, an island with no road to it) computed here, so a test knows
every cell to expect and sees whether the adapter put each block in the right place.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from numpy.typing import NDArray

from gis.eta import (
    FallbackTravelTimes,
    HaversineTravelTimes,
    OsrmTravelTimes,
    RoutingBadResponse,
    RoutingRefused,
    RoutingTimeout,
    RoutingUnavailable,
    ValhallaTravelTimes,
)

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
ISLAND_LON = 116.45  # east of this there is no road to anywhere
OFF_ROAD_LAT = 39.80  # south of this a point snaps to no road


def world_seconds(a: tuple[float, float], b: tuple[float, float]) -> float | None:
    if (a[0] > ISLAND_LON) != (b[0] > ISLAND_LON):
        return None
    dx = (b[0] - a[0]) * 111_320 * math.cos(math.radians((a[1] + b[1]) / 2))
    dy = (b[1] - a[1]) * 110_540
    return round(math.hypot(dx, dy) / 8.0, 1)


def expected(
    sources: list[tuple[float, float]], targets: list[tuple[float, float]]
) -> NDArray[np.float64]:
    return np.array(
        [[np.inf if (s := world_seconds(a, b)) is None else s for b in targets] for a in sources]
    )


def points(n: int, seed: int, *, island: int = 0) -> list[tuple[float, float]]:
    """``n`` places in Xicheng, the last ``island`` of them on the island.

    Rounded to the 6 decimals (~0.1 m) the OSRM adapter writes in its URLs, so the fake
    computes from the very coordinates the test does.
    """
    rng = np.random.default_rng(seed)
    lon = np.round(rng.uniform(116.33, 116.40, n), 6)
    lat = np.round(rng.uniform(39.88, 39.95, n), 6)
    found = [(float(x), float(y)) for x, y in zip(lon, lat, strict=True)]
    return found[: n - island] + [(116.46 + 0.001 * i, 39.90) for i in range(island)]


class FakeRouter(ThreadingHTTPServer):
    """One fake server; ``mode`` switches it between normal answers and failures."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode = "ok"  # ok | error500 | hang | html | legacy (Valhalla ignores verbose)
        self.max_table_size = 100  # OSRM's --max-table-size default
        self.max_pairs = 2500  # Valhalla's max_matrix_location_pairs default
        self.release = threading.Event()
        self.requests: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def waypoint(location: tuple[float, float]) -> dict[str, object]:
    return {"hint": "AAAA", "distance": 1.5, "name": "", "location": list(location)}


class Handler(BaseHTTPRequestHandler):
    server: FakeRouter

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: object, content_type: str = "application/json") -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _failure_mode(self) -> bool:
        mode = self.server.mode
        if mode == "error500":
            self._send(500, "<html>Internal Server Error</html>", "text/html")
        elif mode == "html":
            self._send(200, "<html>captive portal</html>", "text/html")
        elif mode == "hang":
            self.server.release.wait(timeout=10)  # bounded: the test releases it
            with contextlib.suppress(OSError):  # the client gave up long ago
                self._send(200, {"code": "Ok"})
        return mode in ("error500", "html", "hang")

    def do_GET(self) -> None:  # OSRM
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        segments = parts.path.split("/")
        if self._failure_mode():
            return
        if len(segments) != 5 or segments[1:3] != ["table", "v1"]:
            self._send(400, {"code": "InvalidService", "message": "Service not found"})
            return
        coords = [(float(x), float(y)) for x, y in (c.split(",") for c in segments[4].split(";"))]
        sources = [int(i) for i in query["sources"].split(";")]
        destinations = [int(i) for i in query["destinations"].split(";")]
        self.server.requests.append(
            {"coordinates": len(coords), "annotations": query.get("annotations")}
        )
        if len(coords) > self.server.max_table_size:
            self._send(400, {"code": "TooBig", "message": "Too many table coordinates"})
            return
        for i, (_, lat) in enumerate(coords):
            if lat < OFF_ROAD_LAT:
                self._send(
                    400,
                    {
                        "code": "NoSegment",
                        "message": f"Could not find a matching segment for coordinate {i}",
                    },
                )
                return
        self._send(
            200,
            {
                "code": "Ok",
                "durations": [
                    [world_seconds(coords[i], coords[j]) for j in destinations] for i in sources
                ],
                "sources": [waypoint(coords[i]) for i in sources],
                "destinations": [waypoint(coords[j]) for j in destinations],
            },
        )

    def do_POST(self) -> None:  # Valhalla
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self._failure_mode():
            return
        if urlsplit(self.path).path != "/sources_to_targets":
            self._send(
                404,
                {
                    "error_code": 106,
                    "error": "Try any of: '/route' '/sources_to_targets'",
                    "status_code": 404,
                    "status": "Not Found",
                },
            )
            return
        sources = [(s["lon"], s["lat"]) for s in body["sources"]]
        targets = [(t["lon"], t["lat"]) for t in body["targets"]]
        self.server.requests.append({"pairs": len(sources) * len(targets), "body": body})
        if len(sources) * len(targets) > self.server.max_pairs:
            self._send(
                400,
                {
                    "error_code": 150,
                    "error": "Exceeded max locations",
                    "status_code": 400,
                    "status": "Bad Request",
                },
            )
            return
        if any(lat < OFF_ROAD_LAT for _, lat in sources + targets):
            self._send(
                400,
                {
                    "error_code": 171,
                    "error": "No suitable edges near location",
                    "status_code": 400,
                    "status": "Bad Request",
                },
            )
            return
        times = [[world_seconds(a, b) for b in targets] for a in sources]
        if all(t is None for row in times for t in row):
            self._send(
                400,
                {
                    "error_code": 442,
                    "error": "No path could be found for input",
                    "status_code": 400,
                    "status": "Bad Request",
                },
            )
            return
        # Valhalla's times are whole seconds.
        times = [[None if t is None else int(t) for t in row] for row in times]
        if body.get("verbose", True) is False and self.server.mode != "legacy":
            matrix: object = {
                "durations": times,
                "distances": [[None if t is None else t * 0.008 for t in row] for row in times],
            }
        else:
            matrix = [
                [
                    {"from_index": i, "to_index": j, "time": None, "distance": None}
                    if t is None
                    else {
                        "from_index": i,
                        "to_index": j,
                        "time": t,
                        "distance": round(t * 0.008, 3),
                    }
                    for j, t in enumerate(row)
                ]
                for i, row in enumerate(times)
            ]
        self._send(
            200, {"sources_to_targets": matrix, "units": "kilometers", "algorithm": "costmatrix"}
        )


@pytest.fixture
def router() -> Iterator[FakeRouter]:
    server = FakeRouter()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


# --- OSRM --------------------------------------------------------------------------------


def test_osrm_small_table_with_an_unroutable_pair(router: FakeRouter) -> None:
    sources, targets = points(3, 1), points(4, 2, island=1)
    result = OsrmTravelTimes(router.url).matrix(sources, targets, AT)
    np.testing.assert_array_equal(result, expected(sources, targets))
    assert np.isinf(result[:, 3]).all()
    assert router.requests == [{"coordinates": 7, "annotations": "duration"}]


def test_osrm_large_matrix_goes_in_blocks_within_the_table_size(router: FakeRouter) -> None:
    sources, targets = points(130, 3, island=2), points(75, 4, island=3)
    result = OsrmTravelTimes(router.url, max_table_size=100).matrix(sources, targets, AT)
    np.testing.assert_array_equal(result, expected(sources, targets))
    assert len(router.requests) > 1
    assert max(r["coordinates"] for r in router.requests) <= 100


def test_osrm_refusals_keep_osrm_code(router: FakeRouter) -> None:
    osrm = OsrmTravelTimes(router.url)
    with pytest.raises(RoutingRefused) as off_road:
        osrm.matrix([(116.36, 39.79)], [(116.37, 39.90)], AT)
    assert (off_road.value.code, off_road.value.http_status) == ("NoSegment", 400)
    assert "coordinate 0" in off_road.value.message
    # A client configured above the server's limit hears TooBig rather than a wrong table.
    with pytest.raises(RoutingRefused, match="TooBig"):
        OsrmTravelTimes(router.url, max_table_size=500).matrix(points(80, 5), points(80, 6), AT)


def test_osrm_server_errors_timeouts_and_garbage_are_typed(router: FakeRouter) -> None:
    a, b = points(2, 7), points(2, 8)
    router.mode = "error500"
    with pytest.raises(RoutingUnavailable, match="HTTP 500"):
        OsrmTravelTimes(router.url).matrix(a, b, AT)
    router.mode = "html"
    with pytest.raises(RoutingBadResponse):
        OsrmTravelTimes(router.url).matrix(a, b, AT)
    router.mode = "hang"
    with pytest.raises(RoutingTimeout):
        OsrmTravelTimes(router.url, timeout_s=0.2).matrix(a, b, AT)
    router.release.set()


def test_nothing_listening_is_unavailable() -> None:
    server = FakeRouter()
    url = server.url
    server.server_close()  # the port is free again: connection refused
    with pytest.raises(RoutingUnavailable):
        OsrmTravelTimes(url).matrix(points(1, 9), points(1, 10), AT)
    with pytest.raises(RoutingUnavailable):
        ValhallaTravelTimes(url).matrix(points(1, 9), points(1, 10), AT)


# --- Valhalla ----------------------------------------------------------------------------


def test_valhalla_concise_and_legacy_verbose_answers(router: FakeRouter) -> None:
    sources, targets = points(4, 11), points(5, 12, island=2)
    want = np.floor(expected(sources, targets))  # Valhalla answers whole seconds
    valhalla = ValhallaTravelTimes(router.url)
    np.testing.assert_array_equal(valhalla.matrix(sources, targets, AT), want)
    sent = router.requests[-1]["body"]
    assert sent["costing"] == "auto" and sent["verbose"] is False
    assert sent["sources"][0] == {"lat": sources[0][1], "lon": sources[0][0]}
    router.mode = "legacy"
    np.testing.assert_array_equal(valhalla.matrix(sources, targets, AT), want)


def test_valhalla_blocks_stay_under_the_pair_limit(router: FakeRouter) -> None:
    sources, targets = points(90, 13, island=5), points(70, 14)
    result = ValhallaTravelTimes(router.url).matrix(sources, targets, AT)
    np.testing.assert_array_equal(result, np.floor(expected(sources, targets)))
    assert len(router.requests) > 1 and max(r["pairs"] for r in router.requests) <= 2500


def test_valhalla_no_path_at_all_is_an_unroutable_block_not_an_error(router: FakeRouter) -> None:
    result = ValhallaTravelTimes(router.url).matrix(points(2, 15), points(3, 16, island=3), AT)
    assert result.shape == (2, 3) and np.isinf(result).all()


def test_valhalla_refusals_keep_valhalla_error_code(router: FakeRouter) -> None:
    with pytest.raises(RoutingRefused) as off_road:
        ValhallaTravelTimes(router.url).matrix([(116.36, 39.79)], points(2, 17), AT)
    assert (off_road.value.code, off_road.value.http_status) == ("171", 400)
    with pytest.raises(RoutingRefused, match="150: Exceeded max locations"):
        ValhallaTravelTimes(router.url, max_pairs=10_000).matrix(points(60, 18), points(60, 19), AT)
    with pytest.raises(RoutingRefused, match="106"):
        ValhallaTravelTimes(router.url + "/wrong").matrix(points(1, 20), points(1, 21), AT)


def test_valhalla_server_errors_and_timeouts_are_typed(router: FakeRouter) -> None:
    router.mode = "error500"
    with pytest.raises(RoutingUnavailable):
        ValhallaTravelTimes(router.url).matrix(points(1, 22), points(1, 23), AT)
    router.mode = "hang"
    with pytest.raises(RoutingTimeout):
        ValhallaTravelTimes(router.url, timeout_s=0.2).matrix(points(1, 22), points(1, 23), AT)
    router.release.set()


# --- the fallback in front of a real adapter ---------------------------------------------


def test_dispatch_keeps_getting_times_while_osrm_is_down(router: FakeRouter) -> None:
    now = [0.0]
    times = FallbackTravelTimes(
        OsrmTravelTimes(router.url), retry_after_s=60, monotonic=lambda: now[0]
    )
    sources, targets = points(3, 24), points(2, 25)
    np.testing.assert_array_equal(times.matrix(sources, targets, AT), expected(sources, targets))

    router.mode = "error500"
    straight = HaversineTravelTimes().matrix(sources, targets, AT)
    np.testing.assert_array_equal(times.matrix(sources, targets, AT), straight)
    assert times.report.serving == "fallback"
    assert times.report.last_error == "unavailable: 127.0.0.1: HTTP 500"

    router.mode = "ok"
    now[0] += 61
    np.testing.assert_array_equal(times.matrix(sources, targets, AT), expected(sources, targets))
    back = times.report
    assert back.serving == "primary" and back.fallback_matrices == 1
