"""Affected premises for an outage area over a million premises: index vs brute force.

    .venv/bin/python bench/gis_affected_premises.py [--premises N] [--repeats R] [--seed S]

Places N synthetic premises over Xicheng (lon 116.33–116.40, lat 39.88–39.95): two thirds
in residential compounds (tight clusters), a third scattered. For each area — a DMA-sized
polygon with 200 vertices, a small burst circle, a large irregular area, and a ring with a
hole — it prints the median time of ``PremisesIndex.affected_ids`` and of the brute-force
``shapely.contains_xy`` over every premises (both on a prepared polygon, same run), their
ratio, and checks that both give the same ids. Goal: ≤ 50 ms per query at 1,000,000.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from functools import partial

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from gis.metric import area_m2, buffer_m
from gis.premises_index import PremisesIndex

BBOX = (116.33, 39.88, 116.40, 39.95)
GOAL_MS = 50.0


def premises(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    clustered = n * 2 // 3
    centres_lon = rng.uniform(BBOX[0], BBOX[2], 3000)
    centres_lat = rng.uniform(BBOX[1], BBOX[3], 3000)
    pick = rng.integers(0, 3000, clustered)
    lon = np.concatenate(
        [
            centres_lon[pick] + rng.normal(0, 0.0008, clustered),
            rng.uniform(BBOX[0], BBOX[2], n - clustered),
        ]
    )
    lat = np.concatenate(
        [
            centres_lat[pick] + rng.normal(0, 0.0006, clustered),
            rng.uniform(BBOX[1], BBOX[3], n - clustered),
        ]
    )
    return np.clip(lon, BBOX[0], BBOX[2]), np.clip(lat, BBOX[1], BBOX[3])


def wobbly(
    centre: tuple[float, float], radius_m: float, vertices: int, rng: np.random.Generator
) -> Polygon:
    """An irregular star-shaped polygon: the outline of a district drawn along streets."""
    angles = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
    radii = radius_m * (1 + 0.25 * np.sin(3 * angles) + rng.uniform(-0.08, 0.08, vertices))
    metres_per_deg_lat = 110_540.0
    metres_per_deg_lon = 111_320.0 * math.cos(math.radians(centre[1]))
    return Polygon(
        zip(
            centre[0] + radii * np.cos(angles) / metres_per_deg_lon,
            centre[1] + radii * np.sin(angles) / metres_per_deg_lat,
            strict=True,
        )
    )


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--premises", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    lon, lat = premises(args.premises, rng)
    ids = np.arange(args.premises, dtype=np.int64) + 1

    start = time.perf_counter()
    index = PremisesIndex(ids, lon, lat)
    print(
        f"{args.premises:,} premises; index built in {(time.perf_counter() - start) * 1000:.0f} ms"
    )

    centre = (116.365, 39.915)
    areas: dict[str, BaseGeometry] = {
        "DMA, 200 vertices": wobbly((116.352, 39.928), 1100, 200, rng),
        "burst, 150 m circle": buffer_m(Point(centre), 150),
        "large, 400 vertices": wobbly(centre, 2800, 400, rng),
        "ring with a hole": buffer_m(Point(centre), 1500).difference(buffer_m(Point(centre), 600)),
    }
    print(f"{'area':<22}{'km²':>7}{'affected':>10}{'index ms':>10}{'brute ms':>10}{'ratio':>7}")

    def brute_force(area: BaseGeometry) -> np.ndarray:
        found: np.ndarray = ids[shapely.contains_xy(area, lon, lat)]
        return found

    worst = 0.0
    for name, area in areas.items():
        shapely.prepare(area)
        found = index.affected_ids(area)
        brute = brute_force(area)
        if not np.array_equal(found, brute):
            raise SystemExit(f"{name}: the index and brute force disagree")
        indexed = median_ms(partial(index.affected_ids, area), args.repeats)
        brute_ms = median_ms(partial(brute_force, area), args.repeats)
        worst = max(worst, indexed)
        print(
            f"{name:<22}{area_m2(area) / 1e6:>7.2f}{len(found):>10,}"
            f"{indexed:>10.1f}{brute_ms:>10.1f}{brute_ms / indexed:>6.1f}×"
        )
    verdict = "met" if worst <= GOAL_MS else "NOT met"
    print(f"slowest query {worst:.1f} ms; goal ≤ {GOAL_MS:.0f} ms {verdict}")


if __name__ == "__main__":
    main()
