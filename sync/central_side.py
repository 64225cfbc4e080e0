"""Central's half of sync: who a hall is (its token), applying a hall's batch exactly once,
and serving the hall its pages of the change log and its snapshot."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, delete, func, select, text, tuple_
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicedb.engine import make_session_factory
from servicedb.models import Site, SiteKind, SiteZone, SyncChange, SyncPeer
from servicedb.types import utcnow
from sync.apply import remove, upsert
from sync.reading import read_changed
from sync.rows import BadRow, decode_row, encode_row, key_text, parse_key
from sync.tables import BY_NAME, DOWN, SNAPSHOT, UP, Apply, Slice
from sync.wire import DownPage, Refused, UpBatch, WireRow, runs

DEFAULT_PAGE_ROWS = 500
CONTACT_RECORD_EVERY = timedelta(seconds=30)
UP_BY_NAME = {s.name: s for s in UP}


@dataclass(frozen=True)
class Hall:
    site_id: uuid.UUID
    code: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(engine: Engine, code: str, *, rekey: bool = False) -> str:
    """A hall's sync token, printed once; central keeps only its SHA-256."""
    writer = make_session_factory(engine, serialised_writes=True)
    with writer() as session, session.begin():
        site = session.scalar(select(Site).where(Site.code == code))
        if site is None or site.kind is not SiteKind.HALL:
            raise Refused("unknown_site", f"no hall '{code}' at central", 404)
        peer = session.get(SyncPeer, site.id)
        if peer is None:
            peer = SyncPeer(
                site_id=site.id,
                up_seq=0,
                up_batches=0,
                up_rows=0,
                down_txid=0,
                down_seq=0,
                hall_pending=0,
            )
            session.add(peer)
        elif peer.token_sha256 and not rekey:
            raise Refused("has_token", f"hall '{code}' has a sync token; --rekey replaces it", 409)
        # A prefix says what it is in a config file, and keeps it from starting with "-".
        token = "shsync_" + secrets.token_urlsafe(32)
        peer.token_sha256 = token_hash(token)
    return token


def retire(engine: Engine, code: str) -> None:
    """A hall closed for good: its token stops working, and central's change log no longer
    waits for it (``prune_log``). Its rows stay; a new token and provisioning reopen it."""
    writer = make_session_factory(engine, serialised_writes=True)
    with writer() as session, session.begin():
        site = session.scalar(select(Site).where(Site.code == code))
        peer = session.get(SyncPeer, site.id) if site is not None else None
        if peer is None or peer.token_sha256 is None:
            raise Refused("unknown_site", f"no hall '{code}' registered for sync at central", 404)
        peer.token_sha256 = None


def authenticate(engine: Engine, site_code: str, token: str | None) -> Hall:
    """The hall a token belongs to, or a refusal. A kiosk's or counter's token is not one."""
    if not token:
        raise Refused("unauthorised", "a hall's sync token is required", 401)
    with Session(engine) as session:
        row = session.execute(
            select(Site.id, Site.code)
            .join(SyncPeer, SyncPeer.site_id == Site.id)
            .where(SyncPeer.token_sha256 == token_hash(token))
        ).first()
    if row is None:
        raise Refused("unauthorised", "unknown sync token", 401)
    if row.code != site_code:
        raise Refused("forbidden", f"this token belongs to '{row.code}', not '{site_code}'", 403)
    return Hall(row.id, row.code)


@dataclass(frozen=True)
class Ack:
    acked_seq: int
    applied: int
    duplicate: bool


def apply_up(engine: Engine, hall: Hall, batch: UpBatch) -> Ack:
    """Apply a hall's batch in one transaction, or nothing of it.

    A batch central already has (a retry after a lost answer, a replay) is acknowledged and
    skipped; one that starts past the hall's cursor is a gap and refused, so the hall resends
    from where central is. Every row must be the hall's own (``origin_site_id``).
    """
    if batch.site != hall.code:
        raise Refused("forbidden", f"batch names site '{batch.site}', token is '{hall.code}'", 403)
    try:
        return _apply_up(engine, hall, batch)
    except IntegrityError as err:
        # A row that breaks a constraint (a reused idempotency key, a missing parent): the
        # transaction rolled back, nothing is applied, and the hall is told which.
        detail = str(err.orig).splitlines()[0] if err.orig else str(err)
        raise Refused("row", f"a row breaks a constraint at central: {detail}", 409) from err


def _apply_up(engine: Engine, hall: Hall, batch: UpBatch) -> Ack:
    writer = make_session_factory(engine, serialised_writes=True)
    with writer() as session, session.begin():
        peer = session.get(SyncPeer, hall.site_id, with_for_update=True)
        if peer is None:
            raise Refused("unauthorised", "this hall has no sync token", 401)
        if batch.last_seq <= peer.up_seq:
            return Ack(peer.up_seq, 0, True)
        if batch.first_seq > peer.up_seq + 1:
            raise Refused(
                "gap",
                f"central has this hall up to seq {peer.up_seq}; the batch starts at "
                f"{batch.first_seq}: resend from {peer.up_seq + 1}",
                409,
            )
        fresh = [r for r in batch.rows if r.seq > peer.up_seq]
        _apply_up_rows(session, hall, fresh)
        peer.up_seq = batch.last_seq
        peer.up_batches += 1
        peer.up_rows += len(fresh)
        peer.last_up_at = utcnow()
        peer.hall_pending = batch.pending
        peer.hall_oldest_pending_at = _when(batch.oldest_pending_at)
        peer.schema_revision = batch.schema
        peer.last_error = None
    return Ack(batch.last_seq, len(fresh), False)


