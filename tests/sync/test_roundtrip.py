"""A hall provisioned from central works; its rows reach central once; what central changes
reaches the hall — on SQLite and on a PostgreSQL central."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from servicedb.models import (
    Outage,
    Payment,
    Premises,
    QueueEvent,
    QueueTicket,
    SyncChange,
    WorkOrder,
)
from tests.sync.harness import provision_hall, start_central
from tests.sync.workload import HallDay


def _ids(engine: Engine, model: Any, *where: Any) -> set[object]:
    with Session(engine) as session:
        return set(session.scalars(select(model.id).where(*where)))


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_provisioned_hall_round_trip(migrated: Engine, tmp_path: Path) -> None:
    central = start_central(migrated)
    hall = provision_hall(central, "hall-xicheng", tmp_path)
    assert _ids(hall.engine, Premises) == _ids(central.engine, Premises)
    assert _count(hall.engine, SyncChange) == 0  # provisioning is not the hall's own work

    day = HallDay(hall.engine, "hall-xicheng", random.Random(1))
    for _ in range(5):
        day.ticket()
    assert day.payment()
    day.fault_report()
    assert _count(hall.engine, SyncChange) > 0

    result = hall.agent.cycle()
    assert result.error is None, result.error
    assert _count(hall.engine, SyncChange) == 0  # acknowledged, so pruned
    for model in (QueueTicket, QueueEvent, Payment, WorkOrder):
        made = _ids(hall.engine, model, model.origin_site_id == hall.site_id)
        assert made, model
        assert made <= _ids(central.engine, model), model

    # Central declares an outage and dispatches the hall's work order: both come down.
    with Session(central.engine) as session, session.begin():
        outage = session.scalars(select(Outage).limit(1)).one()
        outage.detail_zh = "抢修：更换阀门"
        outage_id = outage.id
        order_id = session.scalars(
            select(WorkOrder.id).where(WorkOrder.origin_site_id == hall.site_id)
        ).one()
        session.execute(update(WorkOrder).where(WorkOrder.id == order_id).values(priority=1))
    assert hall.agent.cycle().error is None
    with Session(hall.engine) as session:
        assert session.get(Outage, outage_id).detail_zh == "抢修：更换阀门"  # type: ignore[union-attr]
        assert session.get(WorkOrder, order_id).priority == 1  # type: ignore[union-attr]
        # Central's change came down without echoing back up.
        assert session.scalar(select(func.count()).select_from(SyncChange)) == 0


def test_drift_is_found_and_repaired(migrated: Engine, tmp_path: Path) -> None:
    central = start_central(migrated)
    hall = provision_hall(central, "hall-xicheng", tmp_path)
    assert hall.agent.check_drift() == []
    # Someone edits the hall's copy behind sync's back (a restore, a hand-made fix).
    with Session(hall.engine) as session, session.begin():
        outage = session.scalars(select(Outage).limit(1)).one()
        outage.title_zh = "被改动的标题"
        outage_id = outage.id
    assert hall.agent.check_drift() == ["outages"]
    with Session(hall.engine) as session, Session(central.engine) as theirs:
        assert session.get(Outage, outage_id).title_zh == theirs.get(Outage, outage_id).title_zh  # type: ignore[union-attr]
    assert hall.agent.check_drift() == []
