"""Which premises of the register lie inside an outage area, at a million premises.

A point-in-polygon test over every premises costs ~60 ms for a million of them, whatever
the area's size. The index sorts the premises along a Z-order (Morton) curve over a
2^k × 2^k grid on their bounding box, so that every quadtree cell, at any level, is one
contiguous run of the sorted arrays. A query walks the quadtree down from the root,
classifying the cells of each level against the area with shapely's vectorised predicates:

- a cell the area's boundary misses is wholly inside or wholly outside, and its centre
  says which: inside, it contributes its whole run with no per-point test; outside, it
  is dropped with everything under it;
- a cell the boundary crosses is split into its four children, unless it holds few
  points (``exact_below``, 64): then its points get the exact ``shapely.contains_xy``.
  Four more boxes cost about as much as 35 point tests, so splitting a small cell saves
  nothing. The leaves (about ``leaf_size`` points each) are always tested exactly.

So the work follows the length of the area's boundary, not its area nor the register.

**Boundary rule.** A premises exactly on the area's boundary is *not* affected by default:
the answer is exactly ``shapely.contains_xy(area, lon, lat)`` (the interior only), the
same as the brute-force test, including holes (a premises on a hole's ring is outside).
``include_boundary=True`` gives exactly ``shapely.intersects_xy`` instead (interior and
boundary), for callers who would rather over-notify.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

_MAX_LEVELS = 16  # Morton codes of two 16-bit cell indices fit in 32 bits
# Cell boxes are grown by this much (degrees, ~0.1 mm) so that rounding in the cell
# arithmetic can never leave a point just outside the box of the cell it was sorted into.
_PAD = 1e-9

IntArray = NDArray[np.int64]
_CHILD_X = np.array([0, 1, 0, 1], dtype=np.uint64)
_CHILD_Y = np.array([0, 0, 1, 1], dtype=np.uint64)


class InvalidArea(ValueError):
    """The area is not a valid, non-empty Polygon or MultiPolygon."""


def _spread_bits(v: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Put the bits of 16-bit integers at the even positions of 32-bit ones."""
    v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
    v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
    v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
    v = (v | (v << np.uint64(1))) & np.uint64(0x55555555)
    return v


def _morton(ix: NDArray[np.uint64], iy: NDArray[np.uint64]) -> NDArray[np.uint64]:
    return _spread_bits(ix) | (_spread_bits(iy) << np.uint64(1))


