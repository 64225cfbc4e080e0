"""Staff sign-in: a staff number (工号) and a PIN, hashed with scrypt, with a lock-out policy.

Policy (tested): five wrong PINs in a row lock the staff number for fifteen minutes; a right
PIN resets the count. The answer to a wrong PIN and to an unknown staff number is the same,
so the terminal cannot be used to find out which staff numbers exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.queueing.errors import QueueError
from servicedb.models import Staff

MAX_ATTEMPTS = 5
LOCK_FOR = timedelta(minutes=15)
MIN_PIN, MAX_PIN = 4, 32
# scrypt cost: N=2^14, r=8, p=1 (about 50 ms here), the interactive-login figures of RFC 7914.
COST = 2**14


class SignInRefused(QueueError):
    message_zh = "工号或密码错误"
    message_en = "Wrong staff number or PIN"

    def __init__(self, detail: str, remaining: int | None = None) -> None:
        super().__init__(detail)
        self.remaining = remaining
        if remaining is not None:
            self.message_zh = f"工号或密码错误，还可尝试 {remaining} 次"
            self.message_en = f"Wrong staff number or PIN; {remaining} attempt(s) left"


class StaffLocked(QueueError):
    message_zh = "错误次数过多，工号已锁定，请稍后再试或联系值班长"
    message_en = "Too many wrong attempts: this staff number is locked for a while"


class WeakPin(QueueError):
    message_zh = f"密码需为 {MIN_PIN}–{MAX_PIN} 位"
    message_en = f"A PIN has {MIN_PIN} to {MAX_PIN} characters"


def hash_pin(pin: str, *, cost: int = COST) -> str:
    if not MIN_PIN <= len(pin) <= MAX_PIN:
        raise WeakPin(f"PIN length {len(pin)}")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=cost, r=8, p=1, dklen=32)
    return f"scrypt${cost}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def pin_matches(pin: str, stored: str) -> bool:
    try:
        scheme, cost, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            pin.encode(), salt=base64.b64decode(salt), n=int(cost), r=8, p=1, dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


@dataclass(frozen=True)
class StaffMember:
    id: uuid.UUID
    staff_no: str
    name: str


def add_staff(
    session: Session, site_id: uuid.UUID, staff_no: str, name: str, pin: str, *, cost: int = COST
) -> StaffMember:
    row = Staff(site_id=site_id, staff_no=staff_no, name=name, pin_hash=hash_pin(pin, cost=cost))
    session.add(row)
    session.flush()
    return StaffMember(row.id, row.staff_no, row.name)


def verify_staff(
    session: Session, site_id: uuid.UUID, staff_no: str, pin: str, now: datetime
) -> StaffMember:
    """The staff member, or a refusal that counts towards the lock-out. Call in a write transaction."""
    row = session.scalar(select(Staff).where(Staff.site_id == site_id, Staff.staff_no == staff_no))
    if row is None or not row.active:
        # Same cost as a real check, so timing does not tell which staff numbers exist.
        pin_matches(pin, hash_pin("0000", cost=1024))
        raise SignInRefused(f"no active staff {staff_no!r}")
    if row.locked_until is not None and row.locked_until > now:
        raise StaffLocked(f"{staff_no} locked until {row.locked_until.isoformat()}")
    if not pin_matches(pin, row.pin_hash):
        row.failed_attempts += 1
        if row.failed_attempts >= MAX_ATTEMPTS:
            row.failed_attempts = 0
            row.locked_until = now + LOCK_FOR
            session.commit()  # the lock must stand even though the command is refused
            raise StaffLocked(f"{staff_no} locked after {MAX_ATTEMPTS} wrong PINs")
        remaining = MAX_ATTEMPTS - row.failed_attempts
        session.commit()
        raise SignInRefused(f"wrong PIN for {staff_no}", remaining)
    row.failed_attempts = 0
    row.locked_until = None
    return StaffMember(row.id, row.staff_no, row.name)
