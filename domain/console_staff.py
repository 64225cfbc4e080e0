"""Who may use central's console and call-centre screens: staff accounts with roles, and sessions.

Chosen over per-console tokens: the history of every order names the person who acted
(``actor_name`` is the staff number), a dispatcher can sit at any desk, and leaving
staff are switched off in one place. Central staff are ``staff`` rows of the central site,
with the same scrypt PIN hash and lock-out as a hall's counter staff (``domain.staff``);
what each may do is their roles (``ConsoleRole``: agent, dispatcher, supervisor).

Signing in gives a random session token (256 bits, shown once); only its SHA-256 is
stored. A session lasts a shift (``SESSION_LIFETIME``, 12 h), ends at sign-out, and is
looked up on every request — taking a role away or deactivating a staff member takes effect
at once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from domain.staff import COST, add_staff, verify_staff
from servicedb.engine import make_session_factory
from servicedb.models import ConsoleRole, ConsoleSession, Site, Staff, StaffRole
from servicedb.types import utcnow

SESSION_LIFETIME = timedelta(hours=12)


class NoConsoleRole(Exception):
    message_zh = "此工号没有调度台权限"
    message_en = "This staff number may not use the console"


@dataclass(frozen=True)
class ConsoleUser:
    staff_id: uuid.UUID
    staff_no: str
    name: str
    roles: frozenset[ConsoleRole]

    def may(self, *roles: ConsoleRole) -> bool:
        return bool(self.roles & set(roles))


@dataclass(frozen=True)
class SignedIn:
    token: str  # give it to the browser; it is not kept here
    user: ConsoleUser
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_console_staff(
    session: Session,
    site_id: uuid.UUID,
    staff_no: str,
    name: str,
    pin: str,
    roles: Iterable[ConsoleRole],
    *,
    cost: int = COST,
) -> ConsoleUser:
    member = add_staff(session, site_id, staff_no, name, pin, cost=cost)
    wanted = frozenset(roles)
    for role in sorted(wanted):
        session.add(StaffRole(staff_id=member.id, role=role))
    session.flush()
    return ConsoleUser(member.id, member.staff_no, member.name, wanted)


def set_roles(
    session: Session, site_id: uuid.UUID, staff_no: str, roles: Iterable[ConsoleRole]
) -> None:
    staff_id = session.scalar(
        select(Staff.id).where(Staff.site_id == site_id, Staff.staff_no == staff_no)
    )
    if staff_id is None:
        raise LookupError(f"no staff number {staff_no}")
    session.execute(delete(StaffRole).where(StaffRole.staff_id == staff_id))
    for role in sorted(set(roles)):
        session.add(StaffRole(staff_id=staff_id, role=role))


class ConsoleSessions:
    def __init__(
        self,
        engine: Engine,
        site_code: str,
        *,
        clock: Callable[[], datetime] = utcnow,
        lifetime: timedelta = SESSION_LIFETIME,
    ) -> None:
        self._engine = engine
        self._writes = make_session_factory(engine, serialised_writes=True)
        self._clock = clock
        self.lifetime = lifetime
        with Session(engine) as session:
            site_id = session.scalar(select(Site.id).where(Site.code == site_code))
        if site_id is None:
            raise ValueError(f"no site {site_code!r}")
        self.site_id: uuid.UUID = site_id

    def sign_in(self, staff_no: str, pin: str) -> SignedIn:
        """A new session, or ``SignInRefused`` / ``StaffLocked`` (domain.staff) / ``NoConsoleRole``."""
        now = self._clock()
        with self._writes() as session:
            session.begin()  # verify_staff commits a wrong PIN's count itself, then raises
            member = verify_staff(session, self.site_id, staff_no, pin, now)
            roles = frozenset(
                session.scalars(select(StaffRole.role).where(StaffRole.staff_id == member.id))
            )
            if not roles:
                raise NoConsoleRole(f"{staff_no} has no console role")
            token = secrets.token_urlsafe(32)
            expires = now + self.lifetime
            session.add(
                ConsoleSession(
                    token_sha256=_digest(token),
                    staff_id=member.id,
                    issued_at=now,
                    expires_at=expires,
                )
            )
            session.commit()
        return SignedIn(token, ConsoleUser(member.id, member.staff_no, member.name, roles), expires)

    def identify(self, token: str) -> ConsoleUser | None:
        """The signed-in staff member, on every request: no cache outlives a change."""
        now = self._clock()
        with Session(self._engine) as session:
            row = session.execute(
                select(Staff)
                .join(ConsoleSession, ConsoleSession.staff_id == Staff.id)
                .where(
                    ConsoleSession.token_sha256 == _digest(token),
                    ConsoleSession.revoked_at.is_(None),
                    ConsoleSession.expires_at > now,
                    Staff.active.is_(True),
                    Staff.site_id == self.site_id,
                )
            ).scalar_one_or_none()
            if row is None:
                return None
            roles = frozenset(
                session.scalars(select(StaffRole.role).where(StaffRole.staff_id == row.id))
            )
        if not roles:
            return None
        return ConsoleUser(row.id, row.staff_no, row.name, roles)

    def sign_out(self, token: str) -> None:
        with self._writes() as session, session.begin():
            row = session.scalar(
                select(ConsoleSession).where(ConsoleSession.token_sha256 == _digest(token))
            )
            if row is not None and row.revoked_at is None:
                row.revoked_at = self._clock()
