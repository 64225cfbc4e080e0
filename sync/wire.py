"""The sync wire format: versioned, gzip-compressed JSON, checked before anything is applied.

An up batch::

    {"format": 1, "schema": "0008", "site": "hall-xicheng", "first_seq": 41, "last_seq": 80,
     "rows": [{"seq": 41, "t": "queue_tickets", "op": "U", "k": "…", "v": {…}}, …],
     "pending": 0, "oldest_pending_at": null, "digest": "<sha256 of the rows>"}

A down page has the same rows (``seq`` is central's, ``txid`` orders them) and a ``next``
cursor. ``format`` changes only with the shape of these documents; ``schema`` is the Alembic
revision of the sender. A receiver on another schema refuses the whole document and says
which side must upgrade: never a half-applied batch.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import math
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeGuard

FORMAT = 1
CONTENT_TYPE = "application/vnd.servicehall.sync+gzip"  # gzip-compressed JSON
# Bounds: a compressed body, what it may inflate to (a zip bomb stops here), rows per batch.
MAX_BODY_BYTES = 1 << 20
MAX_INFLATED_BYTES = 16 << 20
MAX_ROWS = 2000


class Refused(ValueError):
    """A document that is not applied; ``code`` is stable for programs, the text for people."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass
class WireRow:
    seq: int
    table: str
    op: str
    key: str
    values: dict[str, Any] | None  # None for a deletion
    txid: int = 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seq": self.seq, "t": self.table, "op": self.op, "k": self.key}
        if self.txid:
            out["txid"] = self.txid
        if self.values is not None:
            out["v"] = self.values
        return out


@dataclass
class UpBatch:
    site: str
    schema: str
    first_seq: int
    last_seq: int
    rows: list[WireRow]
    pending: int = 0
    oldest_pending_at: str | None = None
    format: int = FORMAT


@dataclass
class DownPage:
    schema: str
    rows: list[WireRow]
    next_txid: int
    next_seq: int
    more: bool
    format: int = FORMAT
    extra: dict[str, Any] = field(default_factory=dict)


def runs(rows: Iterable[WireRow]) -> Iterator[list[WireRow]]:
    """Consecutive rows of one table and operation: each run is written in one statement,
    and the runs keep the rows' order (tables come in foreign-key order)."""
    for _, run in itertools.groupby(rows, key=lambda r: (r.table, r.op)):
        yield list(run)


def digest(rows: list[dict[str, Any]]) -> str:
    canonical = json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        encoded = canonical.encode("utf-8")
    except UnicodeEncodeError as err:
        # A lone surrogate escaped in the JSON (\ud800): no database can store it.
        raise Refused("corrupt", f"text that is not Unicode: {err.reason}") from err
    return hashlib.sha256(encoded).hexdigest()


def pack(document: dict[str, Any]) -> bytes:
    raw = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return gzip.compress(raw, compresslevel=6, mtime=0)


def encode_up(batch: UpBatch) -> bytes:
    rows = [r.to_json() for r in batch.rows]
    return pack(
        {
            "format": batch.format,
            "schema": batch.schema,
            "site": batch.site,
            "first_seq": batch.first_seq,
            "last_seq": batch.last_seq,
            "rows": rows,
            "pending": batch.pending,
            "oldest_pending_at": batch.oldest_pending_at,
            "digest": digest(rows),
        }
    )


def encode_down(page: DownPage) -> bytes:
    rows = [r.to_json() for r in page.rows]
    return pack(
        {
            "format": page.format,
            "schema": page.schema,
            "rows": rows,
            "next": {"txid": page.next_txid, "seq": page.next_seq},
            "more": page.more,
            "digest": digest(rows),
            **page.extra,
        }
    )


def encode_snapshot_page(schema: str, table: str, rows: list[WireRow], last: str | None) -> bytes:
    """One page of a table for provisioning: ``last`` is where the next page starts (None:
    the table is done)."""
    wire = [r.to_json() for r in rows]
    return pack(
        {
            "format": FORMAT,
            "schema": schema,
            "table": table,
            "rows": wire,
            "last": last,
            "digest": digest(wire),
        }
    )


