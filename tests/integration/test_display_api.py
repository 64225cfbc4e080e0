"""``GET /api/v1/display``: the hall's outage notices and announcements, as the board says them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from servicedb.models import Announcement, Outage, OutageKind, OutageStatus, Site
from servicehall.bootstrap import HallSite, build_hall
from servicehall.config import load_settings
from servicehall.demo.seed import seed_city
from servicehall.hall.api.display import NoticeSource
from servicehall.platform.database import close_database, open_database

pytestmark = pytest.mark.integration
HALL = "hall-xicheng"
NEAR = '{"type":"Polygon","coordinates":[[[116.36,39.91],[116.37,39.91],[116.37,39.92],[116.36,39.92],[116.36,39.91]]]}'
FAR = '{"type":"Polygon","coordinates":[[[116.9,40.3],[116.95,40.3],[116.95,40.35],[116.9,40.3]]]}'
NOON = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 12:00 in Beijing, the seeded outage's day


def add_outage(
    engine: Engine,
    kind: OutageKind,
    title: tuple[str, str],
    area: str,
    starts: datetime,
    restore: datetime | None,
    status: OutageStatus = OutageStatus.ACTIVE,
) -> None:
    with Session(engine) as session:
        central = session.query(Site).filter_by(code="central").one()
        session.add(
            Outage(
                origin_site_id=central.id,
                kind=kind,
                status=status,
                title_zh=title[0],
                title_en=title[1],
                area_geojson=area,
                starts_at=starts,
                estimated_restore_at=restore,
                created_at=starts,
            )
        )
        session.commit()


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[HallSite]:
    settings = load_settings(
        None,
        {
            "SERVICEHALL_PATHS__DATA_DIR": str(tmp_path),
            "SERVICEHALL_HALL__LED_BOARD": "",
            "SERVICEHALL_HALL__VOICE": "false",
        },
    )
    engine = open_database(settings.database_url(HALL), auto_upgrade=True)
    seed_city(engine, premises=0, as_of=NOON.date() - timedelta(days=1))
    close_database(engine)
    site = build_hall(settings, HALL)
    yield site
    site.close()


def test_the_screen_gets_the_boards_texts_for_notices_touching_the_hall(hall: HallSite) -> None:
    engine = hall.engine
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    add_outage(
        engine,
        OutageKind.EMERGENCY_REPAIR,
        ("阜成门内大街爆管抢修", "burst main on Fuchengmennei St"),
        NEAR,
        datetime(2026, 1, 1, 1, 30, tzinfo=UTC),  # 09:30 Beijing, still going
        None,
    )
    add_outage(
        engine, OutageKind.LOW_PRESSURE, ("远郊", "far away"), FAR, now - timedelta(hours=1), None
    )
    add_outage(
        engine,
        OutageKind.WATER_OFF,
        ("已恢复", "restored"),
        NEAR,
        now - timedelta(hours=2),
        None,
        OutageStatus.RESTORED,
    )
    with Session(engine) as session:  # one of the three seeded announcements has ended
        session.execute(
            update(Announcement)
            .where(Announcement.priority == 2)
            .values(ends_at=now - timedelta(minutes=1))
        )
        session.commit()
    with TestClient(hall.endpoint.app) as http:
        body = http.get("/api/v1/display").json()
    assert body["site"] == HALL and body["name_zh"] == "西城营业厅"
    assert [(n["text_zh"], n["text_en"]) for n in body["notices"]] == [
        (
            "抢修通知：阜成门内大街爆管抢修 09:30 起",
            "Emergency repair: burst main on Fuchengmennei St from 09:30",
        )
    ]
    assert [a["text_zh"][:6] for a in body["announcements"]] == ["本厅营业时间", "自助终端支持"]
    assert body["refresh_s"] > 0


def test_the_halls_clock_and_radius_decide_what_is_active(hall: HallSite) -> None:
    # The seeded planned outage (Jinrong Street, 09:00–17:00 on its day) counts from its start.
    app = hall.endpoint.app
    with TestClient(app) as http:
        app.state.notices = NoticeSource(hall.engine, 3000.0, lambda: NOON)
        during = http.get("/api/v1/display").json()["notices"]
        app.state.notices = NoticeSource(hall.engine, 3000.0, lambda: NOON + timedelta(hours=6))
        after = http.get("/api/v1/display").json()["notices"]
        app.state.notices = NoticeSource(hall.engine, 10.0, lambda: NOON)
        too_far = http.get("/api/v1/display").json()["notices"]
    assert [n["text_zh"] for n in during] == ["停水通知：金融大街供水管道更换 09:00-17:00"]
    assert [n["text_en"] for n in during] == [
        "Water off: main replacement on Jinrong Street 09:00-17:00"
    ]
    assert after == [] and too_far == []
