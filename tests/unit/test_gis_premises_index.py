"""The premises index answers exactly what a point-in-polygon test over every premises would."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from gis.metric import buffer_m
from gis.premises_index import InvalidArea, PremisesIndex

pytestmark = pytest.mark.unit

# A small lattice: premises and polygon vertices share it, so many premises fall exactly
# on edges and corners of the areas, where the boundary rule decides.
STEP = 0.001
LON0, LAT0 = 116.33, 39.88


def lattice(i: int, j: int) -> tuple[float, float]:
    return LON0 + i * STEP, LAT0 + j * STEP


@st.composite
def registers(
    draw: st.DrawFn,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Premises: some on lattice points, some anywhere, some stacked on the same spot."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_lattice = draw(st.integers(0, 400))
    n_free = draw(st.integers(0, 400))
    rng = np.random.default_rng(seed)
    lon = np.concatenate(
        [LON0 + rng.integers(0, 41, n_lattice) * STEP, rng.uniform(LON0, LON0 + 0.04, n_free)]
    )
    lat = np.concatenate(
        [LAT0 + rng.integers(0, 41, n_lattice) * STEP, rng.uniform(LAT0, LAT0 + 0.04, n_free)]
    )
    if len(lon) and draw(st.booleans()):
        lon[: len(lon) // 4] = lon[0]  # a tower block: many premises at one point
        lat[: len(lat) // 4] = lat[0]
    ids = rng.permutation(len(lon)).astype(np.int64) + 10_000
    return ids, lon, lat


CELLS = st.tuples(st.integers(-5, 45), st.integers(-5, 45))


@st.composite
def areas(draw: st.DrawFn) -> BaseGeometry:
    """Valid polygons and multipolygons, with holes, straight and slanted edges."""
    kind = draw(st.sampled_from(["boxes", "hull", "circle"]))
    if kind == "boxes":
        shape: BaseGeometry = shapely.union_all(
            [
                box(*lattice(*a), *lattice(a[0] + w, a[1] + h))
                for a, w, h in draw(
                    st.lists(
                        st.tuples(CELLS, st.integers(1, 20), st.integers(1, 20)),
                        min_size=1,
                        max_size=4,
                    )
                )
            ]
        )
    elif kind == "hull":
        shape = shapely.MultiPoint(
            [lattice(*c) for c in draw(st.lists(CELLS, min_size=3, max_size=8))]
        ).convex_hull
    else:
        centre = lattice(*draw(CELLS))
        shape = buffer_m(Point(centre), draw(st.floats(50, 2500)))
    for a, w, h in draw(
        st.lists(st.tuples(CELLS, st.integers(1, 8), st.integers(1, 8)), max_size=3)
    ):
        shape = shape.difference(box(*lattice(*a), *lattice(a[0] + w, a[1] + h)))  # holes and bites
    parts = [p for p in shapely.get_parts(shape) if isinstance(p, Polygon) and p.area > 0]
    if not parts:
        return box(*lattice(0, 0), *lattice(3, 3))
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


@settings(max_examples=150, deadline=None)
@given(registers(), areas(), st.sampled_from([1, 4, 16]), st.sampled_from([0, 4, 64]))
def test_the_index_agrees_with_brute_force_everywhere(
    register: tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]],
    area: BaseGeometry,
    leaf_size: int,
    exact_below: int,
) -> None:
    ids, lon, lat = register
    # exact_below=0 splits crossing cells all the way to the leaves; 64 stops early.
    index = PremisesIndex(ids, lon, lat, leaf_size=leaf_size, exact_below=exact_below)
    interior = ids[shapely.contains_xy(area, lon, lat)]
    closed = ids[shapely.intersects_xy(area, lon, lat)]
    np.testing.assert_array_equal(index.affected_ids(area), interior)
    np.testing.assert_array_equal(index.affected_ids(area, include_boundary=True), closed)
    assert index.affected_count(area) == len(interior)
    assert index.affected_count(area, include_boundary=True) == len(closed)


def test_boundary_rule_on_a_square_with_a_hole() -> None:
    outer = box(*lattice(0, 0), *lattice(10, 10))
    hole = box(*lattice(4, 4), *lattice(6, 6))
    area = outer.difference(hole)
    points = {
        "inside": lattice(2, 2),
        "on the outer edge": lattice(0, 5),
        "on a corner": lattice(10, 10),
        "in the hole": lattice(5, 5),
        "on the hole's ring": lattice(4, 5),
        "outside": lattice(12, 2),
    }
    names = np.array(list(points))
    lon = np.array([p[0] for p in points.values()])
    lat = np.array([p[1] for p in points.values()])
    index = PremisesIndex(names, lon, lat, leaf_size=1, exact_below=0)
    assert index.affected_ids(area).tolist() == ["inside"]
    assert index.affected_ids(area, include_boundary=True).tolist() == [
        "inside",
        "on the outer edge",
        "on a corner",
        "on the hole's ring",
    ]


def test_a_million_premises_give_the_brute_force_answer() -> None:
    rng = np.random.default_rng(7)
    n = 1_000_000
    lon, lat = rng.uniform(116.33, 116.40, n), rng.uniform(39.88, 39.95, n)
    ids = np.arange(n) * 3
    index = PremisesIndex(ids, lon, lat)
    for area in (
        buffer_m(Point(116.365, 39.915), 150),
        buffer_m(Point(116.35, 39.90), 1200).difference(buffer_m(Point(116.35, 39.90), 300)),
        box(116.30, 39.85, 116.45, 39.99),  # covers everything
        box(116.50, 39.85, 116.60, 39.99),  # covers nothing
    ):
        np.testing.assert_array_equal(
            index.affected_ids(area), ids[shapely.contains_xy(area, lon, lat)]
        )


def test_ids_keep_their_type_and_an_empty_register_answers_nothing() -> None:
    uuids = np.array(["a7f0", "b113", "c2aa"], dtype=object)
    index = PremisesIndex(uuids, [116.35, 116.36, 116.50], [39.90, 39.91, 39.90])
    assert index.affected_ids(box(116.34, 39.89, 116.37, 39.92)).tolist() == ["a7f0", "b113"]
    empty = PremisesIndex([], [], [])
    assert len(empty) == 0 and empty.affected_count(box(0, 0, 1, 1)) == 0


def test_what_is_not_an_area_is_refused() -> None:
    index = PremisesIndex([1], [116.35], [39.90])
    bow_tie = Polygon([(116.34, 39.89), (116.36, 39.91), (116.36, 39.89), (116.34, 39.91)])
    with pytest.raises(InvalidArea, match="Self-intersection"):
        index.affected_ids(bow_tie)
    with pytest.raises(InvalidArea, match="Point"):
        index.affected_ids(Point(116.35, 39.90))
    with pytest.raises(InvalidArea, match="empty"):
        index.affected_ids(Polygon())


def test_bad_registers_are_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        PremisesIndex([1, 2], [116.35], [39.90])
    with pytest.raises(ValueError, match="finite"):
        PremisesIndex([1], [float("nan")], [39.90])
    with pytest.raises(ValueError, match="finite"):
        PremisesIndex([1], [39.90], [116.35])  # lat, lon swapped
