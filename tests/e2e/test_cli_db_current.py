"""Commands that only read never create a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_cli import _one_line_error, run

pytestmark = pytest.mark.e2e


def test_db_current_on_a_missing_sqlite_file_says_so_and_creates_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "not-yet"
    result = run("db", "current", env={"SERVICEHALL_PATHS__DATA_DIR": str(data_dir)})
    line = _one_line_error(result)
    assert "no database at sqlite:///" in line and "servicehall db upgrade" in line
    assert not data_dir.exists()  # not the file, not even its folder


def test_db_current_reads_an_existing_database(tmp_path: Path) -> None:
    env = {"SERVICEHALL_PATHS__DATA_DIR": str(tmp_path)}
    assert run("db", "upgrade", env=env).returncode == 0
    result = run("db", "current", env=env)
    assert result.returncode == 0, result.stderr
    current, head = result.stdout.split("current ")[1].strip().split(", head ")
    assert current == head != "None"
