"""Rows as plain JSON values and back, by the column types of the schema.

A wire value is what JSON can carry exactly: UUIDs, dates, times and timestamps as ISO
text, integers as integers (money is integer fen; never a float), enums as their stored
value. Decoding checks every value against its column and refuses anything else with a
reason — a row is applied right or not at all.
"""

from __future__ import annotations

import enum
import functools
import math
import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Enum,
    Float,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
    Uuid,
)
from sqlalchemy.engine import Row

from servicedb.types import UTCDateTime


class BadRow(ValueError):
    """A row that does not fit its table; the message names the table and column."""


Json = None | bool | int | float | str


def encode_value(column: Column[Any], value: Any) -> Json:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool | int | float | str):
        return value
    raise BadRow(f"{column.table.name}.{column.name}: cannot send {type(value).__name__}")


def encode_row(table: Table, row: Row[Any]) -> dict[str, Json]:
    mapping = row._mapping
    return {c.name: encode_value(c, mapping[c.name]) for c in table.columns}


def _where(column: Column[Any]) -> str:
    return f"{column.table.name}.{column.name}"


def decode_value(column: Column[Any], value: Any) -> Any:
    if value is None:
        if not column.nullable:
            raise BadRow(f"{_where(column)}: may not be null")
        return None
    kind = column.type
    try:
        if isinstance(kind, UTCDateTime):
            parsed = datetime.fromisoformat(_text(value))
            if parsed.tzinfo is None:
                raise BadRow(f"{_where(column)}: a timestamp without a time zone")
            return parsed.astimezone(UTC)
        if isinstance(kind, Uuid):
            return uuid.UUID(_text(value))
        if isinstance(kind, Enum):
            if kind.enum_class is not None:
                return kind.enum_class(_text(value))
            if value not in kind.enums:
                raise BadRow(f"{_where(column)}: {value!r} is not one of {kind.enums}")
            return value
        if isinstance(kind, Boolean):
            if not isinstance(value, bool):
                raise BadRow(f"{_where(column)}: expected true or false")
            return value
        if isinstance(kind, Integer | BigInteger | SmallInteger):
            if isinstance(value, bool) or not isinstance(value, int):
                raise BadRow(f"{_where(column)}: expected an integer")
            # PostgreSQL's width of the column: SQLite would take it, PostgreSQL would not.
            bits = _INT_BITS.get(type(kind), 63)
            if not -(2**bits) <= value < 2**bits:
                raise BadRow(f"{_where(column)}: integer out of range")
            return value
        if isinstance(kind, Float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise BadRow(f"{_where(column)}: expected a number")
            number = float(value)
            if not math.isfinite(number):
                raise BadRow(f"{_where(column)}: not a finite number")
            return number
        if isinstance(kind, Date):
            return date.fromisoformat(_text(value))
        if isinstance(kind, Time):
            parsed_time = time.fromisoformat(_text(value))
            if parsed_time.tzinfo is not None:
                raise BadRow(f"{_where(column)}: a time of day carries no time zone")
            return parsed_time
        if isinstance(kind, String | Text):
            text = _text(value)
            length = getattr(kind, "length", None)
            if length is not None and len(text) > length:
                raise BadRow(f"{_where(column)}: longer than {length} characters")
            if "\x00" in text:
                raise BadRow(
                    f"{_where(column)}: text with a NUL character"
                )  # PostgreSQL refuses it
            return text
    except BadRow:
        raise
    except (ValueError, TypeError, OverflowError) as err:
        # OverflowError: a timestamp at the edge of the calendar moved into UTC.
        raise BadRow(f"{_where(column)}: {err}") from err
    raise BadRow(f"{_where(column)}: unsupported column type {type(kind).__name__}")


_INT_BITS: dict[type[Any], int] = {SmallInteger: 15, Integer: 31, BigInteger: 63}


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise BadRow(f"expected text, got {type(value).__name__}")
    if value.isascii():
        return value  # the common case, and nothing to check
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise BadRow(f"text that is not Unicode: {err.reason}") from err
    return value


def decode_row(table: Table, values: Any) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise BadRow(f"{table.name}: a row must be an object")
    names = _column_names(table)
    if values.keys() != names:
        unknown = set(values) - names
        if unknown:
            raise BadRow(f"{table.name}: unknown columns {sorted(unknown)}")
        raise BadRow(f"{table.name}: missing columns {sorted(names - set(values))}")
    return {c.name: decode_value(c, values[c.name]) for c in table.columns}


@functools.cache
def _column_names(table: Table) -> frozenset[str]:
    return frozenset(table.columns.keys())


def key_text(table: Table, row: dict[str, Any]) -> str:
    """The key a change log entry names a row by (both sides parse it, either dialect's form)."""
    return "|".join(str(row[c.name]) for c in table.primary_key.columns)


def parse_key(table: Table, text: str) -> dict[str, Any]:
    columns = list(table.primary_key.columns)
    parts = text.split("|")
    if len(parts) != len(columns):
        raise BadRow(f"{table.name}: key {text!r} has {len(parts)} parts, expected {len(columns)}")
    out: dict[str, Any] = {}
    for column, part in zip(columns, parts, strict=True):
        try:
            if isinstance(column.type, Uuid):
                out[column.name] = uuid.UUID(part)
            elif isinstance(column.type, Integer | BigInteger | SmallInteger):
                out[column.name] = decode_value(column, int(part))
            else:
                out[column.name] = part
        except ValueError as err:  # BadRow is one too, and passes through as it is
            if isinstance(err, BadRow):
                raise
            raise BadRow(f"{table.name}: key {text!r}: {err}") from err
    return out
