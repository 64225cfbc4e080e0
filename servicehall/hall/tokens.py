"""Per-device API tokens for kiosks, counter terminals and screens. Only a SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from servicedb.models import Device, DeviceKind, Site
from servicehall.errors import UserFacingError


@dataclass(frozen=True)
class DeviceIdentity:
    name: str
    kind: DeviceKind


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(engine: Engine, site_code: str, kind: DeviceKind, name: str) -> str:
    """Register (or re-key) a device and return its new token: shown once, never stored."""
    token = secrets.token_urlsafe(24)
    with Session(engine) as session:
        site_id = session.scalar(select(Site.id).where(Site.code == site_code))
        if site_id is None:
            raise UserFacingError(f"no site {site_code!r}")
        device = session.scalar(
            select(Device).where(Device.site_id == site_id, Device.name == name)
        )
        if device is None:
            device = Device(site_id=site_id, kind=kind, name=name)
            session.add(device)
        device.kind = kind
        device.token_sha256 = _digest(token)
        session.commit()
    return token


class TokenCheck:
    """Looks tokens up by digest; remembers the answers (tokens change rarely)."""

    def __init__(self, engine: Engine, site_code: str) -> None:
        self._engine = engine
        self._site_code = site_code
        self._known: dict[str, DeviceIdentity] = {}

    def identify(self, token: str) -> DeviceIdentity | None:
        digest = _digest(token)
        if digest in self._known:
            return self._known[digest]
        with Session(self._engine) as session:
            row = session.execute(
                select(Device.name, Device.kind)
                .join(Site, Site.id == Device.site_id)
                .where(Site.code == self._site_code, Device.token_sha256 == digest)
            ).first()
        if row is None:
            return None
        identity = DeviceIdentity(row[0], row[1])
        self._known[digest] = identity
        return identity
