"""Small, explicit halls for domain tests, built straight into a migrated database.

Domain tests describe the hall they need here rather than borrowing the demo city's seeder,
so a change to the demo never changes what a domain test means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from domain.staff import hash_pin
from servicedb.models import (
    Appointment,
    Counter,
    CounterCategory,
    Customer,
    ServiceCategory,
    Site,
    SiteKind,
    Staff,
    VipCard,
)


@dataclass(frozen=True)
class Category:
    code: str
    prefix: str
    name_zh: str
    name_en: str
    is_priority: bool = False
    mean_service_seconds: int = 300
    target_wait_minutes: int = 15


# The categories of a water utility's hall, with plausible service times.
CATEGORIES = (
    Category("payment", "A", "缴费", "Bill payment", False, 180, 10),
    Category("new_connection", "B", "报装", "New connection", False, 900, 20),
    Category("repair_complaint", "C", "报修 / 投诉", "Repairs & complaints", False, 480, 15),
    Category("enquiry", "D", "咨询", "Enquiries", False, 240, 15),
    Category("vip", "V", "贵宾 / 优先", "VIP & priority", True, 360, 5),
)

# Staff numbers S001 … S009 all have this PIN in test halls (hashed at a low cost: tests only).
PIN = "2468"
VIP_CARD = "VIP-0001"

# Counter number → the categories it serves by default.
COUNTERS: Mapping[int, Sequence[str]] = {
    1: ("payment", "enquiry"),
    2: ("payment", "enquiry"),
    3: ("payment", "new_connection"),
    4: ("repair_complaint",),
    5: ("repair_complaint", "enquiry"),
    6: ("vip", "payment"),
}


def build_hall(
    engine: Engine,
    code: str = "hall-test",
    *,
    name: tuple[str, str] = ("测试营业厅", "Test Service Hall"),
    lonlat: tuple[float, float] = (116.3652, 39.9122),
    categories: Sequence[Category] = CATEGORIES,
    counters: Mapping[int, Sequence[str]] = COUNTERS,
) -> str:
    """A hall site with its categories and counters; returns the site code."""
    with Session(engine) as session, session.begin():
        site = Site(
            code=code,
            kind=SiteKind.HALL,
            name_zh=name[0],
            name_en=name[1],
            lon=lonlat[0],
            lat=lonlat[1],
        )
        session.add(site)
        session.flush()
        by_code = {}
        for spec in categories:
            category = ServiceCategory(
                site_id=site.id,
                code=spec.code,
                prefix=spec.prefix,
                name_zh=spec.name_zh,
                name_en=spec.name_en,
                is_priority=spec.is_priority,
                mean_service_seconds=spec.mean_service_seconds,
                target_wait_minutes=spec.target_wait_minutes,
            )
            session.add(category)
            by_code[spec.code] = category
        session.flush()
        for number, served in counters.items():
            counter = Counter(
                site_id=site.id,
                number=number,
                name_zh=f"{number} 号窗口",
                name_en=f"Counter {number}",
            )
            session.add(counter)
            session.flush()
            for category_code in served:
                session.add(
                    CounterCategory(counter_id=counter.id, category_id=by_code[category_code].id)
                )
        staff_pin = hash_pin(PIN, cost=1024)
        for n in range(1, 10):
            session.add(
                Staff(site_id=site.id, staff_no=f"S{n:03d}", name=f"职员{n}", pin_hash=staff_pin)
            )
        if session.scalar(select(VipCard).where(VipCard.card_no == VIP_CARD)) is None:
            vip = Customer(origin_site_id=site.id, name="贵宾客户", is_vip=True)
            session.add(vip)
            session.flush()
            session.add(VipCard(card_no=VIP_CARD, customer_id=vip.id))
    return code


class _SignsIn(Protocol):
    def sign_in(
        self,
        counter_number: int,
        staff_no: str,
        pin: str,
        category_codes: Sequence[str] | None = None,
    ) -> None: ...


def open_counters(queue: _SignsIn, numbers: Sequence[int] = tuple(COUNTERS)) -> None:
    """Staff S00n signs in at counter n, serving the counter's default categories."""
    for number in numbers:
        queue.sign_in(number, f"S{number:03d}", PIN)


def book_appointment(
    engine: Engine,
    site_code: str,
    category_code: str,
    code: str,
    slot_start: datetime,
    *,
    minutes: int = 30,
) -> None:
    """An appointment booked for ``slot_start`` (aware) at the hall, for one service."""
    with Session(engine) as session, session.begin():
        site = session.scalars(select(Site).where(Site.code == site_code)).one()
        category = session.scalars(
            select(ServiceCategory).where(
                ServiceCategory.site_id == site.id, ServiceCategory.code == category_code
            )
        ).one()
        session.add(
            Appointment(
                origin_site_id=site.id,
                site_id=site.id,
                category_id=category.id,
                code=code,
                day=slot_start.astimezone(ZoneInfo(site.timezone)).date(),
                window_start=slot_start,
                window_end=slot_start + timedelta(minutes=minutes),
            )
        )
