"""Hall staff (工号) and how they prove who they are at a counter."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from servicedb.base import Base
from servicedb.ids import new_id
from servicedb.types import UTCDateTime


class Staff(Base):
    """A member of staff who signs in at counters with a staff number and a PIN.

    Only a salted, slow hash of the PIN is stored (scrypt). Wrong attempts are counted and
    lock the staff number for a while (see ``domain.staff``).
    """

    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("site_id", "staff_no"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"))
    staff_no: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    pin_hash: Mapped[str] = mapped_column(String(200))
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)
