"""The sync wire and row codec on anything at all: a well-formed value or a refusal with a
reason, never another exception (which central would answer with a 500 and a hall would
retry forever); and what a sender encodes comes back unchanged."""

from __future__ import annotations

import gzip
import json
import string
import uuid
import zlib
from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
from sync import wire
from sync.rows import BadRow, decode_row, encode_row, key_text, parse_key
from sync.tables import BY_NAME

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROUND_TRIP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# JSON as a hostile sender might write it: any nesting, any text (lone surrogates too).
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
# Documents near the real shape, so the checks past the first one are reached too.
wire_rows = st.fixed_dictionaries(
    {},
    optional={
        "seq": st.integers(-2, 50) | json_values,
        "t": st.sampled_from(["queue_tickets", "payments", "tariffs"]) | json_values,
        "op": st.sampled_from(["I", "U", "D", "X"]) | json_values,
        "k": st.text(max_size=40) | json_values,
        "v": st.dictionaries(st.text(max_size=12), json_values, max_size=4) | json_values,
        "txid": st.integers(-2, 50) | json_values,
    },
)


@st.composite
def near_documents(draw: st.DrawFn) -> dict[str, Any]:
    rows = draw(st.lists(wire_rows | json_values, max_size=4))
    document = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "format": st.sampled_from([1, 2, 0, True, "1"]) | json_values,
                "schema": st.sampled_from(["0008", "9999", "0001"]) | json_values,
                "site": st.text(max_size=12) | json_values,
                "first_seq": st.integers(-2, 50) | json_values,
                "last_seq": st.integers(-2, 50) | json_values,
                "pending": json_values,
                "oldest_pending_at": json_values,
                "next": json_values,
                "more": json_values,
            },
        )
    )
    document["rows"] = rows if draw(st.booleans()) else draw(json_values)
    good_digest = draw(st.booleans())
    document["digest"] = _safe_digest(rows) if good_digest else draw(json_values)
    return document


def _safe_digest(rows: Any) -> Any:
    try:
        return wire.digest(rows)
    except wire.Refused:
        return "x"


