"""Open a site's database: reach it, bring it to the schema head, report its health."""

from __future__ import annotations

import logging

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError

from servicedb import migrate
from servicedb.engine import make_engine, redact_url
from servicehall.errors import ServiceUnreachable, UserFacingError
from servicehall.platform.health import HealthBoard

log = logging.getLogger(__name__)


class SchemaBehind(UserFacingError):
    pass


def open_database(url: str, *, auto_upgrade: bool, require_head: bool = True) -> Engine:
    """Connect (or explain in one line why not) and make sure the schema is at head."""
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
