"""A small town for kiosk tests, built into a hall's migrated database: one zone, two streets,
a tiered tariff, a few accounts with bills and linked phones, and an outage over one street.

Every number a test asserts is written here by hand, so tests never derive their
expectations from the code under test.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from shapely.geometry import box
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from gis.geojson import to_geojson
from servicedb.models import (
    Account,
    AccountPhone,
    Bill,
    BillLine,
    Customer,
    Outage,
    OutageKind,
    OutageStatus,
    Payment,
    PaymentKind,
    Premises,
    Site,
    Street,
    Tariff,
    TariffTier,
    Zone,
)
from servicedb.models.billing import PaymentMethod, TierPeriod
from servicedb.models.customers import ServiceKind

OPENED = datetime(2025, 10, 1, tzinfo=UTC)
# Three bills per account: Aug (paid in full at a counter), Sep (half paid), Oct (unpaid).
BILL_FEN = (4_200, 5_000, 6_300)
PAID_FEN = (4_200, 2_500, 0)
DUE_FEN = 5_000 - 2_500 + 6_300  # 8,800
# Litres per month, and the annual tiers (≤ 180 m³ at ¥5, ≤ 260 m³ at ¥7, above at ¥9).
LITRES = (21_000, 24_000, 30_000)
INSIDE = (116.36, 39.92)  # inside the outage's area
OUTSIDE = (116.33, 39.90)


@dataclass
class TownAccount:
    account_no: str
    name: str
    phone: str | None
    bill_ids: list[uuid.UUID] = field(default_factory=list)

    @property
    def due_bills(self) -> list[uuid.UUID]:
        return self.bill_ids[1:]


def build_town(engine: Engine, site_code: str, accounts: int = 3) -> list[TownAccount]:
    built: list[TownAccount] = []
    with Session(engine) as session, session.begin():
        site = session.scalars(select(Site).where(Site.code == site_code)).one()
        zone = Zone(
            code="DMA-01",
            name_zh="金融街计量区",
            name_en="Jinrongjie DMA",
            area_geojson=to_geojson(box(116.30, 39.88, 116.40, 39.95)),
        )
        session.add(zone)
        session.flush()
        session.add_all(
            [
                Street(
                    code="ST001",
                    name_zh="金融大街",
                    name_en="Jinrong Street",
                    zone_id=zone.id,
                    lon=INSIDE[0],
                    lat=INSIDE[1],
                ),
                Street(
                    code="ST002",
                    name_zh="三里河路",
                    name_en="Sanlihe Road",
                    zone_id=zone.id,
                    lon=OUTSIDE[0],
                    lat=OUTSIDE[1],
                ),
            ]
        )
        tariff = Tariff(
            code="RES",
            name_zh="居民阶梯水价",
            name_en="Residential tiered water",
            service_kind=ServiceKind.WATER,
            tier_period=TierPeriod.ANNUAL,
            valid_from=date(2025, 1, 1),
        )
        session.add(tariff)
        session.flush()
        for seq, (upper, price) in enumerate(((180_000, 500), (260_000, 700), (None, 900))):
            session.add(
                TariffTier(tariff_id=tariff.id, seq=seq, upper_litres=upper, price_fen_per_m3=price)
            )
        session.add(
            Outage(
                origin_site_id=site.id,
                kind=OutageKind.WATER_OFF,
                status=OutageStatus.ACTIVE,
                title_zh="金融大街抢修停水",
                title_en="Water off for a repair on Jinrong Street",
                detail_zh="预计 18:00 恢复供水",
                detail_en="Water expected back at 18:00",
                area_geojson=to_geojson(box(116.35, 39.91, 116.37, 39.93)),
                zone_id=zone.id,
                starts_at=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
                estimated_restore_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
            )
        )
        for n in range(1, accounts + 1):
            name = ("王小明", "李娜", "欧阳志远", "张伟")[(n - 1) % 4]
            phone = f"1380013{n:04d}" if n != 3 else None  # the third has no phone
            where = INSIDE if n == 1 else OUTSIDE
            premises = Premises(
                origin_site_id=site.id,
                address_zh=f"北京市西城区金融大街{n}号1号楼2单元30{n}室",
                address_en=f"Room 30{n}, No. {n} Jinrong Street",
                lon=where[0],
                lat=where[1],
                zone_id=zone.id,
            )
            customer = Customer(origin_site_id=site.id, name=name)
            session.add_all([premises, customer])
            session.flush()
            account = Account(
                origin_site_id=site.id,
                account_no=f"XC{n:09d}",
                service_kind=ServiceKind.WATER,
                customer_id=customer.id,
                premises_id=premises.id,
                tariff_id=tariff.id,
                opened_at=OPENED,
            )
            session.add(account)
            session.flush()
            if phone:
                session.add(
                    AccountPhone(origin_site_id=site.id, account_id=account.id, phone=phone)
                )
            town = TownAccount(account.account_no, name, phone)
            for month, (amount, paid, litres) in enumerate(
                zip(BILL_FEN, PAID_FEN, LITRES, strict=True)
            ):
                start = date(2026, 8 + month, 1)
                end = date(2026, 9 + month, 1) if month < 2 else date(2026, 11, 1)
                bill = Bill(
                    origin_site_id=site.id,
                    account_id=account.id,
                    period_start=start,
                    period_end=end,
                    consumption_litres=litres,
                    amount_fen=amount,
                    due_date=date(2026, 12, 1),
                )
                session.add(bill)
                session.flush()
                session.add(
                    BillLine(
                        origin_site_id=site.id,
                        bill_id=bill.id,
                        seq=0,
                        description_zh="第一阶梯",
                        description_en="Tier 1",
                        quantity_litres=litres,
                        unit_price_fen_per_m3=500,
                        amount_fen=amount,
                    )
                )
                if paid:
                    session.add(
                        Payment(
                            origin_site_id=site.id,
                            idempotency_key=f"counter-{bill.id.hex}",
                            account_id=account.id,
                            bill_id=bill.id,
                            kind=PaymentKind.PAYMENT,
                            method=PaymentMethod.COUNTER,
                            amount_fen=paid,
                            paid_at=datetime(2026, 10, 20, tzinfo=UTC),
                        )
                    )
                town.bill_ids.append(bill.id)
            built.append(town)
    return built
