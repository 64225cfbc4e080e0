"""Build the demo city into a database: reference data through the ORM, premises in bulk."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shapely.geometry import box
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from domain.billing.tiered import Tier, charge
from domain.staff import hash_pin
from gis.geojson import to_geojson
from gis.zones import ZoneIndex
from servicedb.ids import DeterministicIds
from servicedb.models import (
    Account,
    AccountPhone,
    Announcement,
    Bill,
    BillLine,
    Counter,
    CounterCategory,
    Crew,
    Customer,
    HallHours,
    Meter,
    MeterReading,
    Outage,
    OutageKind,
    OutageStatus,
    Payment,
    Premises,
    ServiceCategory,
    Site,
    SiteKind,
    Staff,
    Street,
    Tariff,
    TariffTier,
    Technician,
    TechnicianSkill,
    VipCard,
    Zone,
)
from servicedb.models.billing import TierPeriod
from servicedb.models.customers import ServiceKind
from servicedb.models.dispatch import WorkOrderCategory
from servicehall.demo.seed import city
from servicehall.demo.seed.bulk import BulkWriter
from servicehall.errors import UserFacingError

LOCAL = ZoneInfo("Asia/Shanghai")
CHUNK = 5_000
MONTHS = 12


class AlreadySeeded(UserFacingError):
    pass


@dataclass(frozen=True)
class SeedReport:
    premises: int
    readings: int
    bills: int
    payments: int
    billed_fen: int
    paid_fen: int


@dataclass(frozen=True)
class _Reference:
    central_id: uuid.UUID
    zone_index: ZoneIndex[uuid.UUID]
    residential: tuple[uuid.UUID, tuple[Tier, ...]]
    commercial: tuple[uuid.UUID, tuple[Tier, ...]]


def month_starts(as_of: date) -> list[date]:
    """The first days of the 13 months whose readings bound the last 12 billed months."""
    first = date(as_of.year, as_of.month, 1)
    starts = []
    for back in range(MONTHS, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        starts.append(date(year, month + 1, 1))
    return starts


def seed_city(
    engine: Engine,
    *,
    premises: int,
    seed: int = 20261122,
    as_of: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Seed an empty database with the demo city. The same arguments give the same rows."""
    as_of = as_of or datetime.now(LOCAL).date()
    starts = month_starts(as_of)
    opened = datetime.combine(starts[0], datetime.min.time(), LOCAL).astimezone(UTC) - timedelta(
        days=30
    )
    ids = DeterministicIds(seed, int(opened.timestamp() * 1000))
    with Session(engine) as session:
        existing = session.scalar(select(func.count()).select_from(Site))
        if existing:
            raise AlreadySeeded(
                f"the database already holds {existing} site(s); seed an empty database"
            )
        reference = _seed_reference(session, ids, as_of)
        session.commit()

    totals = [0, 0, 0, 0, 0, 0]
    done = 0
    chunk_no = 0
    while done < premises:
        size = min(CHUNK, premises - done)
        rng = random.Random(seed * 1_000_003 + chunk_no)
        chunk_ids = DeterministicIds(
            seed * 7919 + chunk_no, int(opened.timestamp() * 1000) + chunk_no * 10_000_000
        )
        with engine.begin() as connection:
            counts = _seed_premises_chunk(
                BulkWriter(connection),
                rng,
                chunk_ids,
                reference,
                first_no=done,
                size=size,
                starts=starts,
                opened=opened,
            )
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        done += size
        chunk_no += 1
        if progress:
            progress(size)
    return SeedReport(*totals)


