"""Per-device API tokens for kiosks, counter terminals and screens. Only a SHA-256 is stored.

A token is looked up on every request — no cache — so revoking or re-keying a device takes
effect at once. A counter terminal's token works only at the counters it was registered for.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from servicedb.models import Counter, Device, DeviceCounter, DeviceKind, Site
from servicedb.types import utcnow
from servicehall.errors import UserFacingError


@dataclass(frozen=True)
class DeviceIdentity:
    name: str
    kind: DeviceKind
    counters: frozenset[int]  # the counters a counter terminal may act at


@dataclass(frozen=True)
class RegisteredDevice:
    name: str
    kind: DeviceKind
    counters: tuple[int, ...]
    has_token: bool
    revoked_at: datetime | None
    health: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _site_id(session: Session, site_code: str) -> object:
    site_id = session.scalar(select(Site.id).where(Site.code == site_code))
    if site_id is None:
        raise UserFacingError(f"no site {site_code!r}")
    return site_id


def issue_token(
    engine: Engine,
    site_code: str,
    kind: DeviceKind,
    name: str,
    *,
    counters: Sequence[int] = (),
    rekey: bool = False,
) -> str:
    """Register a device (or re-key it, when asked) and return its new token: shown once, never stored."""
    if kind is DeviceKind.COUNTER_TERMINAL and not counters:
        raise UserFacingError("a counter terminal needs the counter(s) it serves: --counter N")
    if kind is not DeviceKind.COUNTER_TERMINAL and counters:
        raise UserFacingError("only counter terminals are bound to counters")
    token = secrets.token_urlsafe(24)
    with Session(engine) as session, session.begin():
        site_id = _site_id(session, site_code)
        counter_rows = {
            c.number: c for c in session.scalars(select(Counter).where(Counter.site_id == site_id))
        }
        missing = sorted(set(counters) - set(counter_rows))
        if missing:
            raise UserFacingError(
                f"no counter {', '.join(map(str, missing))} at {site_code}; "
                f"counters are {', '.join(map(str, sorted(counter_rows)))}"
            )
        device = session.scalar(
            select(Device).where(Device.site_id == site_id, Device.name == name)
        )
        if device is None:
            device = Device(site_id=site_id, kind=kind, name=name)
            session.add(device)
            session.flush()
        elif device.token_sha256 is not None and device.revoked_at is None and not rekey:
            raise UserFacingError(
                f"device {name!r} at {site_code} already has a token; "
                "pass --rekey to replace it (the old token stops working at once)"
            )
        device.kind = kind
        device.token_sha256 = _digest(token)
        device.revoked_at = None
        for link in session.scalars(
            select(DeviceCounter).where(DeviceCounter.device_id == device.id)
        ):
            session.delete(link)
        session.flush()
        for number in sorted(set(counters)):
            session.add(DeviceCounter(device_id=device.id, counter_id=counter_rows[number].id))
    return token


def revoke(engine: Engine, site_code: str, name: str) -> None:
    """The device's token stops working at once; the device stays listed as revoked."""
    with Session(engine) as session, session.begin():
        site_id = _site_id(session, site_code)
        device = session.scalar(
            select(Device).where(Device.site_id == site_id, Device.name == name)
        )
        if device is None:
            raise UserFacingError(f"no device {name!r} at {site_code}")
        device.token_sha256 = None
        device.revoked_at = utcnow()


def registered(engine: Engine, site_code: str) -> list[RegisteredDevice]:
    with Session(engine) as session:
        site_id = _site_id(session, site_code)
        devices = session.scalars(
            select(Device).where(Device.site_id == site_id).order_by(Device.kind, Device.name)
        ).all()
        bound: dict[object, list[int]] = {}
        for device_id, number in session.execute(
            select(DeviceCounter.device_id, Counter.number).join(
                Counter, Counter.id == DeviceCounter.counter_id
            )
        ):
            bound.setdefault(device_id, []).append(number)
        return [
            RegisteredDevice(
                d.name,
                d.kind,
                tuple(sorted(bound.get(d.id, []))),
                d.token_sha256 is not None,
                d.revoked_at,
                d.health,
            )
            for d in devices
        ]


class TokenCheck:
    """Looks a token up by its digest, on every call: nothing outlives a revocation."""

    def __init__(self, engine: Engine, site_code: str) -> None:
        self._engine = engine
        self._site_code = site_code

    def identify(self, token: str) -> DeviceIdentity | None:
        digest = _digest(token)
        with Session(self._engine) as session:
            row = session.execute(
                select(Device.id, Device.name, Device.kind)
                .join(Site, Site.id == Device.site_id)
                .where(
                    Site.code == self._site_code,
                    Device.token_sha256 == digest,
                    Device.revoked_at.is_(None),
                )
            ).first()
            if row is None:
                return None
            counters = session.scalars(
                select(Counter.number)
                .join(DeviceCounter, DeviceCounter.counter_id == Counter.id)
                .where(DeviceCounter.device_id == row[0])
            ).all()
        return DeviceIdentity(row[1], row[2], frozenset(counters))