def _expand(starts: IntArray, ends: IntArray) -> IntArray:
    """The concatenation of ``arange(s, e)`` for every run, without a Python loop."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    first = np.cumsum(lengths) - lengths  # where each run starts in the output
    runs: IntArray = np.arange(total, dtype=np.int64) + np.repeat(starts - first, lengths)
    return runs


def check_area(area: BaseGeometry) -> None:
    if not isinstance(area, Polygon | MultiPolygon):
        raise InvalidArea(f"an outage area is a Polygon or MultiPolygon, not {area.geom_type}")
    if area.is_empty:
        raise InvalidArea("the area is empty")
    if not area.is_valid:
        raise InvalidArea(f"the area is not a valid polygon: {shapely.is_valid_reason(area)}")


class PremisesIndex:
    """Premises ``ids`` at WGS-84 ``lon``/``lat``; answers which lie inside an area."""

    def __init__(
        self,
        ids: ArrayLike,
        lon: ArrayLike,
        lat: ArrayLike,
        *,
        leaf_size: int = 8,
        exact_below: int = 64,
    ):
        self._ids = np.asarray(ids)
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        if not (self._ids.ndim == x.ndim == y.ndim == 1 and len(self._ids) == len(x) == len(y)):
            raise ValueError("ids, lon and lat are three 1-D arrays of the same length")
        if len(x) and not (
            np.isfinite(x).all()
            and np.isfinite(y).all()
            and (np.abs(x) <= 180).all()
            and (np.abs(y) <= 90).all()
        ):
            raise ValueError("premises coordinates must be finite (lon, lat) in degrees")
        n = len(x)
        self._exact_below = exact_below
        self._levels = min(_MAX_LEVELS, max(0, math.ceil(math.log(max(n, 1) / leaf_size, 4))))
        self._x0 = float(x.min()) if n else 0.0
        self._y0 = float(y.min()) if n else 0.0
        self._width = max(float(x.max()) - self._x0, 1e-6) if n else 1e-6
        self._height = max(float(y.max()) - self._y0, 1e-6) if n else 1e-6
        side = 1 << self._levels
        ix = np.clip(np.floor((x - self._x0) / self._width * side), 0, side - 1).astype(np.uint64)
        iy = np.clip(np.floor((y - self._y0) / self._height * side), 0, side - 1).astype(np.uint64)
        codes = _morton(ix, iy)
        order = np.argsort(codes, kind="stable")
        self._codes = codes[order]
        self._order = order.astype(np.int64)
        self._x = np.ascontiguousarray(x[order])
        self._y = np.ascontiguousarray(y[order])

    def __len__(self) -> int:
        return len(self._ids)

    def affected_ids(
        self, area: BaseGeometry, *, include_boundary: bool = False
    ) -> NDArray[np.generic]:
        """Ids of the premises in ``area``, in the order they were given to the index."""
        whole, exact = self._select(area, include_boundary)
        positions = self._order[np.concatenate([_expand(*whole), exact])]
        if len(positions) * 32 > len(self):
            # Many hits: marking them is O(n), sorting them would be O(k log k).
            marked = np.zeros(len(self), dtype=bool)
            marked[positions] = True
            positions = np.flatnonzero(marked)
        else:
            positions.sort()
        ids: NDArray[np.generic] = self._ids[positions]
        return ids

    def affected_count(self, area: BaseGeometry, *, include_boundary: bool = False) -> int:
        whole, exact = self._select(area, include_boundary)
        return int((whole[1] - whole[0]).sum()) + len(exact)

    def _select(
        self, area: BaseGeometry, include_boundary: bool
    ) -> tuple[tuple[IntArray, IntArray], IntArray]:
        """Runs of the sorted arrays wholly inside ``area``, and the sorted indices of the
        points that passed the exact test in the cells its boundary crosses."""
        check_area(area)
        empty = np.empty(0, dtype=np.int64)
        amin_x, amin_y, amax_x, amax_y = area.bounds
        if not len(self) or (
            amax_x < self._x0 - _PAD
            or amin_x > self._x0 + self._width + _PAD
            or amax_y < self._y0 - _PAD
            or amin_y > self._y0 + self._height + _PAD
        ):
            return (empty, empty), empty
        shapely.prepare(area)
        # A cell whose box the boundary misses is wholly inside or wholly outside, and
        # its centre tells which: one prepared predicate per cell, plus a point test.
        boundary = area.boundary
        shapely.prepare(boundary)
        whole_starts: list[IntArray] = []
        whole_ends: list[IntArray] = []
        exact_starts: list[IntArray] = []
        exact_ends: list[IntArray] = []
        cx = np.zeros(1, dtype=np.uint64)
        cy = np.zeros(1, dtype=np.uint64)
        for level in range(self._levels + 1):
            cell_w = self._width / (1 << level)
            cell_h = self._height / (1 << level)
            xmin = self._x0 + cx.astype(np.float64) * cell_w - _PAD
            ymin = self._y0 + cy.astype(np.float64) * cell_h - _PAD
            xmax = xmin + cell_w + 2 * _PAD
            ymax = ymin + cell_h + 2 * _PAD
            # Cheap cuts first: cells outside the area's bounding box, and empty cells.
            keep = (xmax >= amin_x) & (xmin <= amax_x) & (ymax >= amin_y) & (ymin <= amax_y)
            shift = np.uint64(2 * (self._levels - level))
            first_code = _morton(cx[keep], cy[keep]) << shift
            starts = np.searchsorted(self._codes, first_code, side="left").astype(np.int64)
            ends = np.searchsorted(
                self._codes, first_code + (np.uint64(1) << shift), side="left"
            ).astype(np.int64)
            occupied = ends > starts
            keep[keep] = occupied
            starts, ends = starts[occupied], ends[occupied]
            cx, cy = cx[keep], cy[keep]
            xmin, ymin, xmax, ymax = xmin[keep], ymin[keep], xmax[keep], ymax[keep]

            crossing = shapely.intersects(boundary, shapely.box(xmin, ymin, xmax, ymax))
            clear = ~crossing
            inside = shapely.contains_xy(
                area, (xmin[clear] + xmax[clear]) / 2, (ymin[clear] + ymax[clear]) / 2
            )
            whole_starts.append(starts[clear][inside])
            whole_ends.append(ends[clear][inside])
            # A crossing cell with few points is cheaper to test point by point than to
            # split: four more boxes cost about as much as a few hundred point tests.
            small = crossing & ((ends - starts <= self._exact_below) | (level == self._levels))
            exact_starts.append(starts[small])
            exact_ends.append(ends[small])
            split = crossing & ~small
            parents = int(split.sum())
            if parents == 0:
                break
            cx = (np.repeat(cx[split], 4) << np.uint64(1)) | np.tile(_CHILD_X, parents)
            cy = (np.repeat(cy[split], 4) << np.uint64(1)) | np.tile(_CHILD_Y, parents)

        candidates = _expand(np.concatenate(exact_starts), np.concatenate(exact_ends))
        test = shapely.intersects_xy if include_boundary else shapely.contains_xy
        exact: IntArray = candidates[test(area, self._x[candidates], self._y[candidates])]
        return (np.concatenate(whole_starts), np.concatenate(whole_ends)), exact
