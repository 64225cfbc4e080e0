"""Small, explicit halls for domain tests, built straight into a migrated database.

Domain tests describe the hall they need here rather than borrowing the demo city's seeder,
so a change to the demo never changes what a domain test means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from servicedb.models import Counter, CounterCategory, ServiceCategory, Site, SiteKind


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
    return code
