"""Dispatch tests run on SQLite by default; the ones about locking, triggers and SQL that
could differ between engines ask for ``migrated`` and run on PostgreSQL as well."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from servicedb.engine import make_engine


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """A fresh SQLite database at the newest schema (a copy of the run's template)."""
    path = tmp_path / "central.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()
