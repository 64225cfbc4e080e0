"""A fault reported at a hall's kiosk reaches central by sync, central takes it in and
dispatches a crew, and the customer following the receipt's QR at the hall sees it move —
each state coming down from central, none going back up."""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from domain.bus import EventBus
from domain.sla_config import policy_from_config
from domain.uow import UnitsOfWork
from domain.work_orders import Who, WorkOrders
from field_dispatch.vocabulary import Actor
from servicedb.models import Crew, SyncChange, WorkOrder, WorkOrderEvent
from tests.sync.harness import provision_hall, start_central
from tests.sync.workload import HallDay


def test_a_hall_report_is_dispatched_at_central_and_followed_at_the_hall(
    migrated: Engine, tmp_path: Path
) -> None:
    central = start_central(migrated)
    hall = provision_hall(central, "hall-xicheng", tmp_path)
    day = HallDay(hall.engine, "hall-xicheng", random.Random(2))
    receipt = day.fault_report()
    assert day.faults.order(receipt.order_no).status == "new"
    assert hall.agent.cycle().error is None

    orders = WorkOrders(
        UnitsOfWork(central.engine, EventBus()), "central", policy=policy_from_config(None)
    )
    taken = orders.adopt()
    assert len(taken) == 1
    with Session(central.engine) as session:
        crew_id = session.scalars(select(Crew.id).limit(1)).one()
    orders.dispatch(taken[0].id, crew_id, Who(Actor.DISPATCHER, "D001"))

    assert hall.agent.cycle().error is None
    assert day.faults.order(receipt.order_no).status == "dispatched"
    with Session(hall.engine) as session:
        order = session.scalars(select(WorkOrder)).one()
        assert order.origin_site_id == hall.site_id  # still the hall's order
        events = session.scalar(
            select(func.count())
            .select_from(WorkOrderEvent)
            .where(WorkOrderEvent.order_id == order.id)
        )
        assert events and events > 1  # central's history of it came down
        # Nothing of central's came back into the hall's outbox.
        assert session.scalar(select(func.count()).select_from(SyncChange)) == 0
