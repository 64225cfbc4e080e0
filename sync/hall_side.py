"""The hall's half of sync: the outbox (build a batch, forget what central acknowledged) and
applying central's pages, each in one transaction with its cursor."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from servicedb.engine import make_session_factory
from servicedb.models import SyncChange, SyncCursor
from servicedb.types import utcnow
from sync.apply import applying, remove, upsert
from sync.reading import read_changed
from sync.rows import BadRow, decode_row, parse_key
from sync.tables import BY_NAME, DOWN, SNAPSHOT, Apply
from sync.wire import DownPage, Refused, UpBatch, WireRow, runs

UP = "up"
DOWN_CURSOR = "down"
DEFAULT_BATCH_ROWS = 500


@dataclass(frozen=True)
class Pending:
    changes: int
    oldest_at: datetime | None


def pending(engine: Engine) -> Pending:
    with Session(engine) as session:
        count, oldest = session.execute(select(func.count(), func.min(SyncChange.at_ms))).one()
    at = datetime.fromtimestamp(oldest / 1000, UTC) if oldest is not None else None
    return Pending(int(count), at)


def build_batch(
    engine: Engine, site: str, site_id: uuid.UUID, schema: str, max_rows: int = DEFAULT_BATCH_ROWS
) -> UpBatch | None:
    """The oldest unacknowledged changes as one batch, rows read in the same snapshot."""
    with Session(engine) as session, session.begin():
        changes = session.execute(
            select(SyncChange.table_name, SyncChange.row_key, SyncChange.seq, SyncChange.txid)
            .order_by(SyncChange.seq)
            .limit(max_rows)
        ).all()
        if not changes:
            return None
        rows = read_changed(session, [tuple(c) for c in changes])  # type: ignore[misc]
        left, oldest = session.execute(
            select(func.count(), func.min(SyncChange.at_ms)).where(SyncChange.seq > changes[-1].seq)
        ).one()
    # Only the hall's own rows travel up (central refuses others anyway).
    own = str(site_id)
    rows = [r for r in rows if r.values is None or r.values.get("origin_site_id") == own]
    return UpBatch(
        site,
        schema,
        changes[0].seq,
        changes[-1].seq,
        rows,
        pending=int(left),
        oldest_pending_at=(
            datetime.fromtimestamp(oldest / 1000, UTC).isoformat() if oldest is not None else None
        ),
    )


def acknowledge(engine: Engine, through_seq: int) -> None:
    """Central has everything up to ``through_seq``: only now is it pruned."""
    with _writer(engine) as session, session.begin():
        session.execute(delete(SyncChange).where(SyncChange.seq <= through_seq))
        cursor = _cursor(session, UP)
        cursor.seq = max(cursor.seq, through_seq)
        cursor.last_success_at = utcnow()


def record_attempt(engine: Engine, name: str, error: str | None) -> None:
    with _writer(engine) as session, session.begin():
        cursor = _cursor(session, name)
        now = utcnow()
        cursor.last_attempt_at = now
        if error is None:
            cursor.last_success_at = now
        else:
            cursor.last_error = error[:500]
            cursor.last_error_at = now


def down_cursor(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        cursor = session.get(SyncCursor, DOWN_CURSOR)
        return (cursor.txid, cursor.seq) if cursor else (0, 0)


def set_down_cursor(session: Session, txid: int, seq: int) -> None:
    cursor = _cursor(session, DOWN_CURSOR)
    cursor.txid, cursor.seq = txid, seq
    cursor.last_success_at = utcnow()


def apply_down(engine: Engine, page: DownPage, expect_from: tuple[int, int]) -> int:
    """Apply one page and move the cursor, together; a page for another cursor is refused."""
    allowed = {s.name for s in DOWN}
    writer = make_session_factory(engine, serialised_writes=True)
    with writer() as session, session.begin():
        current = _cursor(session, DOWN_CURSOR)
        if (current.txid, current.seq) != expect_from:
            return 0  # another apply moved on meanwhile; the next fetch starts from there
        with applying(session):
            _defer_foreign_keys(session)
            apply_rows(session, page.rows, allowed)
        set_down_cursor(session, page.next_txid, page.next_seq)
    return len(page.rows)


def apply_snapshot_rows(
    engine: Engine, rows: Sequence[WireRow], cursor_name: str, key: str
) -> None:
    """A provisioning page and the provisioning cursor of its table, together."""
    allowed = {s.name for s in SNAPSHOT}
    writer = make_session_factory(engine, serialised_writes=True)
    with writer() as session, session.begin():
        with applying(session):
            _defer_foreign_keys(session)
            apply_rows(session, rows, allowed)
        cursor = _cursor(session, cursor_name)
        cursor.key = key
        cursor.last_success_at = utcnow()


def apply_rows(session: Session, rows: Sequence[WireRow], allowed: set[str]) -> None:
    """Consecutive rows of one table go in one statement; order is kept (foreign keys)."""
    for run in runs(rows):
        _apply_group(session, run, allowed)


def _apply_group(session: Session, group: list[WireRow], allowed: set[str]) -> None:
    name = group[0].table
    if name not in allowed:
        raise Refused("table", f"table {name!r} is not sent this way")
    synced = BY_NAME[name]
    table = synced.table
    try:
        if group[0].op == "D":
            remove(session, table, [parse_key(table, r.key) for r in group])
            return
        values = [decode_row(table, r.values) for r in group]
    except BadRow as err:
        raise Refused("row", str(err)) from err
    # Central's state replaces the hall's copy; append-only rows are only ever inserted.
    mode = synced.down if synced.down is not None else Apply.STATE
    upsert(session, table, mode, values)


def _defer_foreign_keys(session: Session) -> None:
    # Within a page, checked at commit: a page is consistent as a whole, not row by row.
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("PRAGMA defer_foreign_keys = ON")


def _writer(engine: Engine) -> Session:
    """Read-then-write on SQLite takes the write lock at BEGIN, or meets "database is
    locked" when the hall commits in between (WAL cannot upgrade a stale reader)."""
    return make_session_factory(engine, serialised_writes=True)()


def _cursor(session: Session, name: str) -> SyncCursor:
    cursor = session.get(SyncCursor, name)
    if cursor is None:
        cursor = SyncCursor(name=name, txid=0, seq=0)
        session.add(cursor)
        session.flush()
    return cursor
