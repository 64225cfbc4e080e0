"""Outages at central (停水 / 降压 / 抢修): declare one, know whom it touches, restore it.

An outage's area is either **drawn** by a dispatcher (a GeoJSON Polygon or MultiPolygon,
WGS-84 ``[lon, lat]``; a self-crossing ring is repaired into its lobes, see
``gis.outage_area.polygonal``) or **derived from a burst main**: the district metered areas
(the ``zones`` table) holding the burst, or a circle around it clipped to them, or the DMAs
grown by a margin (``gis.outage_area.DistrictMeteredAreas.burst_area`` has the rules).

Declaring one, in one unit of work:

- the **affected premises** are found in the premises register with
  ``gis.premises_index.PremisesIndex`` (a million premises in milliseconds; the register's
  positions are loaded from the database once and reloaded when it changes, see
  :class:`PremisesRegister`); a premises on the area's boundary is not affected;
- the **halls** whose notice radius (``hall.notice_radius_m``) the area reaches are named,
  by the same rule a hall's own board applies (``gis.outage_area.halls_touched``);
- an **SMS notice** is queued for every customer with an active account there
  (``domain.notifications``: one per customer and outage, opt-out honoured);
- :class:`OutageDeclared` is recorded for the bus.

Restoring sends a "water is back" notice to the customers who were told it was off, and
cancels "off" notices not yet sent.

**Halls.** A hall's board and screens show the outages in the hall's own database
(``domain.notices.active_outages``). Central's ``outages`` rows reach a hall by sync
(central owns them; they go down to every hall). Until sync lands, that is the seam:
:class:`OutageDeclared` names the halls (``halls``), and an in-transaction listener on it
— the sync outbox, when it exists — is where the row starts its way down.

**Coordinates.** Stored and computed in WGS-84; GCJ-02 only where a Chinese map app is
opened (``gis.coords``), never here.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from domain.events import Event
from domain.notifications import queue_follow_up, queue_for_premises
from domain.uow import UnitsOfWork
from gis.geojson import from_geojson, to_geojson
from gis.outage_area import DistrictMeteredAreas, halls_touched, polygonal
from gis.premises_index import PremisesIndex, check_area
from servicedb.models import (
    NotificationKind,
    Outage,
    OutageKind,
    OutageStatus,
    Premises,
    Site,
    SiteKind,
    Zone,
)
from servicedb.types import utcnow

_ID = np.dtype("V16")  # a UUID's 16 bytes: a million ids in 16 MB, not a million objects


# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutageDeclared(Event):
    outage_id: uuid.UUID
    kind: str
    title_zh: str
    title_en: str
    halls: tuple[str, ...]  # hall site codes whose notice radius the area reaches
    affected_premises: int
    notices_queued: int


@dataclass(frozen=True)
class OutageRestored(Event):
    outage_id: uuid.UUID
    halls: tuple[str, ...]
    notices_queued: int


# --- the premises register, in memory --------------------------------------------------------


class PremisesRegister:
    """The premises' ids and positions, indexed for "which lie in this area".

    Loaded from the database on first use. :meth:`refresh` reloads at once (the register's
    editor, or sync, calls it after a change); :meth:`ensure_fresh` reloads when the
    register's fingerprint — the row count and the newest id (ids are time-ordered UUIDv7)
    — has changed, checking at most every ``check_every``. A premises *moved* keeps both,
    so whoever moves one calls :meth:`refresh`.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        check_every: timedelta = timedelta(minutes=1),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._check_every = check_every.total_seconds()
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._index: PremisesIndex | None = None
        self._ids: NDArray[np.void] = np.empty(0, dtype=_ID)
        self._fingerprint: tuple[int, str | None] | None = None
        self._checked_at = 0.0
        self.loads = 0

    def __len__(self) -> int:
        return len(self._ids)

    def refresh(self) -> None:
        with self._lock:
            self._load()

    def ensure_fresh(self) -> None:
        with self._lock:
            if self._index is None:
                self._load()
            elif self._monotonic() - self._checked_at >= self._check_every:
                self._checked_at = self._monotonic()
                if self._read_fingerprint() != self._fingerprint:
                    self._load()

    def index(self) -> PremisesIndex:
        with self._lock:
            if self._index is None:
                self._load()
            assert self._index is not None  # noqa: S101 - _load sets it
            return self._index

    def affected_count(self, area: BaseGeometry) -> int:
        return self.index().affected_count(area)

    def affected_ids(self, area: BaseGeometry) -> list[uuid.UUID]:
        """Every affected premises' id (about a microsecond each to make: for a count, ask
        :meth:`affected_count`; for a page, :meth:`affected_page`)."""
        return _uuids(self.index().affected_ids(area))

    def affected_page(
        self, area: BaseGeometry, *, limit: int, offset: int = 0
    ) -> tuple[int, list[uuid.UUID]]:
        """How many premises are affected, and ids ``offset`` … ``offset + limit`` of them in
        the register's order (stable while the register is not reloaded)."""
        found = self.index().affected_ids(area)
        return len(found), _uuids(found[offset : offset + limit])

    def _read_fingerprint(self) -> tuple[int, str | None]:
        with self._engine.connect() as connection:
            count = connection.scalar(select(func.count()).select_from(Premises)) or 0
            newest = connection.scalar(select(Premises.id).order_by(Premises.id.desc()).limit(1))
        return int(count), None if newest is None else str(newest)

    def _load(self) -> None:
        fingerprint = self._read_fingerprint()
        with self._engine.connect() as connection:
            # Plain SQL and hex text: a million UUID objects would cost seconds and memory.
            hex_id = (
                "replace(id::text, '-', '')" if connection.dialect.name == "postgresql" else "id"
            )
            rows = connection.execute(
                text(f"SELECT {hex_id}, lon, lat FROM premises")  # noqa: S608 - no input in it
            ).all()
        count = len(rows)
        ids = np.frombuffer(bytes.fromhex("".join(row[0] for row in rows)), dtype=_ID)
        lon = np.fromiter((row[1] for row in rows), dtype=np.float64, count=count)
        lat = np.fromiter((row[2] for row in rows), dtype=np.float64, count=count)
        self._index = PremisesIndex(ids, lon, lat)
        self._ids = ids
        self._fingerprint = fingerprint
        self._checked_at = self._monotonic()
        self.loads += 1