def _seed_reference(session: Session, ids: DeterministicIds, as_of: date) -> _Reference:
    lon0, lat0 = city.CENTRAL[3], city.CENTRAL[4]
    central = Site(
        id=ids.next(),
        code=city.CENTRAL[0],
        kind=SiteKind.CENTRAL,
        name_zh=city.CENTRAL[1],
        name_en=city.CENTRAL[2],
        lon=lon0,
        lat=lat0,
    )
    session.add(central)
    session.flush()

    zones: list[tuple[uuid.UUID, box]] = []
    width = (city.EAST - city.WEST) / city.GRID
    height = (city.NORTH - city.SOUTH) / city.GRID
    for index, (name_zh, name_en) in enumerate(city.SUBDISTRICTS):
        row, col = divmod(index, city.GRID)
        area = box(
            city.WEST + col * width,
            city.NORTH - (row + 1) * height,
            city.WEST + (col + 1) * width,
            city.NORTH - row * height,
        )
        zone = Zone(
            id=ids.next(),
            code=f"DMA-{index + 1:02d}",
            name_zh=f"{name_zh}计量区",
            name_en=f"{name_en} DMA",
            area_geojson=to_geojson(area),
        )
        session.add(zone)
        zones.append((zone.id, area))

    residential = _tariff(
        session,
        ids,
        "BJ-RES-WATER",
        "北京居民阶梯水价",
        "Beijing residential water (tiered)",
        TierPeriod.ANNUAL,
        ((180_000, 500), (260_000, 700), (None, 900)),
    )
    commercial = _tariff(
        session,
        ids,
        "BJ-NONRES-WATER",
        "北京非居民用水",
        "Beijing non-residential water",
        TierPeriod.MONTHLY,
        ((None, 950),),
    )

    for hall in city.HALLS:
        site = Site(
            id=ids.next(),
            code=hall.code,
            kind=SiteKind.HALL,
            name_zh=hall.name_zh,
            name_en=hall.name_en,
            lon=hall.lon,
            lat=hall.lat,
            address_zh=hall.address_zh,
            address_en=hall.address_en,
        )
        session.add(site)
        session.flush()
        categories = {}
        for spec in city.CATEGORIES:
            category = ServiceCategory(
                id=ids.next(),
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
            categories[spec.code] = category
        session.flush()
        for number, served in enumerate(hall.counters, start=1):
            counter = Counter(
                id=ids.next(),
                site_id=site.id,
                number=number,
                name_zh=f"{number} 号窗口",
                name_en=f"Counter {number}",
            )
            session.add(counter)
            session.flush()
            for code in served:
                session.add(CounterCategory(counter_id=counter.id, category_id=categories[code].id))
        opens, last_ticket, closes = (time.fromisoformat(t) for t in city.HOURS)
        for weekday in range(7):
            session.add(
                HallHours(
                    site_id=site.id,
                    weekday=weekday,
                    opens=opens,
                    last_ticket=last_ticket,
                    closes=closes,
                )
            )
        pin_hash = hash_pin(city.DEMO_STAFF_PIN)
        for number, name in enumerate(city.STAFF, start=1):
            session.add(
                Staff(
                    id=ids.next(),
                    site_id=site.id,
                    staff_no=f"S{number:03d}",
                    name=name,
                    pin_hash=pin_hash,
                )
            )

    for name, card_no in city.VIP_CUSTOMERS:
        customer = Customer(id=ids.next(), origin_site_id=central.id, name=name, is_vip=True)
        session.add(customer)
        session.flush()
        session.add(VipCard(id=ids.next(), card_no=card_no, customer_id=customer.id))

    for code, name_zh, name_en, lon, lat, skills in city.CREWS:
        crew = Crew(
            id=ids.next(), code=code, name_zh=name_zh, name_en=name_en, depot_lon=lon, depot_lat=lat
        )
        session.add(crew)
        session.flush()
        for member in range(1, 4):
            tech = Technician(
                id=ids.next(),
                crew_id=crew.id,
                name=f"{name_zh}队员{member}",
                phone=f"1391000{len(code):02d}{member:02d}",
                tracker_user=f"{code}-{member}",
            )
            session.add(tech)
            session.flush()
            for skill in skills:
                session.add(TechnicianSkill(technician_id=tech.id, skill=WorkOrderCategory(skill)))

    start = datetime.combine(as_of, datetime.min.time(), LOCAL).astimezone(UTC)
    for priority, (text_zh, text_en) in enumerate(city.ANNOUNCEMENTS):
        session.add(
            Announcement(
                id=ids.next(),
                origin_site_id=central.id,
                site_id=None,
                text_zh=text_zh,
                text_en=text_en,
                starts_at=start - timedelta(days=30),
                priority=priority,
                created_at=start - timedelta(days=30),
            )
        )

    # One planned outage: a main replacement on Jinrong Street tomorrow, 09:00–17:00 local.
    jinrong_id, jinrong_area = zones[5]
    minx, miny, maxx, maxy = jinrong_area.bounds
    outage_area = box(
        minx + (maxx - minx) * 0.2,
        miny + (maxy - miny) * 0.3,
        minx + (maxx - minx) * 0.7,
        miny + (maxy - miny) * 0.8,
    )
    begins = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), LOCAL).replace(hour=9)
    session.add(
        Outage(
            id=ids.next(),
            origin_site_id=central.id,
            kind=OutageKind.WATER_OFF,
            status=OutageStatus.PLANNED,
            title_zh="金融大街供水管道更换",
            title_en="main replacement on Jinrong Street",
            detail_zh=f"{begins:%m月%d日} 9:00 至 17:00，金融大街沿线停水，请提前储水。",
            detail_en=f"Water off along Jinrong Street on {begins:%d %b}, 9:00–17:00. Please store water in advance.",
            area_geojson=to_geojson(outage_area),
            zone_id=jinrong_id,
            starts_at=begins.astimezone(UTC),
            estimated_restore_at=begins.replace(hour=17).astimezone(UTC),
            created_at=start,
        )
    )
    session.flush()
    _seed_streets(session, ids, zones)
    return _Reference(central.id, ZoneIndex(zones), residential, commercial)


