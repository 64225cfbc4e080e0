"""A fault report (报修) or complaint (投诉) made at a kiosk becomes a work order in the hall's
database; the sync agent carries it to central, which dispatches it.

The customer picks everything from lists: the kind, the category, the place (their account's
premises, or a street from the district picker) and optional details from a fixed list, so no
free Chinese text entry is needed. The contact phone is kept beside the order (for the crew
to call), never in its description, and is shown nowhere but to staff.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from domain.accounts import find_account
from domain.kiosk_errors import (
    KeyReused,
    NoPlace,
    UnknownDetail,
    UnknownOrder,
    UnknownStreet,
)
from domain.kiosk_events import FaultReported
from domain.kiosk_site import KioskSite, mask_address, next_number, request_digest
from servicedb.models import (
    KioskReport,
    Premises,
    Street,
    WorkOrder,
    WorkOrderCategory,
    WorkOrderStatus,
    Zone,
)

# Report category → (work-order category, priority 1–4, zh, en).
CATEGORIES: dict[str, tuple[WorkOrderCategory, int, str, str]] = {
    "burst_main": (WorkOrderCategory.BURST_MAIN, 1, "爆管", "Burst main"),
    "no_water": (WorkOrderCategory.NO_WATER, 2, "停水 / 无水", "No water"),
    "low_pressure": (WorkOrderCategory.LOW_PRESSURE, 3, "水压低", "Low pressure"),
    "leak": (WorkOrderCategory.LEAK, 2, "漏水", "Leak"),
    "meter_fault": (WorkOrderCategory.METER_FAULT, 4, "水表故障", "Meter fault"),
    "water_quality": (WorkOrderCategory.HELP, 2, "水质问题", "Water quality"),
    "billing": (WorkOrderCategory.COMPLAINT, 4, "账单疑问", "Billing"),
    "service": (WorkOrderCategory.COMPLAINT, 4, "服务态度", "Service"),
    "other": (WorkOrderCategory.HELP, 4, "其他", "Other"),
}

# The fixed list of optional details a kiosk offers (code → zh, en).
DETAILS: dict[str, tuple[str, str]] = {
    "flooding": ("现场积水", "Water is pooling"),
    "road_blocked": ("影响交通", "The road is blocked"),
    "spraying": ("水柱喷涌", "Water is spraying out"),
    "since_today": ("今天开始", "Since today"),
    "several_days": ("已持续数日", "For several days"),
    "neighbours_too": ("邻居也受影响", "Neighbours are affected too"),
    "elderly_at_home": ("家中有老人", "Elderly people at home"),
    "discoloured": ("水色异常", "Discoloured water"),
    "smell": ("有异味", "Unusual smell"),
    "meter_stopped": ("水表不走", "The meter does not turn"),
    "meter_leaking": ("水表漏水", "The meter leaks"),
    "bill_too_high": ("账单金额过高", "The bill is too high"),
    "estimated_reading": ("估抄有误", "The estimated reading is wrong"),
    "long_wait": ("等候时间过长", "Waited too long"),
    "staff_attitude": ("工作人员态度", "Staff attitude"),
}


@dataclass(frozen=True)
class Report:
    key: str
    kind: str  # repair | complaint
    category: str
    account_no: str | None
    street_code: str | None
    contact_phone: str
    details: list[str]


@dataclass(frozen=True)
class ReportReceipt:
    order_no: str
    kind: str
    category: str
    created_at: datetime
    duplicate: bool = False


@dataclass(frozen=True)
class OrderView:
    """What an order's QR shows anyone: no phone, no name, the address masked."""

    order_no: str
    kind: str
    category_zh: str
    category_en: str
    status: str
    created_at: datetime
    place: str


@dataclass(frozen=True)
class StreetView:
    code: str
    name_zh: str
    name_en: str
    district_code: str
    lon: float
    lat: float


@dataclass(frozen=True)
class DistrictView:
    code: str
    name_zh: str
    name_en: str
    streets: list[StreetView]


