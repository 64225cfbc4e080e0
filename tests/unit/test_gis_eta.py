"""Travel-time matrices: the straight-line model, the answer parsers, blocks, the fallback."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import ArrayLike, NDArray

from gis.eta import (
    FallbackTravelTimes,
    HaversineTravelTimes,
    RoutingBadResponse,
    RoutingError,
    RoutingRefused,
    RoutingReport,
    RoutingUnavailable,
    SpeedProfile,
    TravelTimes,
    haversine_m,
)
from gis.eta._http import chunks, load_json
from gis.eta.base import require_aware
from gis.eta.haversine import BEIJING_WEEKDAY_KMH, BEIJING_WEEKEND_KMH
from gis.eta.osrm import OsrmTravelTimes, parse_table
from gis.eta.valhalla import ValhallaTravelTimes, parse_sources_to_targets

pytestmark = pytest.mark.unit

BEIJING = ZoneInfo("Asia/Shanghai")
MONDAY_0830 = datetime(2026, 11, 23, 8, 30, tzinfo=BEIJING)
SATURDAY_0830 = datetime(2026, 11, 28, 8, 30, tzinfo=BEIJING)
XICHENG = st.tuples(st.floats(116.30, 116.45), st.floats(39.85, 39.98))


# --- the straight-line model -----------------------------------------------------------


@settings(deadline=None)
@given(st.lists(XICHENG, min_size=1, max_size=5), st.lists(XICHENG, min_size=1, max_size=5))
def test_haversine_is_within_half_a_percent_of_the_geodesic(
    sources: list[tuple[float, float]], targets: list[tuple[float, float]]
) -> None:
    metres = haversine_m(np.array(sources), np.array(targets))
    for i, (lon1, lat1) in enumerate(sources):
        for j, (lon2, lat2) in enumerate(targets):
            reference = geodesic((lat1, lon1), (lat2, lon2)).meters  # geopy takes (lat, lon)
            assert metres[i, j] == pytest.approx(reference, rel=0.005, abs=0.01)


def test_travel_time_is_distance_times_detour_over_the_speed_of_the_hour() -> None:
    hall, burst, far = (116.3660, 39.9130), (116.3790, 39.9330), (116.3300, 39.8800)
    times = HaversineTravelTimes(detour=1.3).matrix([hall, far], [burst], MONDAY_0830)
    # 08:30 is the middle of hour 8, so the speed is the table's 8 o'clock value exactly.
    metres_per_second = BEIJING_WEEKDAY_KMH[8] / 3.6
    for i, source in enumerate((hall, far)):
        straight = geodesic(source[::-1], burst[::-1]).meters
        assert times[i, 0] == pytest.approx(straight * 1.3 / metres_per_second, rel=0.005)


def test_the_hour_is_beijing_local_whatever_the_timezone_given() -> None:
    model = HaversineTravelTimes()
    a, b = [(116.36, 39.91)], [(116.38, 39.93)]
    as_utc = MONDAY_0830.astimezone(UTC)  # 00:30 UTC
    assert model.matrix(a, b, as_utc)[0, 0] == model.matrix(a, b, MONDAY_0830)[0, 0]


def test_speeds_follow_the_profile_by_weekday_weekend_and_between_hours() -> None:
    profile = SpeedProfile()
    assert profile.kmh_at(MONDAY_0830) == BEIJING_WEEKDAY_KMH[8]
    assert profile.kmh_at(SATURDAY_0830) == BEIJING_WEEKEND_KMH[8]
    # At 07:00 the speed is halfway between the 06 and 07 o'clock values, and it does
    # not jump across the hour.
    seven = datetime(2026, 11, 23, 7, 0, tzinfo=BEIJING)
    assert profile.kmh_at(seven) == pytest.approx(
        (BEIJING_WEEKDAY_KMH[6] + BEIJING_WEEKDAY_KMH[7]) / 2
    )
    just_before = profile.kmh_at(seven - timedelta(seconds=1))
    assert abs(just_before - profile.kmh_at(seven)) < 0.01
    # Just after midnight it blends with 23 o'clock, not with a missing hour 24.
    midnight = datetime(2026, 11, 24, 0, 0, tzinfo=BEIJING)
    assert profile.kmh_at(midnight) == pytest.approx(
        (BEIJING_WEEKDAY_KMH[23] + BEIJING_WEEKDAY_KMH[0]) / 2
    )
    assert min(BEIJING_WEEKDAY_KMH) == BEIJING_WEEKDAY_KMH[18]  # the evening peak is slowest


def test_a_profile_needs_24_positive_speeds() -> None:
    with pytest.raises(ValueError, match="24 speeds"):
        SpeedProfile(weekday_kmh=(30.0,) * 23)
    with pytest.raises(ValueError):
        SpeedProfile(weekend_kmh=(0.0,) * 24)


def test_model_edges() -> None:
    model = HaversineTravelTimes()
    here = (116.36, 39.91)
    assert model.matrix([here], [here], MONDAY_0830)[0, 0] == 0.0
    assert model.matrix([], [here], MONDAY_0830).shape == (0, 1)
    assert model.matrix(np.array([here] * 3), [here] * 2, MONDAY_0830).shape == (3, 2)
    assert isinstance(model, TravelTimes)
    with pytest.raises(ValueError, match="timezone-aware"):
        model.matrix([here], [here], datetime(2026, 11, 23, 8, 30))
    with pytest.raises(ValueError, match=r"\(lon, lat\)"):
        model.matrix([(39.91, 116.36)], [here], MONDAY_0830)  # lat, lon swapped
    with pytest.raises(ValueError, match="pairs"):
        model.matrix([(116.36, 39.91, 0.0)], [here], MONDAY_0830)
    with pytest.raises(ValueError, match="detour"):
        HaversineTravelTimes(detour=0.5)


# --- blocks small enough for one request ------------------------------------------------


@settings(deadline=None)
@given(st.integers(0, 150), st.integers(0, 150), st.integers(4, 120), st.booleans())
def test_blocks_cover_every_pair_once_within_the_limit(
    n_sources: int, n_targets: int, limit: int, osrm_rule: bool
) -> None:
    def fits(s: int) -> int:
        return limit - s if osrm_rule else limit // s

    blocks = list(chunks(n_sources, n_targets, fits))
    for rows, cols in blocks:
        s, t = rows.stop - rows.start, cols.stop - cols.start
        assert s >= 1 and 1 <= t <= fits(s)
    # The blocks are a grid: row bands × column bands, each band tiling its axis once,
    # so every pair is asked for exactly once.
    row_bands = sorted({(r.start, r.stop) for r, _ in blocks})
    col_bands = sorted({(c.start, c.stop) for _, c in blocks})
    for bands, n in ((row_bands, n_sources), (col_bands, n_targets)):
        edges = [0] + [stop for _, stop in bands]
        assert [start for start, _ in bands] == edges[:-1]
        assert edges[-1] == (n if blocks else 0)
    assert sorted((r.start, r.stop, c.start, c.stop) for r, c in blocks) == [
        (*r, *c) for r in row_bands for c in col_bands
    ]
    if (
        n_sources
        and n_targets
        and (n_sources + n_targets <= limit if osrm_rule else n_sources * n_targets <= limit)
    ):
        assert len(blocks) == 1


# --- parsing the services' answers ------------------------------------------------------

CELL = st.one_of(st.none(), st.integers(0, 10**6), st.floats(0, 1e6))
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def _grid(draw: st.DrawFn) -> tuple[int, int, list[list[Any]]]:
    n = draw(st.integers(1, 4))
    m = draw(st.integers(1, 4))
    return n, m, [[draw(CELL) for _ in range(m)] for _ in range(n)]


@st.composite
def grids(draw: st.DrawFn) -> tuple[int, int, list[list[Any]]]:
    return _grid(draw)


def _expected(rows: list[list[Any]]) -> NDArray[np.float64]:
    return np.array([[np.inf if v is None else float(v) for v in row] for row in rows])


@settings(deadline=None)
@given(grids())
def test_osrm_durations_are_read_cell_for_cell_with_null_as_unroutable(
    grid: tuple[int, int, list[list[Any]]],
) -> None:
    n, m, rows = grid
    result = parse_table({"code": "Ok", "durations": rows, "sources": [], "destinations": []}, n, m)
    np.testing.assert_array_equal(result, _expected(rows))


@settings(deadline=None)
@given(grids())
def test_valhalla_both_answer_shapes_read_the_same(grid: tuple[int, int, list[list[Any]]]) -> None:
    n, m, rows = grid
    concise = {"sources_to_targets": {"durations": rows, "distances": rows}, "units": "kilometers"}
    verbose = {
        "sources_to_targets": [
            [
                {"from_index": i, "to_index": j, "time": v, "distance": None if v is None else 1.0}
                for j, v in enumerate(row)
            ]
            for i, row in enumerate(rows)
        ]
    }
    np.testing.assert_array_equal(parse_sources_to_targets(concise, n, m), _expected(rows))
    np.testing.assert_array_equal(parse_sources_to_targets(verbose, n, m), _expected(rows))


@settings(deadline=None)
@given(JSON, st.integers(0, 3), st.integers(0, 3))
def test_any_json_is_read_right_or_refused_with_a_typed_error(
    payload: object, n: int, m: int
) -> None:
    for parse in (parse_table, parse_sources_to_targets):
        try:
            result = parse(payload, n, m)
        except RoutingError:
            continue
        assert result.shape == (n, m)
        assert not np.isnan(result).any() and (result >= 0).all()


@pytest.mark.parametrize("bad", [True, "12", -1, [3], {"time": 1}, float("inf")])
def test_a_cell_that_is_not_seconds_refuses_the_whole_answer(bad: object) -> None:
    rows = [[1.5, bad]]
    with pytest.raises(RoutingBadResponse):
        parse_table({"code": "Ok", "durations": rows}, 1, 2)
    with pytest.raises(RoutingBadResponse):
        parse_sources_to_targets({"sources_to_targets": {"durations": rows}}, 1, 2)


def test_wrong_shapes_and_misplaced_cells_are_refused() -> None:
    with pytest.raises(RoutingBadResponse, match="rows"):
        parse_table({"code": "Ok", "durations": [[1.0]]}, 2, 1)
    with pytest.raises(RoutingBadResponse, match="durations"):
        parse_table({"code": "Ok", "durations": [[1.0]]}, 1, 2)
    with pytest.raises(RoutingBadResponse, match="annotations"):
        parse_table({"code": "Ok"}, 1, 1)
    swapped = {
        "sources_to_targets": [
            [
                {"from_index": 0, "to_index": 1, "time": 5},
                {"from_index": 0, "to_index": 0, "time": 6},
            ]
        ]
    }
    with pytest.raises(RoutingBadResponse, match="to_index"):
        parse_sources_to_targets(swapped, 1, 2)


def test_service_refusals_keep_the_service_code() -> None:
    with pytest.raises(RoutingRefused) as osrm:
        parse_table({"code": "NoSegment", "message": "Could not find a matching segment"}, 1, 1)
    assert osrm.value.code == "NoSegment"
    with pytest.raises(RoutingRefused) as valhalla:
        parse_sources_to_targets(
            {"error_code": 171, "error": "No suitable edges near location"}, 1, 1
        )
    assert valhalla.value.code == "171"


@settings(deadline=None)
@given(JSON)
def test_standard_json_reads_back_as_sent(value: object) -> None:
    assert load_json(json.dumps(value).encode()) == value


@settings(deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_json_or_a_typed_refusal(body: bytes) -> None:
    with contextlib.suppress(RoutingBadResponse):
        load_json(body)


def test_json_constants_outside_the_standard_are_refused() -> None:
    with pytest.raises(RoutingBadResponse):
        load_json(b'{"code": "Ok", "durations": [[NaN]]}')
    with pytest.raises(RoutingBadResponse):
        load_json(b"<html>502 Bad Gateway</html>")


def test_adapters_refuse_names_that_would_change_the_url() -> None:
    with pytest.raises(ValueError):
        OsrmTravelTimes("http://127.0.0.1:5000", profile="driving/../../admin")
    with pytest.raises(ValueError):
        ValhallaTravelTimes("http://127.0.0.1:8002", costing="auto?x=1")


# --- the fallback -----------------------------------------------------------------------


class Flaky:
    """A primary that fails with a given error until told otherwise."""

    def __init__(self) -> None:
        self.error: RoutingError | None = None
        self.calls = 0

    def matrix(
        self,
        sources: Sequence[tuple[float, float]] | ArrayLike,
        targets: Sequence[tuple[float, float]] | ArrayLike,
        at: datetime,
    ) -> NDArray[np.float64]:
        require_aware(at)
        self.calls += 1
        if self.error:
            raise self.error
        return np.full((len(np.asarray(sources)), len(np.asarray(targets))), 42.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_fallback_serves_straight_lines_while_the_router_is_down_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    primary, clock = Flaky(), Clock()
    changes: list[RoutingReport] = []
    times = FallbackTravelTimes(
        primary, retry_after_s=30, monotonic=clock, on_change=changes.append
    )
    a, b = [(116.36, 39.91)], [(116.38, 39.93)]
    straight = HaversineTravelTimes().matrix(a, b, MONDAY_0830)

    assert times.matrix(a, b, MONDAY_0830)[0, 0] == 42.0
    assert times.report.serving == "primary"

    primary.error = RoutingUnavailable("127.0.0.1: ConnectError")
    with caplog.at_level(logging.WARNING, logger="gis.eta"):
        np.testing.assert_array_equal(times.matrix(a, b, MONDAY_0830), straight)
        np.testing.assert_array_equal(times.matrix(a, b, MONDAY_0830), straight)
    report = times.report
    assert (report.serving, report.fallback_matrices) == ("fallback", 2)
    assert report.last_error == "unavailable: 127.0.0.1: ConnectError"
    assert [r.levelname for r in caplog.records] == ["WARNING"]  # once, not per matrix
    assert "routing service failed" in caplog.records[0].getMessage()
    assert primary.calls == 2  # the second call did not wait on the dead router again

    primary.error = None
    clock.now += 31
    assert times.matrix(a, b, MONDAY_0830)[0, 0] == 42.0
    assert times.report.serving == "primary"
    assert [c.serving for c in changes] == ["fallback", "primary"]


def test_fallback_also_covers_refusals_and_garbage_but_not_our_own_mistakes() -> None:
    primary = Flaky()
    times = FallbackTravelTimes(primary, retry_after_s=0)
    a = [(116.36, 39.91)]
    for error in (RoutingRefused("NoSegment", "off the road"), RoutingBadResponse("not JSON")):
        primary.error = error
        times.matrix(a, a, MONDAY_0830)
        assert times.report.last_error is not None
        assert times.report.last_error.startswith(error.kind)
    primary.error = None
    with pytest.raises(ValueError):  # a naive time is a bug in the caller: no fallback hides it
        times.matrix(a, a, datetime(2026, 11, 23, 8, 30))