# The subdistrict (index into city.SUBDISTRICTS, so a zone) each street of city.STREETS runs
# through, and where in that zone its representative point lies (fractions of the zone's
# width and height from its south-west corner): the kiosk's street picker.
_STREET_PLACES = (
    (1, 0.30, 0.40),  # 西四北大街 — 新街口
    (5, 0.45, 0.55),  # 阜成门内大街 — 金融街
    (1, 0.50, 0.30),  # 赵登禹路 — 新街口
    (1, 0.70, 0.20),  # 平安里西大街 — 新街口
    (1, 0.40, 0.80),  # 西直门内大街 — 新街口
    (4, 0.50, 0.50),  # 月坛南街 — 月坛
    (0, 0.70, 0.40),  # 三里河路 — 展览路
    (5, 0.40, 0.50),  # 金融大街 — 金融街 (inside the seeded outage)
    (7, 0.40, 0.50),  # 宣武门外大街 — 椿树
    (9, 0.50, 0.50),  # 广安门内大街 — 广安门内
    (13, 0.50, 0.50),  # 牛街 — 牛街
    (4, 0.80, 0.70),  # 南礼士路 — 月坛
    (1, 0.50, 0.90),  # 新街口外大街 — 新街口
    (2, 0.50, 0.60),  # 德胜门外大街 — 德胜
    (12, 0.50, 0.50),  # 白纸坊西街 — 白纸坊
    (14, 0.50, 0.50),  # 陶然亭路 — 陶然亭
    (3, 0.40, 0.70),  # 鼓楼西大街 — 什刹海
    (6, 0.30, 0.50),  # 西单北大街 — 西长安街
    (10, 0.50, 0.50),  # 菜市口大街 — 菜市口
    (11, 0.60, 0.60),  # 前门西大街 — 大栅栏
)


def _seed_streets(
    session: Session, ids: DeterministicIds, zones: list[tuple[uuid.UUID, box]]
) -> None:
    for index, ((name_zh, name_en), (zone_no, fx, fy)) in enumerate(
        zip(city.STREETS, _STREET_PLACES, strict=True), start=1
    ):
        zone_id, area = zones[zone_no]
        minx, miny, maxx, maxy = area.bounds
        session.add(
            Street(
                id=ids.next(),
                code=f"ST{index:03d}",
                name_zh=name_zh,
                name_en=name_en,
                zone_id=zone_id,
                lon=round(minx + (maxx - minx) * fx, 6),
                lat=round(miny + (maxy - miny) * fy, 6),
            )
        )
    session.flush()


