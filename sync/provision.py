"""Provisioning: build a new hall's database from central — its slice only — resumably.

Order: central's cursor is read first (every change after it will come down again, and
applying a row twice is harmless), then each table in foreign-key order, page by page, each
page committed with the table's progress; a cut resumes at the table and key it reached.
Last, the hall's outbox sequence is set past what central already has of this hall, so a
hall rebuilt after a lost disk never reuses a number central took as a duplicate.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session

from servicedb.engine import make_session_factory
from servicedb.models import SyncCursor, SyncRole
from sync import hall_side
from sync.answers import checked
from sync.apply import applying, remove
from sync.rows import key_text, parse_key
from sync.tables import BY_NAME, SNAPSHOT
from sync.wire import WireRow, check_versions, parse_rows, unpack

Progress = Callable[[str, int, int], None]  # (table, rows done in it, rows in it)
PAGE_ROWS = 1000
META = "provision"


@dataclass(frozen=True)
class Provisioned:
    tables: int
    rows: int
    resumed: bool


def client_for(central_url: str, site: str, token: str, timeout_s: float = 30.0) -> httpx.Client:
    return httpx.Client(
        base_url=central_url.rstrip("/"),
        timeout=timeout_s,
        headers={"Authorization": f"Bearer {token}", "X-Servicehall-Site": site},
    )


def _fetch_page(
    client: httpx.Client, name: str, after: str | None
) -> tuple[list[WireRow], str | None]:
    """One page of a table of the hall's slice, and the key the next starts after (None:
    the table is done)."""
    params: dict[str, Any] = {"limit": PAGE_ROWS}
    if after:
        params["after"] = after
    response = checked(client.get(f"/api/v1/sync/snapshot/{name}", params=params))
    document = unpack(response.content)
    last = document.get("last")
    return parse_rows(document), last if isinstance(last, str) else None


def provision(
    engine: Engine,
    client: httpx.Client,
    schema: str,
    progress: Progress | None = None,
    *,
    prefetch: bool = True,
) -> Provisioned:
    meta = checked(client.get("/api/v1/sync/snapshot")).json()
    check_versions({"format": 1, "schema": meta.get("schema")}, schema, we_are="hall")
    with Session(engine) as session, session.begin():
        started = session.get(SyncCursor, META)
        resumed = started is not None
        if started is None:
            # The cursor first: whatever changes while the tables are copied comes down again.
            session.add(
                SyncCursor(
                    name=META, txid=int(meta["cursor"]["txid"]), seq=int(meta["cursor"]["seq"])
                )
            )
    total = 0
    for synced in SNAPSHOT:
        name = synced.name
        expected = int(meta["tables"].get(name, 0))
        total += _copy_table(engine, client, name, expected, progress, prefetch)
    _finish(engine, uuid.UUID(meta["site_id"]), int(meta["up_seq"]))
    return Provisioned(len(SNAPSHOT), total, resumed)


def _copy_table(
    engine: Engine,
    client: httpx.Client,
    name: str,
    expected: int,
    progress: Progress | None,
    prefetch: bool,
) -> int:
    cursor_name = f"provision:{name}"
    with Session(engine) as session:
        cursor = session.get(SyncCursor, cursor_name)
        if cursor is not None and cursor.key == "":
            if progress:
                progress(name, expected, expected)
            return 0  # this table was finished before a cut
        after = cursor.key if cursor is not None else None
    done = 0

    # The next page is fetched while this one is written: central reads and encodes, the
    # hall decodes and writes, on two cores at once.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="provision-fetch") as pool:
        coming: Future[tuple[list[WireRow], str | None]] = pool.submit(
            _fetch_page, client, name, after
        )
        while True:
            rows, last = coming.result()
            if last is not None and prefetch:
                coming = pool.submit(_fetch_page, client, name, last)
            # "" marks a finished table; a key marks where to go on.
            hall_side.apply_snapshot_rows(engine, rows, cursor_name, last or "")
            done += len(rows)
            if progress:
                progress(name, done, expected)
            if last is None:
                return done
            if not prefetch:
                coming = pool.submit(_fetch_page, client, name, last)


def _finish(engine: Engine, site_id: uuid.UUID, central_up_seq: int) -> None:
    writer = make_session_factory(engine, serialised_writes=True)
    with writer() as session, session.begin():
        meta = session.get(SyncCursor, META)
        assert meta is not None  # noqa: S101 - written at the start
        hall_side.set_down_cursor(session, meta.txid, meta.seq)
        up = session.get(SyncCursor, hall_side.UP) or SyncCursor(name=hall_side.UP, txid=0, seq=0)
        up.seq = max(up.seq, central_up_seq)
        session.merge(up)
        if session.get_bind().dialect.name == "sqlite":
            # AUTOINCREMENT continues from here: the next change is central_up_seq + 1.
            session.execute(text("DELETE FROM sqlite_sequence WHERE name = 'sync_changes'"))
            session.execute(
                text("INSERT INTO sqlite_sequence (name, seq) VALUES ('sync_changes', :s)"),
                {"s": central_up_seq},
            )
        else:
            session.execute(
                text("SELECT setval(pg_get_serial_sequence('sync_changes', 'seq'), :s, true)"),
                {"s": max(central_up_seq, 1)},
            )
        session.execute(delete(SyncRole))
        session.add(SyncRole(role="hall"))
        session.execute(delete(SyncCursor).where(SyncCursor.name.like("provision%")))
    del site_id


def repair_table(engine: Engine, client: httpx.Client, name: str) -> int:
    """Replace the hall's copy of one central-owned table with central's (drift repair)."""
    table = BY_NAME[name].table
    seen: set[str] = set()
    after: str | None = None
    while True:
        rows, last = _fetch_page(client, name, after)
        seen.update(r.key for r in rows)
        hall_side.apply_snapshot_rows(engine, rows, f"repair:{name}", "")
        if last is None:
            break
        after = last
    writer = make_session_factory(engine, serialised_writes=True)
    with writer() as session, session.begin():
        keys = [
            key_text(table, dict(r._mapping))
            for r in session.execute(select(*table.primary_key.columns)).all()
        ]
        extra = [parse_key(table, k) for k in keys if k not in seen]
        with applying(session):
            remove(session, table, extra)
        session.execute(delete(SyncCursor).where(SyncCursor.name == f"repair:{name}"))
    return len(extra)
