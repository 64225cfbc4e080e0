"""Write many rows fast: executemany with SQLAlchemy's own bind processors on SQLite, COPY on PostgreSQL.

The ORM costs tens of microseconds a row; a million premises with their readings, bills and
payments are some fifty million rows. The column types still do the converting (UUID, UTC
timestamps, enums), so a row written here reads back exactly as an ORM-written one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table

Row = tuple[Any, ...]
Convert = Callable[[Any], Any]
Plan = tuple[str, list[Convert | None]]


class BulkWriter:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._dialect = connection.dialect
        self._plans: dict[
            tuple[str, tuple[str, ...]], tuple[str, list[Callable[[Any], Any] | None]]
        ] = {}

    def insert(self, table: Table, columns: Sequence[str], rows: Sequence[Row]) -> None:
        if not rows:
            return
        if self._dialect.name == "postgresql":
            self._copy(table, columns, rows)
        else:
            self._executemany(table, columns, rows)

    def _executemany(self, table: Table, columns: Sequence[str], rows: Sequence[Row]) -> None:
        sql, processors = self._plan(table, columns)
        converted = list(
            zip(
                *(
                    _convert_column(convert, values)
                    for convert, values in zip(processors, zip(*rows, strict=True), strict=True)
                ),
                strict=True,
            )
        )
        cursor = self._connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, converted)
        finally:
            cursor.close()

    def _plan(self, table: Table, columns: Sequence[str]) -> Plan:
        key = (table.name, tuple(columns))
        if key not in self._plans:
            processors: list[Convert | None] = [
                table.c[name].type.dialect_impl(self._dialect).bind_processor(self._dialect)
                for name in columns
            ]
            marks = ", ".join("?" for _ in columns)
            sql = f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({marks})'  # noqa: S608 - names come from our metadata
            self._plans[key] = (sql, processors)
        return self._plans[key]

    def _copy(self, table: Table, columns: Sequence[str], rows: Sequence[Row]) -> None:
        # psycopg 3's own connection: its cursors have copy(), which DB-API does not promise.
        raw: Any = self._connection.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy,
        ):
            for row in rows:
                copy.write_row(row)


def _convert_column(convert: Convert | None, values: tuple[Any, ...]) -> Sequence[Any]:
    """Convert one column; columns of few distinct values (sites, timestamps, enums) once each."""
    if convert is None:
        return values
    distinct = set(values)
    if len(distinct) * 4 < len(values):
        converted = {v: None if v is None else convert(v) for v in distinct}
        return [converted[v] for v in values]
    return [None if v is None else convert(v) for v in values]