def _tariff(
    session: Session,
    ids: DeterministicIds,
    code: str,
    name_zh: str,
    name_en: str,
    period: TierPeriod,
    tiers: tuple[tuple[int | None, int], ...],
) -> tuple[uuid.UUID, tuple[Tier, ...]]:
    tariff = Tariff(
        id=ids.next(),
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        service_kind=ServiceKind.WATER,
        tier_period=period,
        valid_from=date(2014, 5, 1),
    )
    tariff.tiers = [
        TariffTier(id=ids.next(), seq=i, upper_litres=upper, price_fen_per_m3=price)
        for i, (upper, price) in enumerate(tiers)
    ]
    session.add(tariff)
    return tariff.id, tuple(Tier(upper, price) for upper, price in tiers)


_P_COLS = (
    "id",
    "origin_site_id",
    "created_at",
    "address_zh",
    "address_en",
    "lon",
    "lat",
    "zone_id",
)
_C_COLS = ("id", "origin_site_id", "created_at", "name", "is_vip", "preferred_language")
_A_COLS = (
    "id",
    "origin_site_id",
    "created_at",
    "account_no",
    "service_kind",
    "customer_id",
    "premises_id",
    "tariff_id",
    "status",
    "opened_at",
)
_PH_COLS = ("id", "origin_site_id", "created_at", "account_id", "phone")
_M_COLS = ("id", "origin_site_id", "created_at", "serial_no", "account_id", "installed_at")
_R_COLS = ("id", "origin_site_id", "created_at", "meter_id", "read_at", "register_litres", "source")
_B_COLS = (
    "id",
    "origin_site_id",
    "created_at",
    "account_id",
    "period_start",
    "period_end",
    "consumption_litres",
    "amount_fen",
    "due_date",
    "status",
)
_L_COLS = (
    "id",
    "origin_site_id",
    "created_at",
    "bill_id",
    "seq",
    "description_zh",
    "description_en",
    "quantity_litres",
    "unit_price_fen_per_m3",
    "amount_fen",
)
_PAY_COLS = (
    "id",
    "origin_site_id",
    "created_at",
    "idempotency_key",
    "account_id",
    "bill_id",
    "kind",
    "method",
    "amount_fen",
    "card_masked",
    "reference",
    "paid_at",
)

_TIER_NAMES = (("第一阶梯", "Tier 1"), ("第二阶梯", "Tier 2"), ("第三阶梯", "Tier 3"))


