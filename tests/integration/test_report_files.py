"""The day report's files: HTML for people, CSV that Excel in China opens right, an XLSX workbook."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from domain.queueing.kpis import DayReport, day_report
from servicedb import migrate
from servicedb.engine import make_engine
from servicehall.demo.seed import seed_city
from servicehall.reports.export import write_spreadsheets
from servicehall.reports.hall_day import write_html, write_text
from tests.integration.test_report_kpis import DAY, HALL, NINE, play_the_morning

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> DayReport:
    engine: Engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('files')}/hall.db")
    migrate.upgrade(engine)
    seed_city(engine, premises=0, as_of=DAY - timedelta(days=1))
    play_the_morning(engine)
    made = day_report(engine, HALL, DAY, now=NINE + timedelta(hours=1))
    engine.dispose()
    return made


def test_csv_files_start_with_a_bom_and_keep_numbers_as_numbers(
    report: DayReport, tmp_path: Path
) -> None:
    paths = write_spreadsheets(report, tmp_path, "day")
    assert sorted(p.name for p in paths) == [
        "day-by-counter.csv",
        "day-by-hour.csv",
        "day-by-service.csv",
        "day-by-staff.csv",
        "day-reconciliation.csv",
        "day.xlsx",
    ]
    raw = (tmp_path / "day-by-service.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads the rest as UTF-8, not GBK
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:3] == ["业务 Service", "目标等候 Target wait (min)", "取号 Issued"]
    assert "超时占比 Share over target (%)" in rows[0]
    payment = dict(zip(rows[0], rows[1], strict=True))
    assert payment["业务 Service"] == "A 缴费 Bill payment"
    assert payment["目标等候 Target wait (min)"] == "10"
    assert payment["超时占比 Share over target (%)"] == "75.0"
    assert payment["平均等候 Mean wait (min)"] == "17.5"  # (10 + 15 + 22 + 23) / 4
    reconciliation = list(
        csv.reader((tmp_path / "day-reconciliation.csv").read_text("utf-8-sig").splitlines())
    )
    assert reconciliation[-1] == ["全部 All", "9", "2", "1", "1", "1", "1", "2", "1", "0"]


def test_the_workbook_has_a_sheet_per_table_with_typed_cells(
    report: DayReport, tmp_path: Path
) -> None:
    write_spreadsheets(report, tmp_path, "day")
    book = load_workbook(tmp_path / "day.xlsx")
    assert book.sheetnames == ["reconciliation", "by-service", "by-counter", "by-staff", "by-hour"]
    sheet = book["by-service"]
    assert sheet["A1"].value == f"西城营业厅 Xicheng Service Hall {DAY} — 按业务 By service"
    header = [c.value for c in sheet[2]]
    share = header.index("超时占比 Share over target") + 1
    assert sheet.cell(3, share).value == 0.75 and sheet.cell(3, share).number_format == "0.0%"
    staff = book["by-staff"]
    assert [staff.cell(r, 1).value for r in (3, 4, 5)] == ["S001 王芳", "S003 张伟", "S004 刘洋"]
    assert staff.cell(3, 3).value == pytest.approx(40 / 60)  # 王芳's hours, a number


def test_the_page_names_the_hall_and_shows_the_balance(report: DayReport, tmp_path: Path) -> None:
    page = write_html(report, tmp_path / "day.html").read_text(encoding="utf-8")
    assert "西城营业厅 Xicheng Service Hall" in page
    assert "All 9 tickets accounted for" in page
    for title in ("号票核对", "按业务 By service", "按员工 By staff", "目标等候 Target wait"):
        assert title in page
    summary = write_text(report)
    assert summary.splitlines()[0] == "西城营业厅 Xicheng Service Hall (hall-xicheng) 2026-11-23"
    assert "issued 9 = served 2 + finished otherwise 1 + no-shows 1" in summary
