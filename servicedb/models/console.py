"""Central's staff on the dispatcher console and the call centre: roles and sign-in sessions.

Central staff are ``staff`` rows of the central site (staff number and a scrypt-hashed PIN,
the same lock-out as at a hall's counters); what they may do is their roles. A sign-in
gives a session token of which only the SHA-256 is stored.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from servicedb.base import Base, str_enum
from servicedb.ids import new_id
from servicedb.types import UTCDateTime


class ConsoleRole(enum.StrEnum):
    AGENT = "agent"  # 坐席: answers calls, looks callers up, logs orders, follow-up calls
    DISPATCHER = "dispatcher"  # 调度员: assigns, closes, cancels, reopens
    SUPERVISOR = "supervisor"  # 值班长: hears escalations, everything a dispatcher does


class StaffRole(Base):
    __tablename__ = "staff_roles"

    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    role: Mapped[ConsoleRole] = mapped_column(
        str_enum(ConsoleRole, "console_role"), primary_key=True
    )


class ConsoleSession(Base):
    __tablename__ = "console_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
