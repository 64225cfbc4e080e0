"""Write received rows: upsert by key (both dialects), in one transaction, idempotently."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Table, and_, delete, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from servicedb.models import SyncApplying
from sync.tables import Apply


def upsert(session: Session, table: Table, mode: Apply, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    maker = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = maker(table)
    key = [c.name for c in table.primary_key.columns]
    if mode is Apply.STATE:
        columns = [c.name for c in table.columns if c.name not in key]
        if columns:
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=key, set_={c: statement.excluded[c] for c in columns}
                ),
                list(rows),
            )
            return
    # Append-only and first-write rows: an existing row (same id) is the same row.
    session.execute(statement.on_conflict_do_nothing(index_elements=key), list(rows))


def insert_plain(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(table), list(rows))


def remove(session: Session, table: Table, keys: Sequence[dict[str, Any]]) -> None:
    for key in keys:
        session.execute(delete(table).where(and_(*(table.c[k] == v for k, v in key.items()))))


@contextlib.contextmanager
def applying(session: Session) -> Iterator[None]:
    """Inside: a hall's capture triggers are quiet (these rows came from central).

    The marker row lives only in this transaction: other writers never see it.
    """
    session.execute(insert(SyncApplying).values(id=1))
    try:
        yield
    finally:
        session.execute(delete(SyncApplying))