def _uuids(found: NDArray[np.generic]) -> list[uuid.UUID]:
    raw = found.tobytes()
    return [uuid.UUID(bytes=raw[i : i + 16]) for i in range(0, len(raw), 16)]


# --- declaring and restoring ----------------------------------------------------------------


@dataclass(frozen=True)
class DeclaredOutage:
    outage_id: uuid.UUID
    area: Polygon | MultiPolygon
    affected_premises: int
    halls: tuple[str, ...]
    notices_queued: int  # texts that will go out
    notices_opted_out: int  # customers no text reaches: they opted out
    districts: tuple[str, ...] = ()  # zone codes holding a burst


@dataclass(frozen=True)
class AffectedPremises:
    id: uuid.UUID
    address_zh: str
    address_en: str
    lon: float
    lat: float


_BURST_TITLE = ("爆管抢修，临时停水", "Burst main: water off for repairs")
_KIND_ZH = {
    OutageKind.WATER_OFF: "停水",
    OutageKind.LOW_PRESSURE: "降压供水",
    OutageKind.EMERGENCY_REPAIR: "抢修停水",
    OutageKind.LINE_FAULT: "线路故障",
}
_KIND_EN = {
    OutageKind.WATER_OFF: "Water off",
    OutageKind.LOW_PRESSURE: "Low pressure",
    OutageKind.EMERGENCY_REPAIR: "Emergency repair",
    OutageKind.LINE_FAULT: "Line fault",
}


