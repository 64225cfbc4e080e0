"""Fixtures for real services: SQLite files, the PostgreSQL and Mosquitto on this machine.

Without PostgreSQL or Mosquitto a test that needs them is skipped with a reason; under CI
(``CI=true``) a missing service is a failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from servicedb import migrate
from servicedb.engine import make_engine
from servicehall.platform.embedded_broker import EmbeddedBroker

PG_ADMIN_URL = os.environ.get(
    "SERVICEHALL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
MOSQUITTO = (
    os.environ.get("SERVICEHALL_TEST_MQTT_HOST", "127.0.0.1"),
    int(os.environ.get("SERVICEHALL_TEST_MQTT_PORT", "1883")),
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def service_missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required under CI but is not reachable")
    pytest.skip(f"{what} is not reachable on this machine")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        engine.dispose()
        service_missing(f"PostgreSQL at {PG_ADMIN_URL}")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin: Engine) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"servicehall_test_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with pg_admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    return f"sqlite:///{tmp_path}/hall.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head per test run; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template(pg_admin: Engine) -> Iterator[str]:
    """One PostgreSQL database migrated to head per test run, copied for each test (TEMPLATE)."""
    name = f"servicehall_template_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    migrate.upgrade(engine)
    engine.dispose()  # a template must have no connections when it is copied
    yield name
    with pg_admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def migrated(request: pytest.FixtureRequest, db_url: str) -> Iterator[Engine]:
    """An empty database at the newest schema: a copy of a template migrated once per run
    (the migrations themselves are tested in test_migrations.py)."""
    if db_url.startswith("sqlite"):
        shutil.copyfile(
            request.getfixturevalue("sqlite_template"), db_url.removeprefix("sqlite:///")
        )
    else:
        template = request.getfixturevalue("pg_template")
        admin: Engine = request.getfixturevalue("pg_admin")
        database = db_url.rsplit("/", 1)[1]
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{database}"'))
            connection.execute(text(f'CREATE DATABASE "{database}" TEMPLATE "{template}"'))
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def mosquitto() -> tuple[str, int]:
    if not _reachable(*MOSQUITTO):
        service_missing(f"Mosquitto at {MOSQUITTO[0]}:{MOSQUITTO[1]}")
    return MOSQUITTO


@pytest.fixture(scope="session")
def embedded_broker() -> Iterator[tuple[str, int]]:
    broker = EmbeddedBroker()
    broker.start()
    yield broker.host, broker.port
    broker.stop()


@pytest.fixture(params=["embedded", "mosquitto"])
def broker(request: pytest.FixtureRequest) -> tuple[str, int]:
    """Each test using this runs against the embedded broker and against Mosquitto."""
    where: tuple[str, int] = request.getfixturevalue(
        "embedded_broker" if request.param == "embedded" else "mosquitto"
    )
    return where
