"""Fixtures for the field tests. Behaviour that depends on the database's dialect (upserts,
conflicts, window functions) runs on SQLite and PostgreSQL (``migrated``); the rest on a
fresh SQLite copy (``sqlite_db``), to keep the suite quick."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from servicedb.engine import make_engine


@pytest.fixture
def sqlite_db(sqlite_url: str, sqlite_template: Path) -> Iterator[Engine]:
    shutil.copyfile(sqlite_template, sqlite_url.removeprefix("sqlite:///"))
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()
