"""Affected premises of an outage over the premises register, from the database, at 1,000,000.

    .venv/bin/python bench/outage_premises.py [--premises N] [--pg] [--repeats R] [--seed S]

Builds (once; kept in ``--dir``, default ``var/bench/``) a central database with N premises over Xicheng — two
thirds in residential compounds, a third scattered — and the demo city's 16 district metered
areas. Then ``domain.outages.PremisesRegister`` loads the register from the database, and for
outage areas as ``domain.outages.Outages`` derives or receives them — a burst main's 400 m
circle clipped to its DMA, the burst's whole DMA, the DMA grown by a 200 m margin, and a
drawn 200-vertex area — it prints the median time of the affected count and of the affected
ids (numpy; a page of 100 as UUIDs, as the console lists them; all of them as UUIDs, as
queueing notices needs them), against the brute-force ``shapely.contains_xy`` over every
premises in the same run (same arrays, prepared polygon), and checks both find the same
premises. Goal: affected premises (count and ids) ≤ 50 ms. Also timed once: the register's
load, and a whole ``declare_area`` (outage row, halls; no notices: these premises have no
accounts).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, create_engine, func, insert, select, text
from sqlalchemy.orm import Session

from domain.bus import EventBus
from domain.outages import Outages, PremisesRegister
from domain.uow import UnitsOfWork
from gis.geojson import to_geojson
from gis.metric import area_m2
from gis.outage_area import DistrictMeteredAreas
from servicedb import migrate
from servicedb.engine import make_engine
from servicedb.ids import DeterministicIds
from servicedb.models import OutageKind, Premises, Site, SiteKind, Zone

GOAL_MS = 50.0
WEST, EAST, SOUTH, NORTH = 116.320, 116.400, 39.865, 39.945  # the demo city's Xicheng
GRID = 4
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def dmas() -> list[tuple[str, Polygon]]:
    width, height = (EAST - WEST) / GRID, (NORTH - SOUTH) / GRID
    return [
        (
            f"DMA-{n + 1:02d}",
            box(
                WEST + (n % GRID) * width,
                NORTH - (n // GRID + 1) * height,
                WEST + (n % GRID + 1) * width,
                NORTH - (n // GRID) * height,
            ),
        )
        for n in range(GRID * GRID)
    ]


def build(engine: Engine, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids = DeterministicIds(seed, 1_700_000_000_000)
    with Session(engine) as session, session.begin():
        central = Site(code="central", kind=SiteKind.CENTRAL, name_zh="中心", name_en="Centre")
        hall = Site(
            code="hall-xicheng",
            kind=SiteKind.HALL,
            name_zh="西城营业厅",
            name_en="Xicheng Service Hall",
            lon=116.3652,
            lat=39.9142,
        )
        session.add_all([central, hall])
        session.add_all(
            Zone(code=code, name_zh=code, name_en=code, area_geojson=to_geojson(area))
            for code, area in dmas()
        )
        session.flush()
        site_id = central.id
    clustered = n * 2 // 3
    centres = rng.uniform((WEST, SOUTH), (EAST, NORTH), (3000, 2))
    pick = rng.integers(0, 3000, clustered)
    lon = np.concatenate(
        [
            centres[pick, 0] + rng.normal(0, 0.0008, clustered),
            rng.uniform(WEST, EAST, n - clustered),
        ]
    )
    lat = np.concatenate(
        [
            centres[pick, 1] + rng.normal(0, 0.0006, clustered),
            rng.uniform(SOUTH, NORTH, n - clustered),
        ]
    )
    lon, lat = np.clip(lon, WEST, EAST).round(6), np.clip(lat, SOUTH, NORTH).round(6)
    now = datetime.now(UTC)
    chunk = 50_000
    for start in range(0, n, chunk):
        rows = [
            {
                "id": ids.next(),
                "origin_site_id": site_id,
                "created_at": now,
                "address_zh": f"北京市西城区测试街{i}号",
                "address_en": f"No. {i} Test Street",
                "lon": float(lon[i]),
                "lat": float(lat[i]),
                "zone_id": None,
            }
            for i in range(start, min(start + chunk, n))
        ]
        with engine.begin() as connection:
            connection.execute(insert(Premises), rows)


def open_store(n: int, seed: int, use_pg: bool, folder: Path) -> tuple[Engine, Callable[[], None]]:
    if use_pg:
        name = f"bench_outage_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine = make_engine(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}")
        migrate.upgrade(engine)
        build(engine, n, seed)

        def drop() -> None:
            engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        return engine, drop
    path = folder / f"outage-premises-{n}-{seed}.db"
    fresh = not path.exists()
    engine = make_engine(f"sqlite:///{path.resolve()}")
    migrate.upgrade(engine)
    with Session(engine) as session:
        count = session.scalar(select(func.count()).select_from(Premises))
    if fresh or count != n:
        if not fresh:
            raise SystemExit(f"{path} holds {count} premises, not {n}: delete it")
        build(engine, n, seed)
    return engine, engine.dispose


def wobbly(centre: tuple[float, float], radius_m: float, vertices: int, seed: int) -> Polygon:
    """A dispatcher's drawn outline: an irregular star-shaped polygon along streets."""
    rng = np.random.default_rng(seed)
    angles = np.linspace(0, 2 * math.pi, vertices, endpoint=False)
    radii = radius_m * (1 + 0.25 * np.sin(3 * angles) + rng.uniform(-0.08, 0.08, vertices))
    per_lat, per_lon = 110_540.0, 111_320.0 * math.cos(math.radians(centre[1]))
    return Polygon(
        zip(
            centre[0] + radii * np.cos(angles) / per_lon,
            centre[1] + radii * np.sin(angles) / per_lat,
            strict=True,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--premises", type=int, default=1_000_000)
    parser.add_argument("--pg", action="store_true", help="a temporary PostgreSQL database")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--dir", type=Path, default=Path("var/bench"), help="where the SQLite file is kept"
    )
    args = parser.parse_args()
    engine, close = open_store(args.premises, args.seed, args.pg, args.dir)
    try:
        print(f"{args.premises:,} premises in {engine.dialect.name}")
        register = PremisesRegister(engine)
        started = time.perf_counter()
        register.refresh()
        print(f"register loaded from the database in {time.perf_counter() - started:.2f} s")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT lon, lat FROM premises")).all()
        lon = np.fromiter((r[0] for r in rows), dtype=np.float64, count=len(rows))
        lat = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
        with Session(engine) as session:
            zones = session.execute(select(Zone.code, Zone.area_geojson)).all()
        network = DistrictMeteredAreas((code, shapely.from_geojson(g)) for code, g in zones)
        burst = (116.3580, 39.9180)
        areas: dict[str, BaseGeometry] = {
            "burst, 400 m in DMA": network.burst_area(burst, radius_m=400).area,
            "burst's whole DMA": network.burst_area(burst).area,
            "DMA + 200 m margin": network.burst_area(burst, margin_m=200).area,
            "drawn, 200 vertices": wobbly((116.352, 39.928), 1100, 200, args.seed),
        }
        print(
            f"{'area':<22}{'km²':>6}{'affected':>10}{'count ms':>10}{'ids ms':>8}"
            f"{'page ms':>9}{'UUIDs ms':>10}{'brute ms':>10}{'ratio':>7}"
        )
        index = register.index()
        worst = 0.0
        for name, area in areas.items():
            shapely.prepare(area)
            inside = shapely.contains_xy(area, lon, lat)
            found = register.affected_ids(area)
            if len(found) != int(inside.sum()) or register.affected_count(area) != len(found):
                raise SystemExit(f"{name}: the index and brute force disagree")
            count_ms = median_ms(partial(register.affected_count, area), args.repeats)
            ids_ms = median_ms(partial(index.affected_ids, area), args.repeats)
            page_ms = median_ms(partial(register.affected_page, area, limit=100), args.repeats)
            uuids_ms = median_ms(partial(register.affected_ids, area), args.repeats)
            brute_ms = median_ms(partial(shapely.contains_xy, area, lon, lat), args.repeats)
            worst = max(worst, count_ms, ids_ms)
            print(
                f"{name:<22}{area_m2(area) / 1e6:>6.2f}{len(found):>10,}{count_ms:>10.1f}"
                f"{ids_ms:>8.1f}{page_ms:>9.1f}{uuids_ms:>10.1f}{brute_ms:>10.1f}"
                f"{brute_ms / ids_ms:>6.1f}×"
            )
        outages = Outages(UnitsOfWork(engine, EventBus()), register)
        started = time.perf_counter()
        declared = outages.declare_area(
            areas["drawn, 200 vertices"],
            kind=OutageKind.WATER_OFF,
            title=("停水", "Water off"),
            notify=False,
        )
        whole_ms = (time.perf_counter() - started) * 1000
        print(
            f"declare_area end to end (outage row, {declared.affected_premises:,} premises, "
            f"halls {', '.join(declared.halls)}): {whole_ms:.0f} ms"
        )
        verdict = "met" if worst <= GOAL_MS else "NOT met"
        print(f"slowest affected-premises query {worst:.1f} ms; goal ≤ {GOAL_MS:.0f} ms {verdict}")
    finally:
        close()


if __name__ == "__main__":
    main()
