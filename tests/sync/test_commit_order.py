"""Central serves its change log in commit order: on PostgreSQL a change numbered earlier
can commit later, and a hall must still receive it (nothing skipped past a cursor)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from servicedb.models import Announcement, Site, Zone
from servicedb.types import utcnow
from sync import central_side, hall_side
from tests.sync.harness import provision_hall, start_central


def test_an_earlier_change_committed_later_still_comes_down(
    migrated: Engine, tmp_path: Path
) -> None:
    if migrated.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers: a later change cannot commit first there")
    central = start_central(migrated)
    hall = provision_hall(central, "hall-xicheng", tmp_path)
    with Session(central.engine) as session:
        first, second = session.scalars(select(Zone.id).limit(2)).all()

    slow = Session(central.engine)
    slow.begin()
    # Takes its change number now, commits last.
    slow.get(Zone, first).name_zh = "先写后提交"  # type: ignore[union-attr]
    slow.flush()

    with Session(central.engine) as quick, quick.begin():
        quick.get(Zone, second).name_zh = "后写先提交"  # type: ignore[union-attr]

    # While the slow one is open, the quick change is held back, and the hall is told so.
    page = central_side.serve_down(
        central.engine,
        central_side.Hall(hall.site_id, "hall-xicheng"),
        hall_side.down_cursor(hall.engine),
        central.schema,
    )
    assert {r.key for r in page.rows if r.table == "zones"} == set()
    assert page.extra["held"] >= 1
    assert hall.agent.cycle().error is None  # the hall pulls while the slow one is open
    slow.commit()
    slow.close()
    assert hall.agent.cycle().error is None
    with Session(hall.engine) as session:
        assert session.get(Zone, second).name_zh == "后写先提交"  # type: ignore[union-attr]
        assert session.get(Zone, first).name_zh == "先写后提交"  # type: ignore[union-attr]


def test_announcements_reach_only_their_hall(migrated: Engine, tmp_path: Path) -> None:
    central = start_central(migrated)
    xicheng = provision_hall(central, "hall-xicheng", tmp_path)
    other = provision_hall(central, "hall-guanganmen", tmp_path)
    with Session(central.engine, expire_on_commit=False) as session, session.begin():
        sites = {s.code: s.id for s in session.scalars(select(Site))}
        note = Announcement(
            origin_site_id=sites["central"],
            site_id=sites["hall-xicheng"],
            text_zh="本厅今日下午三点后暂停办理报装",
            text_en="No new connections after 3 pm today",
            starts_at=utcnow(),
        )
        session.add(note)
    for hall in (xicheng, other):
        assert hall.agent.cycle().error is None
    with Session(xicheng.engine) as a, Session(other.engine) as b:
        assert a.get(Announcement, note.id) is not None
        assert b.get(Announcement, note.id) is None
