"""A 1,000 × 300 travel-time matrix: vectorised haversine vs geopy's geodesic per pair.

    .venv/bin/python bench/gis_eta_matrix.py [--sources N] [--targets M] [--sample K]

Times ``HaversineTravelTimes.matrix`` for N crews × M jobs over Xicheng (median of several
runs), and geopy's ``geodesic`` on a sample of K pairs in the same run, extrapolated to the
whole matrix; prints both, their ratio, and the haversine's largest relative error against
the geodesic on the sample (what the speed costs in accuracy).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from geopy.distance import geodesic

from gis.eta import HaversineTravelTimes, haversine_m

AT = datetime(2026, 11, 23, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--targets", type=int, default=300)
    parser.add_argument("--sample", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(3)
    sources = np.column_stack(
        [rng.uniform(116.33, 116.40, args.sources), rng.uniform(39.88, 39.95, args.sources)]
    )
    targets = np.column_stack(
        [rng.uniform(116.33, 116.40, args.targets), rng.uniform(39.88, 39.95, args.targets)]
    )
    model = HaversineTravelTimes()

    runs = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        model.matrix(sources, targets, AT)
        runs.append(time.perf_counter() - start)
    matrix_ms = statistics.median(runs) * 1000
    pairs = args.sources * args.targets

    i = rng.integers(0, args.sources, args.sample)
    j = rng.integers(0, args.targets, args.sample)
    start = time.perf_counter()
    reference = [
        geodesic((sources[a, 1], sources[a, 0]), (targets[b, 1], targets[b, 0])).meters
        for a, b in zip(i, j, strict=True)
    ]
    per_pair_s = (time.perf_counter() - start) / args.sample
    geodesic_ms = per_pair_s * pairs * 1000

    metres = haversine_m(sources, targets)[i, j]
    worst = float(np.max(np.abs(metres - np.array(reference)) / np.array(reference)))
    print(f"{args.sources} × {args.targets} = {pairs:,} pairs")
    print(
        f"haversine matrix (numpy):   {matrix_ms:8.1f} ms  ({matrix_ms * 1e6 / pairs:.0f} ns a pair)"
    )
    print(
        f"geopy geodesic per pair:    {geodesic_ms:8.0f} ms  ({per_pair_s * 1e6:.0f} µs a pair, "
        f"{args.sample:,} pairs timed, extrapolated)"
    )
    print(f"ratio geodesic / haversine: {geodesic_ms / matrix_ms:8.0f}×")
    print(f"largest haversine error vs geodesic on the sample: {worst * 100:.2f} %")


if __name__ == "__main__":
    main()
