"""Triggers that write ``sync_changes`` in the same transaction as the business row.

Triggers, not ORM hooks, because some writes are Core statements (bulk inserts, updates by
query) and a change that escaped the outbox would be a row central never gets — the design
SymmetricDS uses. A trigger records only *which* row changed; the row's state is read when
a batch is built, so many updates of one ticket travel as one row.

Each captured table has a side: ``U`` (a hall logs its own writes, for central), ``D``
(central logs, for the halls), or both. The migration that creates the triggers freezes the
list it was given; ``sync.tables`` holds the list the code expects, and a test compares the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Captured:
    table: str
    key: tuple[str, ...]
    sides: str  # "U", "D" or "UD"


def _sqlite_when(sides: str) -> str:
    hall = "(SELECT role FROM sync_role) = 'hall' AND NOT EXISTS (SELECT 1 FROM sync_applying)"
    central = "(SELECT role FROM sync_role) = 'central'"
    if sides == "U":
        return hall
    if sides == "D":
        return central
    return f"({central}) OR ({hall})"


SQLITE_NOW_MS = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"


def sqlite_triggers(captured: Captured) -> list[str]:
    statements = []
    for op, when, ref in (("I", "INSERT", "NEW"), ("U", "UPDATE", "NEW"), ("D", "DELETE", "OLD")):
        key = " || '|' || ".join(f"CAST({ref}.{column} AS TEXT)" for column in captured.key)
        statements.append(
            f"CREATE TRIGGER sync_capture_{captured.table}_{op.lower()} AFTER {when} "
            f"ON {captured.table} WHEN {_sqlite_when(captured.sides)} BEGIN "
            f"INSERT INTO sync_changes (txid, at_ms, table_name, row_key, op) "
            f"VALUES (0, {SQLITE_NOW_MS}, '{captured.table}', {key}, '{op}'); END"
        )
    return statements


# One function for every table: the key columns and the sides come as trigger arguments.
POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION sync_capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    site_role text;
    source jsonb;
    key_text text := '';
    i integer;
BEGIN
    SELECT role INTO site_role FROM sync_role LIMIT 1;
    IF site_role IS NULL THEN
        RETURN NULL;
    END IF;
    IF site_role = 'hall' THEN
        IF position('U' in TG_ARGV[0]) = 0 OR EXISTS (SELECT 1 FROM sync_applying) THEN
            RETURN NULL;
        END IF;
    ELSIF position('D' in TG_ARGV[0]) = 0 THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        source := to_jsonb(OLD);
    ELSE
        source := to_jsonb(NEW);
    END IF;
    FOR i IN 1 .. TG_NARGS - 1 LOOP
        IF i > 1 THEN
            key_text := key_text || '|';
        END IF;
        key_text := key_text || (source ->> TG_ARGV[i]);
    END LOOP;
    INSERT INTO sync_changes (txid, at_ms, table_name, row_key, op)
    VALUES (pg_current_xact_id()::text::bigint,
            (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
            TG_TABLE_NAME, key_text, left(TG_OP, 1));
    RETURN NULL;
END $$
"""


def postgres_trigger(captured: Captured) -> str:
    args = ", ".join(f"'{a}'" for a in (captured.sides, *captured.key))
    return (
        f"CREATE TRIGGER sync_capture_{captured.table} AFTER INSERT OR UPDATE OR DELETE "
        f"ON {captured.table} FOR EACH ROW EXECUTE FUNCTION sync_capture({args})"
    )


def create_statements(dialect: str, tables: Sequence[Captured]) -> list[str]:
    if dialect == "sqlite":
        return [s for c in tables for s in sqlite_triggers(c)]
    return [POSTGRES_FUNCTION, *(postgres_trigger(c) for c in tables)]


def drop_statements(dialect: str, tables: Sequence[Captured]) -> list[str]:
    if dialect == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS sync_capture_{c.table}_{op}" for c in tables for op in "iud"
        ]
    return [
        *(f"DROP TRIGGER IF EXISTS sync_capture_{c.table} ON {c.table}" for c in tables),
        "DROP FUNCTION IF EXISTS sync_capture()",
    ]