def _apply_up_rows(session: Session, hall: Hall, rows: list[WireRow]) -> None:
    for run in runs(rows):
        try:
            _apply_up_run(session, hall, run)
        except BadRow as err:
            raise Refused("row", str(err)) from err


def _apply_up_run(session: Session, hall: Hall, run: list[WireRow]) -> None:
    name = run[0].table
    synced = UP_BY_NAME.get(name)
    if synced is None or synced.up is None:
        raise Refused("table", f"a hall does not send {name!r}", 422)
    table = synced.table
    if run[0].op == "D":
        if synced.up is Apply.STATE:
            # Only the hall's own rows; others' keys are ignored, not an error.
            keys = [parse_key(table, r.key) for r in run]
            remove(session, table, _own_keys(session, table, keys, hall.site_id))
        return
    values = [decode_row(table, r.values) for r in run]
    for v in values:
        if v["origin_site_id"] != hall.site_id:
            raise Refused(
                "forged_origin", f"{name} row {key_text(table, v)} is from another site", 403
            )
    # An id central already holds for another site is not this hall's to overwrite,
    # whatever origin the incoming row claims.
    taken = session.scalars(
        select(table.c.id).where(
            table.c.id.in_([v["id"] for v in values]), table.c.origin_site_id != hall.site_id
        )
    ).first()
    if taken is not None:
        raise Refused("forged_origin", f"{name} row {taken} belongs to another site", 403)
    upsert(session, table, synced.up, values)


def _own_keys(
    session: Session, table: Any, keys: list[dict[str, Any]], site_id: uuid.UUID
) -> list[dict[str, Any]]:
    ids = [k["id"] for k in keys]
    found = session.scalars(
        select(table.c.id).where(table.c.id.in_(ids), table.c.origin_site_id == site_id)
    ).all()
    return [{"id": i} for i in found]


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def slice_of(engine: Engine, hall: Hall) -> Slice:
    with Session(engine) as session:
        zones = session.scalars(select(SiteZone.zone_id).where(SiteZone.site_id == hall.site_id))
        return Slice(hall.site_id, tuple(zones))


def safe_head(session: Session) -> tuple[int, int]:
    """The newest (txid, seq) below which every change is committed: a provisioning cursor."""
    if session.get_bind().dialect.name == "postgresql":
        xmin = _xmin(session)
        row = session.execute(
            select(SyncChange.txid, SyncChange.seq)
            .where(SyncChange.txid < xmin)
            .order_by(SyncChange.txid.desc(), SyncChange.seq.desc())
            .limit(1)
        ).first()
    else:
        row = session.execute(
            select(SyncChange.txid, SyncChange.seq).order_by(SyncChange.seq.desc()).limit(1)
        ).first()
    return (row.txid, row.seq) if row else (0, 0)


