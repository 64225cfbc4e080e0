"""Fault reports become work orders; outages near a place; the kiosks' health and alarms."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicedb.models import KioskAlarm, WorkOrder
from servicehall.hall.api.kiosk_schemas import (
    DeviceState,
    HeartbeatIn,
    KioskDeviceHealth,
    ReportCategory,
    ReportIn,
    ReportKind,
)
from servicehall.hall.client import HallApiError
from servicehall.hall.kiosk_client import KioskClient, new_idempotency_key
from tests.kiosk_hall.conftest import Rig

pytestmark = pytest.mark.integration


def report(**fields: object) -> ReportIn:
    values: dict[str, object] = {
        "idempotency_key": new_idempotency_key(),
        "kind": ReportKind.REPAIR,
        "category": ReportCategory.LEAK,
        "contact_phone": "13900001111",
        "details": ["flooding", "since_today"],
    }
    values.update(fields)
    return ReportIn.model_validate(values)


def test_a_repair_report_at_the_premises_becomes_a_work_order_once(rig: Rig) -> None:
    kiosk = rig.client()
    body = report(account_no="XC000000001")
    done = kiosk.report(body)
    assert done.order_no == "TEST-R20261123-0001" and not done.duplicate
    assert kiosk.report(body).duplicate
    with Session(rig.engine) as session:
        order = session.scalars(select(WorkOrder)).one()
    assert (order.category.value, order.status.value, order.source, order.priority) == (
        "leak",
        "new",
        "kiosk",
        2,
    )
    assert (order.lon, order.lat) == (116.36, 39.92)
    assert "现场积水" in order.description and "13900001111" not in order.description
    page = httpx.get(done.track_url, timeout=10)
    assert page.status_code == 200 and "已受理" in page.text and "漏水" in page.text
    assert "13900001111" not in page.text and "金融大街***" in page.text


def test_a_complaint_about_a_street_and_bad_input(rig: Rig) -> None:
    kiosk = rig.client()
    done = kiosk.report(
        report(
            kind=ReportKind.COMPLAINT,
            category=ReportCategory.SERVICE,
            street_code="ST002",
            details=[],
        )
    )
    with Session(rig.engine) as session:
        order = session.scalars(select(WorkOrder).where(WorkOrder.number == done.order_no)).one()
    assert order.category.value == "complaint" and (order.lon, order.lat) == (116.33, 39.90)
    for bad, status in (
        (report(street_code="ST999"), 404),
        (report(), 422),  # no place
        (report(account_no="XC000000001", details=["free text 漏水了"]), 422),
    ):
        with pytest.raises(HallApiError) as caught:
            kiosk.report(bad)
        assert caught.value.status == status


def test_the_street_picker_comes_from_the_hall_database_and_a_ticket_has_its_page(rig: Rig) -> None:
    ticket = rig.client().take_ticket("payment")
    page = httpx.get(f"{rig.url}/t/{ticket.ticket_id}", timeout=10)
    assert page.status_code == 200 and ticket.number in page.text and "等候中" in page.text
    assert httpx.get(f"{rig.url}/t/not-a-ticket", timeout=10).status_code == 404
    districts = rig.client().places().districts
    assert [(d.code, [s.code for s in d.streets]) for d in districts] == [
        ("DMA-01", ["ST001", "ST002"])
    ]


def test_outages_near_an_account_or_a_street(rig: Rig) -> None:
    kiosk = rig.client()
    near = kiosk.outages(account_no="XC000000001")
    assert near.where_zh == "您的地址" and [o.title_zh for o in near.outages] == [
        "金融大街抢修停水"
    ]
    assert near.outages[0].restore_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert kiosk.outages(street_code="ST001").where_zh == "金融大街"
    assert kiosk.outages(street_code="ST002").outages == []
    assert kiosk.outages(account_no="XC000000002").outages == []


def beat(*devices: tuple[str, DeviceState, str]) -> HeartbeatIn:
    return HeartbeatIn(
        app_version="1.0.0",
        screen="home",
        devices=[
            KioskDeviceHealth(
                device=d, state=s, reason=r, since=datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
            )
            for d, s, r in devices
        ],
    )


def fleet(rig: Rig) -> dict[str, list[str]]:
    staff = KioskClient(rig.url, rig.tokens["counter-1"])
    return {k.name: k.alarms for k in staff.fleet().kiosks}


def test_heartbeats_raise_and_clear_alarms_and_silence_is_an_alarm(rig: Rig) -> None:
    with pytest.raises(HallApiError) as caught:
        rig.client("counter-1").heartbeat(beat())
    assert caught.value.status == 403
    response = httpx.get(
        f"{rig.url}/api/v1/kiosk/fleet",
        headers={"Authorization": f"Bearer {rig.tokens['kiosk-1']}"},
    )
    assert response.status_code == 403
    kiosk = rig.client()
    kiosk.heartbeat(
        beat(
            ("printer", DeviceState.FAULT, "paper out"), ("card_reader", DeviceState.CONNECTED, "")
        )
    )
    alarms = fleet(rig)
    assert alarms["kiosk-1"] == ["打印机缺纸 Printer out of paper"]
    assert alarms["kiosk-2"] == ["终端离线 Kiosk offline"]  # never heard from
    kiosk.heartbeat(beat(("printer", DeviceState.CONNECTED, "")))
    assert fleet(rig)["kiosk-1"] == []
    with Session(rig.engine) as session:
        kept = session.scalars(select(KioskAlarm)).all()
    assert [(a.code, a.cleared_at is not None) for a in kept] == [("printer.fault", True)]
    rig.clock.advance(seconds=91)
    assert fleet(rig)["kiosk-1"] == ["终端离线 Kiosk offline"]