def _gzip_text(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8", "surrogatepass"), mtime=0)


def _unpack_or_refuse(body: bytes) -> dict[str, Any] | None:
    try:
        document = wire.unpack(body)
    except wire.Refused as err:
        assert err.code and str(err) and 400 <= err.status < 500
        return None
    assert isinstance(document, dict)
    return document


def _parse_or_refuse(document: dict[str, Any]) -> None:
    for step in (wire.parse_up, wire.parse_rows):
        try:
            parsed = step(document)
        except wire.Refused as err:
            assert err.code and str(err)
            continue
        rows = parsed.rows if isinstance(parsed, wire.UpBatch) else parsed
        for row in rows:
            assert row.seq > 0 and row.op in ("I", "U", "D") and isinstance(row.key, str)
            assert (row.values is None) == (row.op == "D")
            _decode_or_refuse(row.table, row.values)
    try:
        wire.check_versions(document, "0008", we_are="central")
    except wire.Refused as err:
        assert err.code in ("format", "schema", "corrupt") and str(err)


def _decode_or_refuse(name: str, values: Any) -> None:
    table = BY_NAME[name].table if name in BY_NAME else BY_NAME["queue_tickets"].table
    try:
        decoded = decode_row(table, values)
    except BadRow as err:
        assert str(err)
        return
    assert set(decoded) == set(table.columns.keys())


@FUZZ
@given(st.binary(max_size=400))
def test_any_bytes_are_a_document_or_a_refusal(body: bytes) -> None:
    document = _unpack_or_refuse(body)
    if document is not None:
        _parse_or_refuse(document)


@FUZZ
@given(st.binary(max_size=400))
def test_any_gzipped_bytes_are_a_document_or_a_refusal(raw: bytes) -> None:
    document = _unpack_or_refuse(gzip.compress(raw, mtime=0))
    if document is not None:
        _parse_or_refuse(document)


@FUZZ
@given(st.text(max_size=200))
def test_any_gzipped_text_is_a_document_or_a_refusal(text: str) -> None:
    document = _unpack_or_refuse(_gzip_text(text))
    if document is not None:
        _parse_or_refuse(document)


@FUZZ
@given(near_documents())
def test_near_documents_parse_or_are_refused(document: dict[str, Any]) -> None:
    text = json.dumps(document, ensure_ascii=False)
    parsed = _unpack_or_refuse(_gzip_text(text))
    if parsed is not None:
        _parse_or_refuse(parsed)


@FUZZ
@given(
    st.sampled_from(["queue_tickets", "payments", "hall_hours", "work_orders"]),
    st.dictionaries(st.text(max_size=20), json_values, max_size=6) | json_values,
)
def test_decode_row_of_anything_is_a_row_or_a_refusal(name: str, values: Any) -> None:
    _decode_or_refuse(name, values)


TABLES = ("queue_tickets", "payments", "hall_hours", "work_orders")


def _column_values(column: Column[Any]) -> st.SearchStrategy[Any]:
    """Python values a column of this type holds (as read back from either database)."""
    kind = column.type
    values: st.SearchStrategy[Any]
    if isinstance(kind, UTCDateTime):
        values = st.datetimes(
            min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
        )
    elif isinstance(kind, Uuid):
        values = st.uuids()
    elif isinstance(kind, Enum):
        values = st.sampled_from(list(kind.enum_class) if kind.enum_class else kind.enums)
    elif isinstance(kind, Boolean):
        values = st.booleans()
    elif isinstance(kind, SmallInteger):
        values = st.integers(-(2**15), 2**15 - 1)
    elif isinstance(kind, BigInteger):
        values = st.integers(-(2**63), 2**63 - 1)
    elif isinstance(kind, Integer):
        values = st.integers(-(2**31), 2**31 - 1)
    elif isinstance(kind, Float):
        values = st.floats(allow_nan=False, allow_infinity=False)
    elif isinstance(kind, Date):
        values = st.dates()
    elif isinstance(kind, Time):
        values = st.times()
    elif isinstance(kind, String | Text):
        text = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
        values = st.text(text, max_size=getattr(kind, "length", None) or 300)
    else:
        raise AssertionError(f"no strategy for {column.table.name}.{column.name}: {kind!r}")
    return values | st.none() if column.nullable else values


class _Stored:
    """A row as a database returns it: ``encode_row`` reads only ``_mapping``."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._mapping = values


def _stored(table: Table, values: dict[str, Any]) -> Row[Any]:
    return cast(Row[Any], _Stored(values))


@st.composite
def stored_rows(draw: st.DrawFn, name: str) -> dict[str, Any]:
    table = BY_NAME[name].table
    return {c.name: draw(_column_values(c)) for c in table.columns}


@ROUND_TRIP
@given(st.data())
def test_every_column_type_round_trips_through_the_wire(data: st.DataObject) -> None:
    for name in TABLES:
        table = BY_NAME[name].table
        row = data.draw(stored_rows(name), label=name)
        sent = json.loads(json.dumps(encode_row(table, _stored(table, row))))
        assert decode_row(table, sent) == row
        assert parse_key(table, key_text(table, row)) == {
            c.name: row[c.name] for c in table.primary_key.columns
        }


@st.composite
def damaged_rows(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """A real row's wire form with some columns replaced by anything at all."""
    table = BY_NAME[name].table
    sent: dict[str, Any] = dict(encode_row(table, _stored(table, draw(stored_rows(name)))))
    for column in draw(st.lists(st.sampled_from(sorted(sent)), max_size=3, unique=True)):
        sent[column] = draw(json_values)
    return sent


@FUZZ
@given(st.sampled_from(TABLES).flatmap(lambda name: st.tuples(st.just(name), damaged_rows(name))))
def test_a_damaged_row_decodes_or_is_refused(case: tuple[str, dict[str, Any]]) -> None:
    name, values = case
    _decode_or_refuse(name, values)


@FUZZ
@given(st.sampled_from(TABLES), st.text(max_size=80))
def test_any_key_text_is_a_key_or_a_refusal(name: str, text: str) -> None:
    table = BY_NAME[name].table
    try:
        key = parse_key(table, text)
    except BadRow as err:
        assert str(err)
        return
    assert set(key) == {c.name for c in table.primary_key.columns}


json_objects = st.dictionaries(st.text(max_size=10), json_values, max_size=5)


@st.composite
def up_batches(draw: st.DrawFn) -> wire.UpBatch:
    first = draw(st.integers(1, 2**40))
    seqs = sorted(draw(st.sets(st.integers(first, first + 200), max_size=8)))
    last = max([first, *seqs]) + draw(st.integers(0, 5))
    rows = []
    for seq in seqs:
        op = draw(st.sampled_from(["I", "U", "D"]))
        rows.append(
            wire.WireRow(
                seq,
                draw(st.sampled_from(sorted(BY_NAME))),
                op,
                draw(st.text(max_size=40).filter(lambda t: "\ud800" not in t)),
                None if op == "D" else draw(json_objects),
                draw(st.integers(0, 2**40)),
            )
        )
    return wire.UpBatch(
        site=draw(st.text(string.ascii_lowercase + "-", min_size=1, max_size=20)),
        schema=draw(st.sampled_from(["0008", "0009"])),
        first_seq=first,
        last_seq=last,
        rows=rows,
        pending=draw(st.integers(0, 10**6)),
        oldest_pending_at=draw(
            st.none() | st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)
        ),
    )