def unpack(body: bytes) -> dict[str, Any]:
    """Inflate and parse strictly; every failure is a ``Refused`` with the reason."""
    if len(body) > MAX_BODY_BYTES:
        raise Refused("too_large", f"batch of {len(body)} bytes; at most {MAX_BODY_BYTES}", 413)
    try:
        inflater = zlib.decompressobj(wbits=31)  # gzip framing
        raw = inflater.decompress(body, MAX_INFLATED_BYTES + 1)
        if len(raw) > MAX_INFLATED_BYTES or inflater.unconsumed_tail:
            raise Refused("too_large", f"batch inflates beyond {MAX_INFLATED_BYTES} bytes", 413)
        if not inflater.eof:
            raise Refused("corrupt", "the compressed body is truncated")
        if inflater.unused_data:
            # Bytes after the gzip stream (another member, junk): not what the sender sent.
            raise Refused("corrupt", "bytes after the end of the compressed body")
    except zlib.error as err:
        raise Refused("corrupt", f"the body is not gzip: {err}") from err
    try:
        document = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
            parse_float=_finite,
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise Refused("corrupt", f"the body is not JSON: {err}") from err
    except RecursionError as err:
        raise Refused("corrupt", "the body nests too deeply") from err
    except Refused:
        raise
    except ValueError as err:  # e.g. an integer of more digits than Python converts
        raise Refused("corrupt", f"the body is not JSON: {err}") from err
    if not isinstance(document, dict):
        raise Refused("corrupt", "the body must be a JSON object")
    return document


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise Refused("corrupt", f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise Refused("corrupt", f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as infinity
        raise Refused("corrupt", f"{text[:40]} is out of range for a number")
    return value


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def check_versions(document: dict[str, Any], our_schema: str, *, we_are: str) -> None:
    """The same format and schema on both sides, or a refusal that says who must upgrade."""
    fmt = document.get("format")
    if not _is_int(fmt):
        raise Refused("corrupt", f"sync format {fmt!r} is not a format number")
    if fmt != FORMAT:
        # Whoever speaks the older format upgrades; the sender may be a hall or central.
        who = "upgrade the sender" if fmt < FORMAT else f"upgrade this {we_are}"
        raise Refused(
            "format", f"sync format {fmt!r}; this {we_are} speaks format {FORMAT} — {who}", 409
        )
    schema = document.get("schema")
    if not isinstance(schema, str):
        raise Refused("corrupt", "no schema revision")
    if schema != our_schema:
        newer = schema > our_schema  # revisions are zero-padded and ordered
        who = f"upgrade this {we_are}" if newer else "upgrade the sender"
        raise Refused(
            "schema",
            f"sender's schema is {schema}, this {we_are}'s is {our_schema}: {who} "
            "(`servicehall db upgrade`), then sync resumes where it stopped",
            409,
        )


def parse_rows(document: dict[str, Any]) -> list[WireRow]:
    rows = document.get("rows")
    if not isinstance(rows, list):
        raise Refused("corrupt", "rows must be a list")
    if len(rows) > MAX_ROWS:
        raise Refused("too_large", f"{len(rows)} rows; at most {MAX_ROWS} per batch", 413)
    if document.get("digest") != digest(rows):
        raise Refused("corrupt", "the rows do not match their digest")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise Refused("corrupt", f"row {i} is not an object")
        seq, table, op, key = row.get("seq"), row.get("t"), row.get("op"), row.get("k")
        values = row.get("v")
        txid = row.get("txid", 0)
        if not (_is_int(seq) and seq > 0):
            raise Refused("corrupt", f"row {i}: seq must be a positive integer")
        if not _is_int(txid) or txid < 0:
            raise Refused("corrupt", f"row {i}: txid must be a non-negative integer")
        if not isinstance(table, str) or not isinstance(key, str) or op not in ("I", "U", "D"):
            raise Refused("corrupt", f"row {i}: needs t, k and op I/U/D")
        if op != "D" and not isinstance(values, dict):
            raise Refused("corrupt", f"row {i}: v must be an object")
        out.append(WireRow(seq, table, op, key, values if op != "D" else None, txid))
    return out


def parse_up(document: dict[str, Any]) -> UpBatch:
    site = document.get("site")
    first, last = document.get("first_seq"), document.get("last_seq")
    schema = document.get("schema")
    if not isinstance(site, str):
        raise Refused("corrupt", "no site")
    if not isinstance(schema, str):
        raise Refused("corrupt", "no schema revision")
    if not (_is_int(first) and _is_int(last) and 0 < first <= last):
        raise Refused("corrupt", "first_seq and last_seq must be positive, first ≤ last")
    rows = parse_rows(document)
    for row in rows:
        if not first <= row.seq <= last:
            raise Refused("corrupt", f"row seq {row.seq} outside {first}..{last}")
    # Rows come in foreign-key order of their tables, each with the seq of its newest change.
    if len({r.seq for r in rows}) != len(rows):
        raise Refused("corrupt", "a seq appears twice")
    pending = document.get("pending", 0)
    oldest = document.get("oldest_pending_at")
    return UpBatch(
        site,
        schema,
        first,
        last,
        rows,
        pending if _is_int(pending) else 0,
        oldest if isinstance(oldest, str) else None,
        FORMAT,
    )
