"""Engines and sessions, one factory for every target (SQLite file, PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine; SQLite files get WAL, foreign keys and a busy timeout on every connection."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling is turned off (isolation_level=None) and BEGIN
        # is emitted here, so a writer can ask for BEGIN IMMEDIATE: read-then-write
        # transactions then queue on busy_timeout instead of failing with "database is locked".
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a hall loses power; a committed payment must survive that, not only a crash.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    mode = "IMMEDIATE" if connection.get_execution_options().get("sqlite_immediate") else ""
    connection.exec_driver_sql(f"BEGIN {mode}".strip())


def make_session_factory(
    engine: Engine, *, serialised_writes: bool = False
) -> sessionmaker[Session]:
    """Sessions for ``engine``.

    ``serialised_writes``: on SQLite each transaction takes the write lock at BEGIN, for
    read-then-write work such as calling the next ticket (PostgreSQL uses row locks instead).
    """
    bind = engine.execution_options(sqlite_immediate=True) if serialised_writes else engine
    return sessionmaker(bind, expire_on_commit=False)


def redact_url(url: str) -> str:
    """The URL without its password, fit for logs and health pages."""
    return make_url(url).render_as_string(hide_password=True)
