"""``servicehall report hall`` as an operator runs it: files written, and every mistake one line.

A report only reads: a missing database file is not created, an old schema is not migrated.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import servicehall.cli  # noqa: F401 - registers the subcommands on the root group
from servicedb import migrate
from servicedb.engine import make_engine
from servicehall.cli.root import cli
from servicehall.demo.seed import seed_city
from servicehall.platform.database import close_database
from tests.integration.test_report_kpis import DAY, HALL, play_the_morning

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "servicehall"]


def run_cli(
    data_dir: Path, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SERVICEHALL_PATHS__DATA_DIR": str(data_dir)},
        cwd=cwd,
    )


def one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("servicehall: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture(scope="module")
def hall_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the hall's database after the morning of the integration tests."""
    data = tmp_path_factory.mktemp("data")
    engine = make_engine(f"sqlite:///{data}/{HALL}.db")
    migrate.upgrade(engine)
    seed_city(engine, premises=0, as_of=DAY - timedelta(days=1))
    play_the_morning(engine)
    close_database(engine)  # the WAL folded in, so a copy is whole
    # Central's database holds the same sites; a hall's report cannot be made from it.
    shutil.copy(data / f"{HALL}.db", data / "central.db")
    return data


def test_the_report_writes_html_csv_and_xlsx_and_prints_the_balance(
    hall_data: Path, tmp_path: Path
) -> None:
    result = run_cli(hall_data, "report", "hall", "--day", str(DAY), "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "西城营业厅 Xicheng Service Hall" in result.stdout
    assert "issued 9 = served 2 + finished otherwise 1" in result.stdout
    stem = f"hall-report-{HALL}-{DAY}"
    out = tmp_path / "out"
    assert (out / f"{stem}.html").read_text(encoding="utf-8").count("西城营业厅") >= 1
    assert (out / f"{stem}-by-staff.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert load_workbook(out / f"{stem}.xlsx").sheetnames[0] == "reconciliation"
    assert result.stdout.count("written: ") == 7


def test_a_missing_database_is_reported_and_not_created(tmp_path: Path) -> None:
    data = tmp_path / "no-such-folder"
    result = run_cli(data, "report", "hall", "--day", str(DAY), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert f"no database at {data / (HALL + '.db')}" in line
    assert not data.exists()  # neither the file nor its folder
    assert not (tmp_path / "out").exists()


def test_an_old_schema_is_reported_and_not_migrated(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/{HALL}.db")
    migrate.upgrade(engine, "0001")
    engine.dispose()
    result = run_cli(tmp_path, "report", "hall", "--day", str(DAY))
    assert result.returncode == 2
    line = one_line_error(result.stderr)
    assert "is at revision 0001" in line and "servicehall db upgrade" in line
    engine = make_engine(f"sqlite:///{tmp_path}/{HALL}.db")
    assert migrate.current_revision(engine) == "0001"
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--day", "2026-13-01"], "--day '2026-13-01' is not a day as YYYY-MM-DD"),
        (["--day", "yesterday"], "is not a day as YYYY-MM-DD"),
        ([], "Missing option '--day'"),
        (["--day", str(DAY), "--colour"], "No such option '--colour'"),
        (["--day", str(DAY), "--site", "hall-nowhere"], "hall-nowhere.db; check --site"),
        (["--day", str(DAY), "--site", "central"], "halls here: hall-guanganmen, hall-xicheng"),
        (["--day", str(DAY), "--out", "{file}"], "cannot write the report to"),
    ],
)
def test_every_mistake_is_one_line_and_a_non_zero_exit(
    hall_data: Path, tmp_path: Path, args: list[str], says: str
) -> None:
    a_file = tmp_path / "report.txt"
    a_file.write_text("not a folder")
    args = [a.replace("{file}", str(a_file)) for a in args]
    runner = CliRunner(env={"SERVICEHALL_PATHS__DATA_DIR": str(hall_data)})
    result = runner.invoke(cli, ["report", "hall", *args], prog_name="servicehall")
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert says in one_line_error(result.stderr)
