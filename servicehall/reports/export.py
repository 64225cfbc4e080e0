"""The day report for spreadsheets: CSV files (UTF-8 with a BOM) and one XLSX workbook.

Excel in China opens a CSV as GBK unless the file starts with a UTF-8 byte order mark, and
then shows 缴费 as mojibake; ``utf-8-sig`` writes the mark. Numbers stay numbers: minutes
and hours with one decimal, shares as fractions in the workbook (formatted as %) and as
percentages in the CSV, whose header says so.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from domain.queueing.kpis import DayReport
from servicehall.reports.tables import Cell, Column, Kind, Table, tables

_XLSX_FORMATS = {
    Kind.COUNT: "0",
    Kind.MINUTES: "0.0",
    Kind.HOURS: "0.0",
    Kind.RATING: "0.0",
    Kind.SHARE: "0.0%",
}


def _csv_cell(cell: Cell, column: Column) -> Cell:
    if isinstance(cell, float):
        return round(cell * 100, 1) if column.kind is Kind.SHARE else round(cell, 2)
    return "" if cell is None else cell


def _csv_title(column: Column) -> str:
    return f"{column.title} (%)" if column.kind is Kind.SHARE else column.title


def write_csv(table: Table, path: Path) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([_csv_title(c) for c in table.columns])
        for row in (*table.rows, *((table.total,) if table.total else ())):
            writer.writerow(
                [_csv_cell(cell, c) for cell, c in zip(row, table.columns, strict=True)]
            )
    return path


def write_xlsx(report: DayReport, path: Path) -> Path:
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="EEF2F8")
    for table in tables(report):
        sheet = book.create_sheet(table.key)
        sheet.append([f"{report.name_zh} {report.name_en} {report.day} — {table.title}"])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([c.title for c in table.columns])
        for cell in sheet[2]:
            cell.font, cell.fill = bold, head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        rows = [*table.rows, *((table.total,) if table.total else ())]
        for row in rows:
            sheet.append(list(row))
            for cell, column in zip(sheet[sheet.max_row], table.columns, strict=True):
                if column.kind in _XLSX_FORMATS:
                    cell.number_format = _XLSX_FORMATS[column.kind]
        if table.total:
            for cell in sheet[sheet.max_row]:
                cell.font = bold
        if table.note:
            sheet.append([])
            sheet.append([table.note])
        for index, column in enumerate(table.columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = (
                34 if column.kind is Kind.TEXT else 14
            )
        sheet.freeze_panes = "B3"
    book.save(path)
    return path


def write_spreadsheets(report: DayReport, folder: Path, stem: str) -> list[Path]:
    """``stem``-<table>.csv for each table, and ``stem``.xlsx with one sheet per table."""
    paths = [write_csv(t, folder / f"{stem}-{t.key}.csv") for t in tables(report)]
    paths.append(write_xlsx(report, folder / f"{stem}.xlsx"))
    return paths
