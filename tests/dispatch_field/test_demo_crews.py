"""The demo's crews through the embedded broker and the real central parts: they drive and
report positions, and a burst main becomes an order that the nearest crew takes to the end."""

from __future__ import annotations

import itertools
import uuid

import pytest
from shapely.geometry import box
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from domain.bus import EventBus
from domain.uow import UnitsOfWork
from domain.work_orders import WorkOrders
from field_dispatch.assignments import AckResult, Step
from servicedb.models import Outage, WorkOrder, WorkOrderCategory, WorkOrderStatus
from servicehall.central.assignments_out import AssignmentPublisher
from servicehall.central.gps_ingest import GpsIngest
from servicehall.config import MqttConfig
from servicehall.demo.crews import AVENUES, STREETS, DemoCrews, DemoField, _metres, route
from servicehall.platform.health import HealthBoard
from servicehall.platform.mqtt_link import MqttLink
from tests.dispatch_field import builders

pytestmark = pytest.mark.integration


def test_a_burst_main_is_taken_to_the_end_by_the_nearest_able_crew(
    embedded_broker: tuple[str, int], sqlite_db: Engine
) -> None:
    builders.central_site(sqlite_db)
    builders.zone(sqlite_db, "DMA-01", box(116.32, 39.865, 116.40, 39.945))
    builders.hall_site(sqlite_db, "hall-xicheng", 116.3652, 39.9142)
    near = builders.crew(
        sqlite_db, "crew-centre-1", 1, (116.3589, 39.9069), skills=[WorkOrderCategory.BURST_MAIN]
    )
    builders.crew(sqlite_db, "crew-north-2", 1, (116.3600, 39.9180))  # nearer, cannot fix mains
    builders.crew(
        sqlite_db, "crew-south-1", 1, (116.3651, 39.8731), skills=[WorkOrderCategory.BURST_MAIN]
    )
    affected = builders.household(sqlite_db, 116.3590, 39.9190)
    site = f"central-{uuid.uuid4().hex[:8]}"
    health = HealthBoard(site, "central")
    link = MqttLink(
        MqttConfig(host=embedded_broker[0], port=embedded_broker[1]),
        client_id=site,
        site=site,
        health=health,
    )
    ingest = GpsIngest(sqlite_db, health)
    ingest.attach(link)
    bus = EventBus()
    orders = WorkOrders(UnitsOfWork(sqlite_db, bus), "central")
    publisher = AssignmentPublisher(sqlite_db, link, health)
    publisher.attach()
    publisher.serve(orders, bus)
    link.start()
    ingest.start()
    publisher.start()
    crews = DemoCrews(
        sqlite_db, *embedded_broker, time_scale=100, accept_after_s=10, work_s=60, fix_every_s=5
    )
    field = DemoField(sqlite_db, crews, orders, burst_after_s=3600)
    field.start()
    try:
        assert ingest.wait_until(lambda c: c.live >= 3)  # every crew's phone is reporting
        order_id = field.dispatch_burst(116.3580, 39.9180)
        leader = crews.crews[near.users[0]]
        on_site: list[tuple[float, float]] = []

        def arrived() -> bool:
            if leader.steps and leader.steps[-1][1] is Step.ON_SITE and not on_site:
                on_site.append(leader.where)
            return bool(leader.steps) and leader.steps[-1][1] is Step.RESOLVED

        assert crews.wait_for(arrived, timeout_s=30)
        assert [step for _number, step in leader.steps] == [
            Step.ACCEPTED,
            Step.EN_ROUTE,
            Step.ON_SITE,
            Step.RESOLVED,
        ]
        assert _metres(on_site[0], (116.3580, 39.9180)) < 1.0
        assert publisher.wait_until(lambda c: c.applied == 4)
        assert crews.wait_for(lambda: len(leader.acks) == 4, timeout_s=10)
        assert {ack.result for ack in leader.acks} == {AckResult.APPLIED}
        with Session(sqlite_db) as session:
            order = session.get_one(WorkOrder, order_id)
            assert (order.status, order.crew_id) == (WorkOrderStatus.RESOLVED, near.id)
            outage = session.query(Outage).one()
            assert outage.estimated_restore_at == orders.get(order_id).restore_by
        count, page = field.outages.affected(outage.id)
        assert (count, [p.id for p in page]) == (1, [affected.premises_id])
        others = [c for c in crews.crews.values() if c.user != leader.user]
        assert all(c.steps == [] for c in others)
        # The household in the outage is told, through the simulated SMS gateway.
        assert field.sender.wait_until(lambda totals: totals.sent == 1)
        (text,) = field.sms.inbox("13800138000")
        assert text.startswith("抢修停水通知：爆管抢修，临时停水")
    finally:
        field.stop()
        publisher.stop()
        link.stop()
        ingest.stop()


@pytest.mark.unit
def test_routes_keep_to_the_street_grid() -> None:
    start, goal = (116.3400, 39.9350), (116.3700, 39.8900)
    path = route(start, goal)
    assert path[-1] == goal
    for lon, lat in path[:-1]:  # every waypoint but the address itself is a crossing
        assert lon in AVENUES and lat in STREETS
    for (a_lon, a_lat), (b_lon, b_lat) in itertools.pairwise(path[:-1]):
        assert a_lon == b_lon or a_lat == b_lat  # along one street at a time
