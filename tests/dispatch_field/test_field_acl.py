"""The field's topics under the shipped Mosquitto config and ACL: central reads positions and
reports and writes orders; a phone reads only its own orders and writes only its own
positions and reports."""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from field_dispatch.assignments import ProgressReport, Step, encode_progress, progress_topic
from servicedb.models import WorkOrder, WorkOrderStatus
from servicehall.central.gps_ingest import GpsIngest
from tests.dispatch_field import builders
from tests.dispatch_field.mqtt_tools import Phone
from tests.dispatch_field.test_assignments import CentralField, acks, assignments
from tests.integration.test_mosquitto_config import USERS, shipped_broker

pytestmark = pytest.mark.integration
__all__ = ["shipped_broker"]  # the fixture, used by name


def test_the_acl_keeps_each_phone_to_its_own_orders_reports_and_positions(
    shipped_broker: int, sqlite_db: Engine
) -> None:
    mine, theirs = "crew-north-1-1", "crew-north-1-2"
    crew = builders.crew(sqlite_db, "crew-north-1", users=[mine])
    builders.crew(sqlite_db, "crew-north-2", users=[theirs])
    central = CentralField(sqlite_db, shipped_broker, user="central", password=USERS["central"])
    order_id = central.burst().id
    ingest = GpsIngest(sqlite_db, central.health)
    ingest.attach(central.link)
    central.link.subscribe("owntracks/+/+", ingest.offer)  # the link is up: subscribes now
    ingest.start()
    phone = Phone(
        shipped_broker,
        mine,
        password=USERS[mine],
        subscribe="servicehall/v1/technicians/+/orders",
    )
    snoop = Phone(
        shipped_broker,
        theirs,
        password=USERS[theirs],
        subscribe="servicehall/v1/technicians/#",
    )
    try:
        central.dispatch(order_id, crew.id)
        assert phone.wait_for(lambda got: len(assignments(phone)) == 1)
        now = datetime.now(UTC).replace(microsecond=0)
        # Another technician poses as this one: a report and a position in their name.
        # (Mosquitto 2.0 answers a refused QoS 1 publish by closing the poser's connection.)
        forged = ProgressReport(str(uuid.uuid4()), str(order_id), Step.DECLINED, now, reason="x")
        fake_fix = {"_type": "location", "lat": 39.9, "lon": 116.3, "tst": int(now.timestamp())}
        for topic, payload in (
            (progress_topic(mine), encode_progress(forged)),
            (f"owntracks/{mine}/phone", json.dumps(fake_fix).encode()),
        ):
            poser = Phone(shipped_broker, theirs, password=USERS[theirs])
            with contextlib.suppress(RuntimeError):  # disconnected before the PUBACK
                poser.publish(topic, payload).wait_for_publish(5)
            poser.close()
        # The real technician reports; its answer comes after anything the snoop got through.
        accepted = ProgressReport(str(uuid.uuid4()), str(order_id), Step.ACCEPTED, now)
        phone.publish(progress_topic(mine), encode_progress(accepted))
        real_fix = {**fake_fix, "lon": 116.36, "tst": int(now.timestamp()) - 1}
        phone.publish(f"owntracks/{mine}/phone", json.dumps(real_fix).encode())
        assert phone.wait_for(lambda got: len(acks(phone)) == 1)
        assert ingest.wait_until(lambda c: c.stored == 1)
        assert acks(phone)[0].ref == accepted.report_id
        c = central.publisher.counters
        assert (c.applied, c.refused, c.ignored) == (1, 0, 0)  # the forged decline never came
        with Session(sqlite_db) as session:
            assert session.get_one(WorkOrder, order_id).status is WorkOrderStatus.ACCEPTED
        position = ingest.position(mine)
        assert position is not None and position.lon == 116.36
        assert snoop.received == []  # not another technician's orders, nor their answers
    finally:
        snoop.close()
        phone.close()
        ingest.stop()
        central.close()
