"""Read rows named by change-log keys, as wire rows, in foreign-key order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, or_, select
from sqlalchemy.orm import Session

from sync.rows import encode_row, key_text, parse_key
from sync.tables import BY_NAME, SYNCED
from sync.wire import WireRow

ORDER = {s.name: i for i, s in enumerate(SYNCED)}
READ_CHUNK = 400  # keys per IN (...): well under SQLite's variable limit


def key_match(table: Table, keys: Sequence[dict[str, Any]]) -> ColumnElement[bool]:
    columns = list(table.primary_key.columns)
    if len(columns) == 1:
        column = columns[0]
        return column.in_([k[column.name] for k in keys])
    return or_(*(and_(*(table.c[c.name] == k[c.name] for c in columns)) for k in keys))


def read_changed(
    session: Session,
    changes: Iterable[tuple[str, str, int, int]],
    where: dict[str, ColumnElement[bool]] | None = None,
) -> list[WireRow]:
    """``changes``: (table, key, seq, txid) in log order; the newest change of each row wins.

    A row that no longer exists becomes a deletion; a row outside ``where`` (a hall's slice)
    is left out. The result is ordered by table (foreign keys), then by seq.
    """
    newest: dict[tuple[str, str], tuple[int, int]] = {}
    parsed: dict[tuple[str, str], dict[str, Any]] = {}
    for name, raw_key, seq, txid in changes:
        table = BY_NAME[name].table
        key = parse_key(table, raw_key)
        norm = key_text(table, key)  # the two dialects spell a UUID differently
        newest[(name, norm)] = (seq, txid)
        parsed[(name, norm)] = key
    by_table: dict[str, list[str]] = {}
    for name, norm in newest:
        by_table.setdefault(name, []).append(norm)
    out: list[WireRow] = []
    for name, keys in by_table.items():
        table = BY_NAME[name].table
        found: dict[str, dict[str, Any]] = {}
        outside: set[str] = set()
        for start in range(0, len(keys), READ_CHUNK):
            chunk = keys[start : start + READ_CHUNK]
            condition = key_match(table, [parsed[(name, k)] for k in chunk])
            for row in session.execute(select(table).where(condition)).all():
                found[key_text(table, dict(row._mapping))] = encode_row(table, row)
            if where is not None and name in where:
                inside = {
                    key_text(table, dict(r._mapping))
                    for r in session.execute(
                        select(*table.primary_key.columns).where(condition, where[name])
                    ).all()
                }
                # Rows that exist but fall outside the slice are neither sent nor deleted.
                outside.update(k for k in chunk if k in found and k not in inside)
        for k in keys:
            if k in outside:
                continue
            seq, txid = newest[(name, k)]
            values = found.get(k)
            out.append(WireRow(seq, name, "U" if values is not None else "D", k, values, txid))
    out.sort(key=lambda r: (ORDER[r.table], r.seq))
    return out
