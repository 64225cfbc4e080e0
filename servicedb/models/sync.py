"""What sync keeps in each database: the change log, its cursors, the peers, the slices.

One change log serves both directions: at a hall it is the outbox of rows the hall made
(captured by triggers in the business transaction), at central it is the log of rows the
halls must receive. Which tables are captured, and on which side, is
``servicedb.change_capture``; who owns what is ``sync.tables``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from servicedb.base import Base
from servicedb.types import UTCDateTime


class SyncChange(Base):
    """A row was written: which table, which key. The row itself is read when it is sent.

    ``seq`` never goes backwards, even after pruning (SQLite AUTOINCREMENT; a sequence on
    PostgreSQL), because the receiver treats a seq it already has as a duplicate.
    ``txid`` orders the log by commit on PostgreSQL, where sequence order is not commit order
    (0 on SQLite, whose writers are serialised).
    """

    __tablename__ = "sync_changes"
    __table_args__ = ({"sqlite_autoincrement": True},)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    txid: Mapped[int] = mapped_column(BigInteger, default=0)
    # When the change was made (Unix ms, set by the trigger): the age of what is still pending.
    at_ms: Mapped[int] = mapped_column(BigInteger)
    table_name: Mapped[str] = mapped_column(String(40))
    row_key: Mapped[str] = mapped_column(String(200))
    op: Mapped[str] = mapped_column(String(1))  # I, U or D


class SyncRole(Base):
    """One row: 'hall' or 'central'. Without it nothing is captured (a fresh or seeded database)."""

    __tablename__ = "sync_role"

    role: Mapped[str] = mapped_column(String(8), primary_key=True)


class SyncApplying(Base):
    """Holds a row only inside a transaction that applies rows from the other side.

    A hall's capture triggers skip writes while it exists, so rows central sent are not sent
    back; other transactions never see the uncommitted row.
    """

    __tablename__ = "sync_applying"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class SyncCursor(Base):
    """A hall's progress per direction ('up', 'down') and per provisioning table."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger, default=0)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    key: Mapped[str | None] = mapped_column(String(200))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SyncPeer(Base):
    """Central's record of one hall: its token, how far each direction has come, when."""

    __tablename__ = "sync_peers"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    token_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    up_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    up_batches: Mapped[int] = mapped_column(BigInteger, default=0)
    up_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    last_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    down_txid: Mapped[int] = mapped_column(BigInteger, default=0)
    down_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_down_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the hall said about itself on its last contact: rows waiting, the oldest of them.
    hall_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    hall_oldest_pending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    schema_revision: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SiteZone(Base):
    """The zones whose customers a hall keeps (its slice). A hall with none keeps the city."""

    __tablename__ = "site_zones"

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    zone_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("zones.id"), primary_key=True)
