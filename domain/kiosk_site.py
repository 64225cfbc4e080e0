"""What every kiosk service needs to know about its hall, and the small rules they share:
masking personal data, the canonical digest of a request, numbering receipts and orders."""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from domain.uow import UnitOfWork, UnitsOfWork
from servicedb.engine import make_session_factory
from servicedb.models import Site
from servicedb.types import utcnow

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class KioskSite:
    """The hall the kiosk services run at, its clock and its units of work."""

    site_id: uuid.UUID
    code: str
    timezone: ZoneInfo
    tag: str  # what receipt and order numbers start with: hall-xicheng → XICHENG
    units: UnitsOfWork
    readers: sessionmaker[Session]
    clock: Clock = utcnow

    @classmethod
    def load(cls, units: UnitsOfWork, site_code: str, clock: Clock = utcnow) -> KioskSite:
        readers = make_session_factory(units.engine)
        with readers() as session:
            site = session.scalars(select(Site).where(Site.code == site_code)).one()
            tag = hall_tag(site.code)
            return cls(site.id, site.code, ZoneInfo(site.timezone), tag, units, readers, clock)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.timezone).date()

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session that takes no write lock (SQLite) and commits nothing."""
        with self.readers() as session:
            yield session

    @contextlib.contextmanager
    def work(self) -> Iterator[UnitOfWork]:
        """A unit of work committed on a clean exit."""
        with self.units() as uow:
            yield uow
            uow.commit()


def hall_tag(site_code: str) -> str:
    tag = site_code.upper().removeprefix("HALL-").replace("-", "")
    return "".join(c for c in tag if c.isascii() and c.isalnum())[:12] or "HALL"


def next_number(session: Session, column: Any, prefix: str, width: int) -> str:
    """``prefix`` + the next sequence number among values that start with it.

    Runs inside the caller's write transaction (SQLite: the write lock is held from BEGIN;
    PostgreSQL: a racing insert meets the unique constraint and the caller retries).
    """
    last = session.scalar(select(func.max(column)).where(column.like(f"{prefix}%")))
    seq = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{seq:0{width}d}"


def request_digest(body: Mapping[str, Any]) -> str:
    """SHA-256 of a request's canonical JSON: equal bodies, equal digests, whatever the order."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def mask_name(name: str) -> str:
    """王* / 欧阳** : the first character (the surname, mostly) and a star for each other."""
    name = name.strip()
    if not name:
        return "*"
    return name[0] + "*" * max(1, len(name) - 1)


def mask_address(address: str) -> str:
    """Keep the district and the street, hide the house and flat: 北京市西城区阜成门内大街***."""
    for marker in ("街", "路", "巷", "胡同", "Street", "Road"):
        at = address.find(marker)
        if at > 0:
            return address[: at + len(marker)] + "***"
    return address[: max(1, len(address) // 2)] + "***"


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"