class FaultIntake:
    def __init__(self, site: KioskSite) -> None:
        self._site = site

    def places(self) -> list[DistrictView]:
        with self._site.read() as session:
            zones = session.scalars(select(Zone).order_by(Zone.code)).all()
            streets = session.scalars(select(Street).order_by(Street.code)).all()
            by_zone: dict[uuid.UUID, list[StreetView]] = {}
            for s in streets:
                by_zone.setdefault(s.zone_id, []).append(
                    StreetView(s.code, s.name_zh, s.name_en, "", s.lon, s.lat)
                )
            return [
                DistrictView(
                    z.code,
                    z.name_zh,
                    z.name_en,
                    [
                        StreetView(s.code, s.name_zh, s.name_en, z.code, s.lon, s.lat)
                        for s in by_zone.get(z.id, [])
                    ],
                )
                for z in zones
                if z.id in by_zone
            ]

    def report(self, report: Report, kiosk: str) -> ReportReceipt:
        unknown = [d for d in report.details if d not in DETAILS]
        if unknown:
            raise UnknownDetail(f"{len(unknown)} detail code(s) not in the list")
        if report.category not in CATEGORIES:
            raise UnknownDetail("no such category")
        if report.account_no is None and report.street_code is None:
            raise NoPlace("neither an account nor a street")
        digest = request_digest({k: v for k, v in report.__dict__.items() if k != "key"})
        site = self._site
        with site.units() as uow:
            session = uow.session
            done = session.scalars(
                select(KioskReport).where(KioskReport.idempotency_key == report.key)
            ).first()
            if done is not None:
                if done.request_sha256 != digest:
                    raise KeyReused("the key was used for another report")
                order = session.get(WorkOrder, done.work_order_id)
                assert order is not None  # noqa: S101 - a foreign key
                return ReportReceipt(
                    order.number, done.kind, done.category, order.created_at, duplicate=True
                )
            account = find_account(session, report.account_no) if report.account_no else None
            street = None
            if report.street_code is not None:
                street = session.scalars(
                    select(Street).where(Street.code == report.street_code)
                ).first()
                if street is None:
                    raise UnknownStreet(f"no street {report.street_code}")
            if account is not None:
                premises = session.get(Premises, account.premises_id)
                assert premises is not None  # noqa: S101 - a foreign key
                lon, lat, premises_id = premises.lon, premises.lat, premises.id
            else:
                assert street is not None  # noqa: S101 - checked above
                lon, lat, premises_id = street.lon, street.lat, None
            category, priority, cat_zh, cat_en = CATEGORIES[report.category]
            if report.kind == "complaint":
                category, priority = WorkOrderCategory.COMPLAINT, 4
            kind_zh, kind_en = (
                ("投诉", "Complaint") if report.kind == "complaint" else ("报修", "Repair")
            )
            details_zh = "、".join(DETAILS[d][0] for d in report.details)
            details_en = "; ".join(DETAILS[d][1] for d in report.details)
            place = f"{street.name_zh} {street.name_en}" if street and account is None else ""
            now = site.clock()
            day = site.local_day(now).strftime("%Y%m%d")
            number = next_number(session, WorkOrder.number, f"{site.tag}-R{day}-", 4)
            order = WorkOrder(
                origin_site_id=site.site_id,
                created_at=now,
                number=number,
                category=category,
                status=WorkOrderStatus.NEW,
                source="kiosk",
                priority=priority,
                description=(
                    f"{kind_zh}·{cat_zh}（自助终端 {kiosk}）{details_zh} {place}\n"
                    f"{kind_en}: {cat_en} (kiosk {kiosk}) {details_en}"
                ).strip(),
                lon=lon,
                lat=lat,
                account_id=account.id if account else None,
                premises_id=premises_id,
            )
            session.add(order)
            session.flush()
            session.add(
                KioskReport(
                    origin_site_id=site.site_id,
                    created_at=now,
                    idempotency_key=report.key,
                    request_sha256=digest,
                    work_order_id=order.id,
                    kind=report.kind,
                    category=report.category,
                    account_id=account.id if account else None,
                    street_id=street.id if street else None,
                    contact_phone=report.contact_phone,
                    details=json.dumps(report.details),
                    device_name=kiosk,
                )
            )
            uow.record(FaultReported(now, order.id, number, report.kind, category.value, priority))
            uow.commit()
            return ReportReceipt(number, report.kind, report.category, now)

    def order(self, order_no: str) -> OrderView:
        with self._site.read() as session:
            order = session.scalars(select(WorkOrder).where(WorkOrder.number == order_no)).first()
            if order is None:
                raise UnknownOrder("no such work order")
            intake = session.scalars(
                select(KioskReport).where(KioskReport.work_order_id == order.id)
            ).first()
            category = intake.category if intake else order.category.value
            _, _, cat_zh, cat_en = CATEGORIES.get(
                category, (order.category, 0, order.category.value, order.category.value)
            )
            place = ""
            if order.premises_id is not None:
                premises = session.get(Premises, order.premises_id)
                place = mask_address(premises.address_zh) if premises else ""
            elif intake is not None and intake.street_id is not None:
                street = session.get(Street, intake.street_id)
                place = f"{street.name_zh} {street.name_en}" if street else ""
            return OrderView(
                order.number,
                intake.kind if intake else "repair",
                cat_zh,
                cat_en,
                order.status.value,
                order.created_at,
                place,
            )
