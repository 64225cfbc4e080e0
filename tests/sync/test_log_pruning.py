"""Central forgets change-log entries only once every registered hall has applied them; a
hall that is behind still gets everything it lacks."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from servicedb.models import SyncChange, Zone
from sync import central_side
from tests.sync.harness import provision_hall, start_central


def _log(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(SyncChange)) or 0)


def _rename_zones(engine: Engine, name: str) -> None:
    with Session(engine) as session, session.begin():
        for zone in session.scalars(select(Zone)):
            zone.name_zh = name


def test_the_log_is_pruned_behind_the_slowest_hall(migrated: Engine, tmp_path: Path) -> None:
    central = start_central(migrated)
    quick = provision_hall(central, "hall-xicheng", tmp_path)
    slow = provision_hall(central, "hall-guanganmen", tmp_path)
    for hall in (quick, slow):
        assert hall.agent.cycle().error is None
    _rename_zones(central.engine, "第一次改名")
    assert quick.agent.cycle().error is None  # the slow hall is offline meanwhile
    assert quick.agent.cycle().error is None
    central_side.prune_log(central.engine, force=True)
    assert _log(central.engine) > 0  # the slow hall has not applied them: kept

    _rename_zones(central.engine, "第二次改名")
    for _ in range(2):
        assert slow.agent.cycle().error is None
        assert quick.agent.cycle().error is None
    central_side.prune_log(central.engine, force=True)
    assert _log(central.engine) == 0  # every hall has everything
    for hall in (quick, slow):
        with Session(hall.engine) as session:
            assert set(session.scalars(select(Zone.name_zh))) == {"第二次改名"}

    # After pruning, the log goes on from where it was: new changes still come down.
    _rename_zones(central.engine, "第三次改名")
    assert slow.agent.cycle().error is None
    with Session(slow.engine) as session:
        assert set(session.scalars(select(Zone.name_zh))) == {"第三次改名"}


def test_a_retired_hall_no_longer_holds_the_log(migrated: Engine, tmp_path: Path) -> None:
    central = start_central(migrated)
    quick = provision_hall(central, "hall-xicheng", tmp_path)
    gone = provision_hall(central, "hall-guanganmen", tmp_path)
    assert gone.agent.cycle().error is None
    _rename_zones(central.engine, "改名")
    for _ in range(2):  # central learns what a hall applied when it next asks
        assert quick.agent.cycle().error is None
    central_side.prune_log(central.engine, force=True)
    assert _log(central.engine) > 0  # the other hall has not applied them
    central_side.retire(central.engine, "hall-guanganmen")
    central_side.prune_log(central.engine, force=True)
    assert _log(central.engine) == 0
    assert gone.agent.cycle().error is not None  # its token no longer works
