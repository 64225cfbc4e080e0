"""Open a site's database: reach it, bring it to the schema head, report its health."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import DBAPIError, OperationalError

from servicedb import migrate
from servicedb.engine import make_engine, redact_url
from servicehall.errors import ServiceUnreachable, UserFacingError
from servicehall.platform.health import HealthBoard

log = logging.getLogger(__name__)


class SchemaBehind(UserFacingError):
    pass


class DatabaseMissing(UserFacingError):
    pass


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names; None for other databases and in-memory ones."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # a URI filename (file:…?mode=…): SQLite decides
        return None
    return Path(database).expanduser()


def open_database(
    url: str, *, auto_upgrade: bool, require_head: bool = True, create: bool = True
) -> Engine:
    """Connect (or explain in one line why not) and make sure the schema is at head.

    With ``create=False`` (commands that only read) a missing SQLite file is an error, not
    a new empty database; nothing is made on disk, not even its folder.
    """
    path = sqlite_file(url)
    if not create and path is not None and not path.is_file():
        raise DatabaseMissing(
            f"no database at {redact_url(url)}; create it with `servicehall db upgrade` "
            "(or check --site and the data directory)"
        )
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as err:
        engine.dispose()
        reason = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
        raise ServiceUnreachable(
            f"cannot reach the database at {redact_url(url)}: {reason}"
        ) from err
    if not require_head or migrate.is_at_head(engine):
        return engine
    if not auto_upgrade:
        engine.dispose()
        raise SchemaBehind(
            f"database {redact_url(url)} is at revision {migrate.current_revision(engine)}, "
            f"expected {migrate.head_revision(engine)}; run `servicehall db upgrade`"
        )
    log.info("upgrading %s to %s", redact_url(url), migrate.head_revision(engine))
    migrate.upgrade(engine)
    return engine


def probe_database(engine: Engine, health: HealthBoard) -> bool:
    """One cheap round trip; records the outcome on the health board."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (OperationalError, DBAPIError) as err:
        health.set("database", "disconnected", str(err.orig or err).splitlines()[0])
        return False
    health.set("database", "connected", redact_url(str(engine.url)))
    return True


def close_database(engine: Engine) -> None:
    """Release connections; fold SQLite's WAL back into the main file so a copy is whole."""
    if engine.dialect.name == "sqlite":
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except OperationalError:
            log.warning("could not checkpoint the WAL; it will be replayed on next open")
    engine.dispose()
