"""An outage central declares near a hall reaches the hall's board and screen by sync."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from domain.notices import active_outages
from servicedb.models import Outage, OutageKind, OutageStatus, Site
from servicedb.types import utcnow
from tests.sync.harness import provision_hall, start_central


def test_an_outage_declared_at_central_shows_at_the_hall(migrated: Engine, tmp_path: Path) -> None:
    central = start_central(migrated)
    hall = provision_hall(central, "hall-xicheng", tmp_path)
    now = utcnow()
    before = {o.title_zh for o in active_outages(hall.engine, "hall-xicheng", now)}
    with Session(central.engine, expire_on_commit=False) as session, session.begin():
        sites = {s.code: s for s in session.scalars(select(Site))}
        lon, lat = sites["hall-xicheng"].lon, sites["hall-xicheng"].lat
        assert lon is not None and lat is not None
        d = 0.003  # a few hundred metres around the hall
        ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
        session.add(
            Outage(
                origin_site_id=sites["central"].id,
                kind=OutageKind.WATER_OFF,
                status=OutageStatus.ACTIVE,
                title_zh="阜成门内大街爆管抢修停水",
                title_en="Burst main repair: water off on Fuchengmennei Street",
                area_geojson=json.dumps({"type": "Polygon", "coordinates": [[*ring, ring[0]]]}),
                starts_at=now - timedelta(minutes=5),
                estimated_restore_at=now + timedelta(hours=4),
            )
        )
    assert "阜成门内大街爆管抢修停水" not in before
    assert hall.agent.cycle().error is None
    shown = {o.title_zh for o in active_outages(hall.engine, "hall-xicheng", utcnow())}
    assert "阜成门内大街爆管抢修停水" in shown