def notice_text(
    kind: NotificationKind, outage: Outage, zone: ZoneInfo, *, opt_out: bool = True
) -> str:
    """The SMS: Chinese first, then English; local times. The gateway adds the 【signature】
    (Chinese gateways require it, and attach the registered one themselves)."""
    if kind is NotificationKind.OUTAGE_RESTORED:
        zh = f"恢复供水：{outage.title_zh}，现已恢复，感谢您的耐心。"
        en = f"Service restored: {outage.title_en}. Thank you for your patience."
    else:
        start = outage.starts_at.astimezone(zone)
        zh = f"{_KIND_ZH[outage.kind]}通知：{outage.title_zh}，{start:%m月%d日%H:%M}起"
        en = f"{_KIND_EN[outage.kind]}: {outage.title_en}, from {start:%d %b %H:%M}"
        if outage.estimated_restore_at is not None:
            back = outage.estimated_restore_at.astimezone(zone)
            zh += f"，预计{back:%m月%d日%H:%M}恢复"
            en += f", expected back by {back:%d %b %H:%M}"
        zh += "。"
        en += "."
    tail = " 回复TD退订 / Reply TD to opt out" if opt_out else ""
    return f"{zh} {en}{tail}"


class Outages:
    """Declaring and restoring outages at central (one per central process)."""

    def __init__(
        self,
        units: UnitsOfWork,
        register: PremisesRegister,
        *,
        site: str = "central",
        notice_radius_m: float = 3000.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._units = units
        self._register = register
        self._site = site
        self._radius = notice_radius_m
        self._clock = clock
        self._dmas: DistrictMeteredAreas[uuid.UUID] | None = None
        self._zone_codes: dict[uuid.UUID, str] = {}

    # --- declaring ------------------------------------------------------------------------

    def declare_area(
        self,
        area: BaseGeometry | str,
        *,
        kind: OutageKind,
        title: tuple[str, str],
        detail: tuple[str, str] = ("", ""),
        starts_at: datetime | None = None,
        restore_at: datetime | None = None,
        zone_id: uuid.UUID | None = None,
        notify: bool = True,
    ) -> DeclaredOutage:
        """An outage over a drawn area (a shapely geometry, or GeoJSON text)."""
        shape = polygonal(from_geojson(area) if isinstance(area, str) else area)
        check_area(shape)
        return self._declare(shape, kind, title, detail, starts_at, restore_at, zone_id, notify)

    def declare_burst(
        self,
        lon: float,
        lat: float,
        *,
        radius_m: float | None = None,
        margin_m: float = 0.0,
        kind: OutageKind = OutageKind.EMERGENCY_REPAIR,
        title: tuple[str, str] = _BURST_TITLE,
        detail: tuple[str, str] = ("", ""),
        restore_at: datetime | None = None,
        notify: bool = True,
    ) -> DeclaredOutage:
        """An outage around a burst main at WGS-84 ``(lon, lat)``, from the DMAs.

        Raises ``gis.outage_area.BurstOutsideNetwork`` when no DMA holds the point.
        """
        derived = self._districts().burst_area((lon, lat), radius_m=radius_m, margin_m=margin_m)
        declared = self._declare(
            derived.area,
            kind,
            title,
            detail,
            None,
            restore_at,
            derived.districts[0],
            notify,
        )
        codes = tuple(self._zone_codes[key] for key in derived.districts)
        return DeclaredOutage(**{**declared.__dict__, "districts": codes})

    def _declare(
        self,
        area: Polygon | MultiPolygon,
        kind: OutageKind,
        title: tuple[str, str],
        detail: tuple[str, str],
        starts_at: datetime | None,
        restore_at: datetime | None,
        zone_id: uuid.UUID | None,
        notify: bool,
    ) -> DeclaredOutage:
        now = self._clock()
        starts_at = starts_at or now
        self._register.ensure_fresh()
        if notify:
            premises = self._register.affected_ids(area)
            affected = len(premises)
        else:
            premises, affected = [], self._register.affected_count(area)
        with self._units() as uow:
            session = uow.session
            site = self._central(session)
            halls = self._halls(session, area)
            outage = Outage(
                origin_site_id=site.id,
                kind=kind,
                status=OutageStatus.ACTIVE if starts_at <= now else OutageStatus.PLANNED,
                title_zh=title[0],
                title_en=title[1],
                detail_zh=detail[0],
                detail_en=detail[1],
                area_geojson=to_geojson(area),
                zone_id=zone_id,
                starts_at=starts_at,
                estimated_restore_at=restore_at,
                created_at=now,
            )
            session.add(outage)
            session.flush()
            queued = opted_out = 0
            if notify:
                result = queue_for_premises(
                    session,
                    outage_id=outage.id,
                    premises_ids=premises,
                    kind=NotificationKind.OUTAGE_DECLARED,
                    text=notice_text(NotificationKind.OUTAGE_DECLARED, outage, _zone(site)),
                    now=now,
                )
                queued, opted_out = result.pending, result.opted_out
            uow.record(
                OutageDeclared(
                    at=now,
                    outage_id=outage.id,
                    kind=kind.value,
                    title_zh=title[0],
                    title_en=title[1],
                    halls=halls,
                    affected_premises=affected,
                    notices_queued=queued,
                )
            )
            uow.commit()
        return DeclaredOutage(outage.id, area, affected, halls, queued, opted_out)

    # --- restoring ------------------------------------------------------------------------

    def restore(self, outage_id: uuid.UUID, *, notify: bool = True) -> OutageRestored:
        now = self._clock()
        with self._units() as uow:
            session = uow.session
            outage = session.get(Outage, outage_id)
            if outage is None:
                raise LookupError(f"no outage {outage_id}")
            if outage.status in (OutageStatus.RESTORED, OutageStatus.CANCELLED):
                raise ValueError(f"outage {outage_id} is already {outage.status.value}")
            outage.status = OutageStatus.RESTORED
            outage.restored_at = now
            queued = 0
            if notify:
                queued = queue_follow_up(
                    session,
                    outage_id=outage.id,
                    after=NotificationKind.OUTAGE_DECLARED,
                    kind=NotificationKind.OUTAGE_RESTORED,
                    text=notice_text(
                        NotificationKind.OUTAGE_RESTORED, outage, _zone(self._central(session))
                    ),
                    now=now,
                ).pending
            event = OutageRestored(
                at=now,
                outage_id=outage.id,
                halls=self._halls(session, from_geojson(outage.area_geojson)),
                notices_queued=queued,
            )
            uow.record(event)
            uow.commit()
        return event

    # --- reading --------------------------------------------------------------------------

    def affected(
        self, outage_id: uuid.UUID, *, limit: int = 100, offset: int = 0
    ) -> tuple[int, list[AffectedPremises]]:
        """How many premises an outage touches, and a page of them (register order)."""
        with Session(self._units.engine) as session:
            outage = session.get(Outage, outage_id)
            if outage is None:
                raise LookupError(f"no outage {outage_id}")
            area = from_geojson(outage.area_geojson)
        self._register.ensure_fresh()
        count, page = self._register.affected_page(area, limit=limit, offset=offset)
        with Session(self._units.engine) as session:
            rows = session.execute(
                select(
                    Premises.id,
                    Premises.address_zh,
                    Premises.address_en,
                    Premises.lon,
                    Premises.lat,
                ).where(Premises.id.in_(page))
            ).all()
        found = {row.id: AffectedPremises(*row) for row in rows}
        return count, [found[i] for i in page if i in found]

    # --- reference data -------------------------------------------------------------------

    def refresh_zones(self) -> None:
        self._dmas = None

    def _districts(self) -> DistrictMeteredAreas[uuid.UUID]:
        if self._dmas is None:
            with Session(self._units.engine) as session:
                zones = session.execute(select(Zone.id, Zone.code, Zone.area_geojson)).all()
            self._zone_codes = {zone_id: code for zone_id, code, _ in zones}
            self._dmas = DistrictMeteredAreas(
                (zone_id, from_geojson(geojson)) for zone_id, _, geojson in zones
            )
        return self._dmas

    def _central(self, session: Session) -> Site:
        site = session.scalar(select(Site).where(Site.code == self._site))
        if site is None:
            raise LookupError(f"no site {self._site!r} in this database")
        return site

    def _halls(self, session: Session, area: BaseGeometry) -> tuple[str, ...]:
        halls = session.execute(
            select(Site.code, Site.lon, Site.lat)
            .where(Site.kind == SiteKind.HALL)
            .order_by(Site.code)
        ).all()
        placed = [
            (code, lon, lat) for code, lon, lat in halls if lon is not None and lat is not None
        ]
        return tuple(halls_touched(area, placed, self._radius))


def _zone(site: Site) -> ZoneInfo:
    return ZoneInfo(site.timezone or "Asia/Shanghai")