def _unicode(batch: wire.UpBatch) -> bool:
    try:
        wire.digest([r.to_json() for r in batch.rows])
    except wire.Refused:
        return False
    return True


@ROUND_TRIP
@given(up_batches().filter(_unicode))
def test_encode_up_then_unpack_and_parse_is_identity(batch: wire.UpBatch) -> None:
    assert wire.parse_up(wire.unpack(wire.encode_up(batch))) == batch


def test_surrogates_in_a_batch_are_refused_not_crashed() -> None:
    document = '{"rows":[{"seq":1,"t":"payments","op":"U","k":"\\ud800","v":{}}],"digest":"x"}'
    with_lone = wire.unpack(_gzip_text(document))
    try:
        wire.parse_rows(with_lone)
    except wire.Refused as err:
        assert err.code == "corrupt"
    else:
        raise AssertionError("a lone surrogate was taken")


def test_hostile_shapes_are_refused_with_a_reason() -> None:
    cases = {
        "deep nesting": gzip.compress(b"[" * 100_000 + b"]" * 100_000),
        "huge integer": gzip.compress(b'{"a":' + b"7" * 5000 + b"}"),
        "infinite float": gzip.compress(b'{"a":1e999}'),
        "NaN": gzip.compress(b'{"a":NaN}'),
        "duplicate key": gzip.compress(b'{"a":1,"a":2}'),
        "trailing junk": gzip.compress(b'{"a":1}') + b"junk",
        "two members": gzip.compress(b'{"a":1}') + gzip.compress(b'{"a":2}'),
        "raw deflate": zlib.compress(b'{"a":1}'),
        "truncated": gzip.compress(b'{"a":1}' * 100)[:30],
        "empty": b"",
        "a list": gzip.compress(b"[1,2]"),
    }
    for what, body in cases.items():
        try:
            wire.unpack(body)
        except wire.Refused as err:
            assert err.code == "corrupt" and str(err), what
        else:
            raise AssertionError(f"{what} was taken")


def test_a_timestamp_at_the_edge_of_the_calendar_is_refused() -> None:
    table = BY_NAME["payments"].table
    row = encode_row(table, _stored(table, _a_payment()))
    for text in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2024-01-01T00:00:00"):
        try:
            decode_row(table, {**row, "paid_at": text})
        except BadRow as err:
            assert "payments.paid_at" in str(err)
        else:
            raise AssertionError(f"{text} was taken")


def test_a_value_too_wide_for_postgresql_is_refused() -> None:
    table = BY_NAME["queue_tickets"].table
    for column, value in (("priority", 2**31), ("number", "N\x00"), ("issued_at", "x")):
        row = {c.name: None for c in table.columns}
        try:
            decode_row(table, {**row, column: value})
        except BadRow as err:
            assert str(err)
        else:
            raise AssertionError(f"{column}={value!r} was taken")
    hours = BY_NAME["hall_hours"].table
    aware = time(9, 0, tzinfo=timezone(timedelta(hours=8))).isoformat()
    try:
        decode_row(
            hours,
            {
                "site_id": str(uuid.uuid4()),
                "weekday": 1,
                "opens": aware,
                "last_ticket": "17:00:00",
                "closes": "17:30:00",
            },
        )
    except BadRow as err:
        assert "hall_hours.opens" in str(err)
    else:
        raise AssertionError("a time of day with a zone was taken")


def _a_payment() -> dict[str, Any]:
    table = BY_NAME["payments"].table
    values: dict[str, Any] = {c.name: None for c in table.columns}
    values.update(
        id=uuid.uuid4(),
        origin_site_id=uuid.uuid4(),
        account_id=uuid.uuid4(),
        idempotency_key="k",
        kind=next(iter(table.c.kind.type.enum_class or [])),  # type: ignore[attr-defined]
        method=next(iter(table.c.method.type.enum_class or [])),  # type: ignore[attr-defined]
        amount_fen=100,
        paid_at=datetime(2024, 5, 1, tzinfo=UTC),
        created_at=datetime(2024, 5, 1, tzinfo=UTC),
    )
    return values
