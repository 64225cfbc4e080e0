"""Drift: per table, a count and a hash of a hall's slice on both sides; a table that
differs is fetched again whole and the hall's copy replaced.

Only tables central alone writes are compared (rows a hall also writes are in flight by
design), and only when the hall has nothing pending either way, so a difference is drift,
not lag.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from sync.central_side import Hall, slice_of
from sync.rows import encode_row, key_text
from sync.tables import DOWN, Slice, Synced

COMPARED: tuple[Synced, ...] = tuple(s for s in DOWN if s.up is None)


def table_digest(session: Session, synced: Synced, slice_: Slice) -> dict[str, Any]:
    table = synced.table
    h = hashlib.sha256()
    count = 0
    query = select(table).where(slice_.where(synced.name)).order_by(*table.primary_key.columns)
    for row in session.execute(query.execution_options(yield_per=2000)):
        values = encode_row(table, row)
        # Key order, not storage order: both dialects agree on the text of a row.
        h.update(key_text(table, dict(row._mapping)).encode())
        h.update(repr(sorted(values.items())).encode())
        count += 1
    return {"count": count, "sha256": h.hexdigest()}


def digests(engine: Engine, slice_: Slice) -> dict[str, Any]:
    with Session(engine) as session, session.begin():
        return {s.name: table_digest(session, s, slice_) for s in COMPARED}


def central_digests(engine: Engine, hall: Hall) -> dict[str, Any]:
    return {"tables": digests(engine, slice_of(engine, hall))}


def differing(central: dict[str, Any], hall: dict[str, Any]) -> list[str]:
    return [name for name, value in central.items() if hall.get(name) != value]


def check_and_repair(engine: Engine, client: Any, site_id: Any) -> list[str]:
    """Compare with central; re-fetch every table that differs. Returns their names.

    The caller runs this only when nothing is pending either way.
    """
    from sync import provision

    response = client.get("/api/v1/sync/digest")
    if response.status_code != 200:
        return []
    theirs = response.json().get("tables", {})
    ours = digests(engine, Slice(site_id))
    repaired = differing(theirs, ours)
    for name in repaired:
        provision.repair_table(engine, client, name)
    return repaired
