"""A database's sync role. Capture triggers are silent until a role is set, so a city is
seeded at full speed and the seed itself is what provisioning copies."""

from __future__ import annotations

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from servicedb.models import SyncRole

HALL = "hall"
CENTRAL = "central"


def role_of(engine: Engine) -> str | None:
    with Session(engine) as session:
        return session.scalar(select(SyncRole.role))


def ensure_role(engine: Engine, role: str) -> None:
    """Set the role if none is set; a database that is already the other side is an error."""
    current = role_of(engine)
    if current == role:
        return
    if current is not None:
        raise ValueError(f"this database syncs as {current}, not {role}")
    with Session(engine) as session, session.begin():
        session.execute(delete(SyncRole))
        session.add(SyncRole(role=role))