def _xmin(session: Session) -> int:
    return int(session.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")))


def serve_down(
    engine: Engine,
    hall: Hall,
    after: tuple[int, int],
    schema: str,
    limit: int = DEFAULT_PAGE_ROWS,
) -> DownPage:
    """The next page of the change log for this hall, in commit order, cut to its slice.

    On PostgreSQL only changes of transactions older than every running one are served (a
    sequence number is taken before commit, so a later number can commit first); on SQLite
    writers are serialised and the seq alone is commit order.
    """
    slice_ = slice_of(engine, hall)
    with Session(engine) as session, session.begin():
        query = select(SyncChange.table_name, SyncChange.row_key, SyncChange.seq, SyncChange.txid)
        held = 0
        if session.get_bind().dialect.name == "postgresql":
            xmin = _xmin(session)
            later = tuple_(SyncChange.txid, SyncChange.seq) > tuple_(*after)
            query = query.where(later, SyncChange.txid < xmin).order_by(
                SyncChange.txid, SyncChange.seq
            )
            # Committed changes waiting behind a transaction still running (in any database
            # of the cluster): the hall is told, so it asks again soon rather than idling.
            held = int(
                session.scalar(select(func.count()).where(later, SyncChange.txid >= xmin)) or 0
            )
        else:
            query = query.where(SyncChange.seq > after[1]).order_by(SyncChange.seq)
        changes = session.execute(query.limit(limit)).all()
        names = {s.name for s in DOWN}
        wanted = [tuple(c) for c in changes if c.table_name in names]
        # A customer goes with the first of their accounts the hall receives.
        accounts = [c for c in wanted if c[0] == "accounts"]
        if accounts:
            wanted = _with_customers(session, wanted, accounts)
        where = {name: slice_.where(name) for name in names}
        rows = read_changed(session, wanted, where)  # type: ignore[arg-type]
    if changes:
        last = changes[-1]
        nxt = (int(last.txid), int(last.seq))
    else:
        nxt = after
    _record_down(engine, hall, after)
    if not changes:
        prune_log(engine)  # a hall caught up: a good moment to forget what all halls have
    return DownPage(schema, rows, nxt[0], nxt[1], more=len(changes) == limit, extra={"held": held})


def _with_customers(session: Session, wanted: list[Any], accounts: list[Any]) -> list[Any]:
    table = BY_NAME["accounts"].table
    ids = [parse_key(table, a[1])["id"] for a in accounts]
    customers = session.scalars(select(table.c.customer_id).where(table.c.id.in_(ids))).all()
    seq, txid = accounts[0][2], accounts[0][3]
    return [*(("customers", str(c), seq, txid) for c in customers), *wanted]


def _record_down(engine: Engine, hall: Hall, acked: tuple[int, int]) -> None:
    """The hall asks from ``acked``: everything before it is applied there.

    An idle hall asks every few seconds; central takes its write lock only when the cursor
    moved or the last contact it recorded is getting old (silence is judged in minutes).
    """
    now = utcnow()
    with Session(engine) as session:
        seen = session.execute(
            select(SyncPeer.down_txid, SyncPeer.down_seq, SyncPeer.last_down_at).where(
                SyncPeer.site_id == hall.site_id
            )
        ).first()
    if seen is None:
        return
    fresh = seen.last_down_at is not None and now - seen.last_down_at < CONTACT_RECORD_EVERY
    if (seen.down_txid, seen.down_seq) == acked and fresh:
        return
    writer = make_session_factory(engine, serialised_writes=True)
    with writer() as session, session.begin():
        peer = session.get(SyncPeer, hall.site_id)
        if peer is not None:
            peer.down_txid, peer.down_seq = acked
            peer.last_down_at = now


def snapshot_meta(engine: Engine, hall: Hall, schema: str) -> dict[str, Any]:
    slice_ = slice_of(engine, hall)
    with Session(engine) as session, session.begin():
        head = safe_head(session)
        counts = {
            s.name: int(
                session.scalar(
                    select(func.count()).select_from(s.table).where(slice_.where(s.name))
                )
                or 0
            )
            for s in SNAPSHOT
        }
        peer = session.get(SyncPeer, hall.site_id)
        up_seq = peer.up_seq if peer else 0
    return {
        "schema": schema,
        "site": hall.code,
        "site_id": str(hall.site_id),
        "cursor": {"txid": head[0], "seq": head[1]},
        "up_seq": up_seq,
        "tables": counts,
    }


def snapshot_page(
    engine: Engine, hall: Hall, name: str, after: str | None, limit: int
) -> tuple[list[WireRow], str | None]:
    """Rows of one table in the hall's slice, in key order, after ``after``."""
    synced = BY_NAME.get(name)
    if synced is None or synced not in SNAPSHOT:
        raise Refused("table", f"no snapshot of {name!r}", 404)
    table = synced.table
    slice_ = slice_of(engine, hall)
    columns = list(table.primary_key.columns)
    query = select(table).where(slice_.where(name)).order_by(*columns).limit(limit)
    if after:
        key = parse_key(table, after)
        query = query.where(tuple_(*columns) > tuple_(*(key[c.name] for c in columns)))
    with Session(engine) as session:
        rows = session.execute(query).all()
    out = [
        WireRow(i + 1, name, "U", key_text(table, dict(r._mapping)), encode_row(table, r))
        for i, r in enumerate(rows)
    ]
    last = out[-1].key if len(out) == limit else None
    return out, last


PRUNE_EVERY_S = 60.0
_last_prune: dict[str, float] = {}


def prune_log(engine: Engine, *, force: bool = False) -> int:
    """Delete the change-log entries every registered hall has applied; the rows they name
    stay, and a hall provisioned later starts from a snapshot, not from the log.

    A registered hall that has not pulled yet (cursor 0) keeps everything: nothing is
    pruned until it has.
    """
    now = time.monotonic()
    key = str(engine.url)
    if not force and now - _last_prune.get(key, float("-inf")) < PRUNE_EVERY_S:
        return 0
    _last_prune[key] = now
    writer = make_session_factory(engine, serialised_writes=True)
    with writer() as session, session.begin():
        cursors = session.execute(
            select(SyncPeer.down_txid, SyncPeer.down_seq).where(SyncPeer.token_sha256.is_not(None))
        ).all()
        if not cursors:
            return 0
        low = min((int(c.down_txid), int(c.down_seq)) for c in cursors)
        if session.get_bind().dialect.name == "postgresql":
            done = tuple_(SyncChange.txid, SyncChange.seq) <= tuple_(*low)
        else:
            done = SyncChange.seq <= low[1]
        result = cast(CursorResult[Any], session.execute(delete(SyncChange).where(done)))
    return int(result.rowcount or 0)