def _seed_premises_chunk(
    writer: BulkWriter,
    rng: random.Random,
    ids: DeterministicIds,
    ref: _Reference,
    *,
    first_no: int,
    size: int,
    starts: list[date],
    opened: datetime,
) -> list[int]:
    premises_rows, customer_rows, account_rows, phone_rows, meter_rows = [], [], [], [], []
    reading_rows, bill_rows, line_rows, payment_rows = [], [], [], []
    billed = paid = 0
    central = ref.central_id
    read_times = [datetime.combine(d, datetime.min.time(), LOCAL).astimezone(UTC) for d in starts]
    width = city.EAST - city.WEST
    height = city.NORTH - city.SOUTH
    for offset in range(size):
        number = first_no + offset + 1
        lon = round(city.WEST + rng.random() * width, 6)
        lat = round(city.SOUTH + rng.random() * height, 6)
        zone_id = ref.zone_index.zone_of(lon, lat)
        street_zh, street_en = city.STREETS[rng.randrange(len(city.STREETS))]
        door, building, unit, room = (
            rng.randint(1, 260),
            rng.randint(1, 24),
            rng.randint(1, 6),
            rng.randint(101, 2402),
        )
        commercial = rng.random() < 0.05
        if commercial:
            address_zh = f"北京市西城区{street_zh}{door}号底商"
            address_en = f"Shop, No. {door} {street_en}, Xicheng District, Beijing"
        else:
            address_zh = f"北京市西城区{street_zh}{door}号{building}号楼{unit}单元{room}室"
            address_en = f"Room {room}, Unit {unit}, Building {building}, No. {door} {street_en}, Xicheng District, Beijing"
        premises_id, customer_id, account_id = ids.next(), ids.next(), ids.next()
        premises_rows.append(
            (premises_id, central, opened, address_zh, address_en, lon, lat, zone_id)
        )
        name = rng.choice(city.SURNAMES) + "".join(
            rng.choice(city.GIVEN_CHARS) for _ in range(rng.randint(1, 2))
        )
        customer_rows.append((customer_id, central, opened, name, rng.random() < 0.01, "zh-CN"))
        tariff_id, tiers = ref.commercial if commercial else ref.residential
        account_rows.append(
            (
                account_id,
                central,
                opened,
                f"XC{number:09d}",
                "water",
                customer_id,
                premises_id,
                tariff_id,
                "active",
                opened,
            )
        )
        phone = rng.choice(city.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        phone_rows.append((ids.next(), central, opened, account_id, phone))
        meter_id = ids.next()
        meter_rows.append((meter_id, central, opened, f"BJW{number:010d}", account_id, opened))

        base_m3 = (38.0 if commercial else 11.0) * math.exp(rng.gauss(0, 0.45))
        register = rng.randint(0, 900_000)
        reading_rows.append(
            (ids.next(), central, read_times[0], meter_id, read_times[0], register, "amr")
        )
        year_used = 0
        for month in range(MONTHS):
            period_start, next_start = starts[month], starts[month + 1]
            if period_start.month == 1:
                year_used = 0
            season = 1 + 0.25 * math.sin((period_start.month - 4) / 12 * 2 * math.pi)
            litres = int(base_m3 * season * rng.uniform(0.85, 1.15) * 1000)
            register += litres
            read_at = read_times[month + 1]
            reading_rows.append((ids.next(), central, read_at, meter_id, read_at, register, "amr"))
            priced = charge(tiers, prior_litres=year_used if not commercial else 0, litres=litres)
            year_used += litres
            bill_id = ids.next()
            amount = priced.total.fen
            due = next_start + timedelta(days=30)
            bill_rows.append(
                (
                    bill_id,
                    central,
                    read_at,
                    account_id,
                    period_start,
                    next_start - timedelta(days=1),
                    litres,
                    amount,
                    due,
                    "issued",
                )
            )
            for seq, line in enumerate(priced.lines):
                zh, en = _TIER_NAMES[line.tier_index] if len(tiers) > 1 else ("用水", "Water")
                line_rows.append(
                    (
                        ids.next(),
                        central,
                        read_at,
                        bill_id,
                        seq,
                        zh,
                        en,
                        line.litres,
                        line.price_fen_per_m3,
                        line.amount.fen,
                    )
                )
            billed += amount
            is_last = month == MONTHS - 1
            if amount and rng.random() < (0.55 if is_last else 0.93):
                paid_at = read_at + timedelta(
                    days=rng.randint(1, 25), seconds=rng.randrange(36_000)
                )
                draw = rng.random()
                method = "online" if draw < 0.45 else "counter" if draw < 0.75 else "bank_card"
                masked = (
                    f"{rng.choice(city.CARD_BINS)}******{rng.randrange(10_000):04d}"
                    if method == "bank_card"
                    else None
                )
                payment_id = ids.next()
                payment_rows.append(
                    (
                        payment_id,
                        central,
                        paid_at,
                        f"seed-{bill_id.hex}",
                        account_id,
                        bill_id,
                        "payment",
                        method,
                        amount,
                        masked,
                        f"PAY{payment_id.hex[:16].upper()}",
                        paid_at,
                    )
                )
                paid += amount

    writer.insert(Premises.__table__, _P_COLS, premises_rows)  # type: ignore[arg-type]
    writer.insert(Customer.__table__, _C_COLS, customer_rows)  # type: ignore[arg-type]
    writer.insert(Account.__table__, _A_COLS, account_rows)  # type: ignore[arg-type]
    writer.insert(AccountPhone.__table__, _PH_COLS, phone_rows)  # type: ignore[arg-type]
    writer.insert(Meter.__table__, _M_COLS, meter_rows)  # type: ignore[arg-type]
    writer.insert(MeterReading.__table__, _R_COLS, reading_rows)  # type: ignore[arg-type]
    writer.insert(Bill.__table__, _B_COLS, bill_rows)  # type: ignore[arg-type]
    writer.insert(BillLine.__table__, _L_COLS, line_rows)  # type: ignore[arg-type]
    writer.insert(Payment.__table__, _PAY_COLS, payment_rows)  # type: ignore[arg-type]
    return [size, len(reading_rows), len(bill_rows), len(payment_rows), billed, paid]
