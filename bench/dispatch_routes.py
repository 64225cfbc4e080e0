"""Day routes, 200 orders × 20 crews: VROOM at each exploration level, and our greedy
cheapest-insertion fallback, against the best VROOM finds (level 5) in the same run.

    .venv/bin/python bench/dispatch_routes.py [--orders N] [--crews M] [--seed K] [--levels 0,1,2,5]

A simulated Xicheng day: four depots, 8-hour shifts, three skills per crew, priorities 1–5,
a third of the orders with a promised two-hour slot, 20–60 minutes on site; the travel-time
matrix is the vectorised haversine of ``bench/dispatch_assign.py``. Printed per engine:
orders served, VROOM's priority score, total travel, solve time, and the ratios of travel and
time to the reference. Lower travel at an equal priority score is better; a lower priority
score means more urgent orders were left for tomorrow, whatever the travel.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dispatch_assign import BOX, FIELD, NOW, eta_matrix

from field_dispatch.routes import (
    VROOM_PRIORITY,
    RouteCrew,
    RouteOrder,
    RoutePlan,
    plan_routes,
)

SHIFT_START = NOW - timedelta(hours=1)  # 08:30 Beijing


def scenario(
    n_orders: int, n_crews: int, seed: int = 1
) -> tuple[list[RouteOrder], list[RouteCrew], np.ndarray]:
    rng = np.random.default_rng(seed)
    lo, hi = np.array(BOX[:2]), np.array(BOX[2:])
    depots = lo + rng.random((4, 2)) * (hi - lo)
    places = lo + rng.random((n_orders, 2)) * (hi - lo)
    lonlat = np.vstack([depots, places])
    durations = np.rint(eta_matrix(lonlat, lonlat) - 120.0 * np.eye(len(lonlat)))
    orders = []
    for j in range(n_orders):
        windows: tuple[tuple[datetime, datetime], ...] = ()
        if rng.random() < 1 / 3:
            start = SHIFT_START + timedelta(hours=int(rng.integers(0, 6)))
            windows = ((start, start + timedelta(hours=2)),)
        orders.append(
            RouteOrder(
                f"o{j}",
                FIELD[int(rng.integers(len(FIELD)))],
                int(rng.choice([1, 2, 3, 4, 5], p=[0.05, 0.15, 0.4, 0.25, 0.15])),
                location_index=4 + j,
                service_s=int(rng.choice([1200, 1800, 2700, 3600])),
                windows=windows,
            )
        )
    crews = []
    for i in range(n_crews):
        depot = i % 4
        crews.append(
            RouteCrew(
                f"c{i}",
                frozenset(FIELD[k] for k in rng.choice(len(FIELD), size=3, replace=False)),
                start_index=depot,
                end_index=depot,
                available_at=SHIFT_START,
                shift_ends_at=SHIFT_START + timedelta(hours=8),
            )
        )
    return orders, crews, durations


def priority_score(plan: RoutePlan, orders: list[RouteOrder]) -> int:
    by_id = {o.order_id: o for o in orders}
    return sum(VROOM_PRIORITY[by_id[s.order_id].priority] for r in plan.routes for s in r.stops)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--crews", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--levels", default="0,1,2,3,5")
    args = parser.parse_args()
    orders, crews, durations = scenario(args.orders, args.crews, args.seed)
    levels = [int(x) for x in args.levels.split(",")]
    reference_level = max(levels)
    runs: dict[str, RoutePlan] = {}
    for level in levels:
        runs[f"vroom x{level}"] = plan_routes(
            orders, crews, durations, SHIFT_START, exploration_level=level
        )
    runs["greedy"] = plan_routes(orders, crews, durations, SHIFT_START, engine="greedy")
    ref = runs[f"vroom x{reference_level}"]
    ref_score = priority_score(ref, orders)
    print(
        f"{args.orders} orders × {args.crews} crews (seed {args.seed}); "
        f"reference: vroom at exploration level {reference_level}"
    )
    print(
        f"{'engine':>10} {'served':>6} {'prio':>5} {'travel h':>8} {'time s':>7} {'travel/ref':>10} {'time/ref':>8}"
    )
    for name, plan in runs.items():
        print(
            f"{name:>10} {plan.served:6d} {priority_score(plan, orders):5d} "
            f"{plan.travel_s / 3600:8.2f} {plan.solve_s:7.2f} "
            f"{plan.travel_s / ref.travel_s:10.3f} {plan.solve_s / ref.solve_s:8.3f}"
        )
    print(f"reference priority score {ref_score}; unassigned {len(ref.unassigned)}")


if __name__ == "__main__":
    main()
