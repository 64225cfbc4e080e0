"""The day report as tables: one layout that the HTML page, the CSV files and the workbook share.

Cells keep their type (counts, minutes, shares, hours); each writer formats them its own way,
so a spreadsheet gets numbers it can sum, not text that looks like numbers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from domain.queueing.kpis import Accounting, DayReport, Figures, StaffFigures

Cell = int | float | str | None


class Kind(enum.Enum):
    TEXT = "text"
    COUNT = "count"
    MINUTES = "minutes"
    SHARE = "share"  # a fraction 0–1, shown as a percentage
    RATING = "rating"
    HOURS = "hours"


@dataclass(frozen=True)
class Column:
    title: str  # zh first, then en
    kind: Kind


@dataclass(frozen=True)
class Table:
    key: str  # file and sheet name: by-service, by-counter …
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    total: tuple[Cell, ...] | None = None  # the sum row, shown apart
    note: str = ""


_FIGURE_COLUMNS = (
    Column("取号 Issued", Kind.COUNT),
    Column("办结 Served", Kind.COUNT),
    Column("过号 No-shows", Kind.COUNT),
    Column("平均等候 Mean wait (min)", Kind.MINUTES),
    Column("P90 等候 P90 wait (min)", Kind.MINUTES),
    Column("平均办理 Mean service (min)", Kind.MINUTES),
    Column("P90 办理 P90 service (min)", Kind.MINUTES),
    Column("超时人数 Over target", Kind.COUNT),
    Column("超时占比 Share over target", Kind.SHARE),
    Column("满意度 Rating", Kind.RATING),
    Column("评价数 Ratings", Kind.COUNT),
)

_BOX_COLUMNS = (
    ("办结 Served", "served"),
    ("其他结果 Finished otherwise", "finished_other"),
    ("过号 No-shows", "no_shows"),
    ("仍在等候 Still waiting", "waiting"),
    ("转办待叫 Transferred, waiting", "transferred_open"),
    ("窗口办理中 At a counter", "at_counter"),
    ("暂挂 Parked", "parked"),
)


def _figure_cells(f: Figures) -> tuple[Cell, ...]:
    return (
        f.issued,
        f.served,
        f.no_shows,
        f.mean_wait_min,
        f.p90_wait_min,
        f.mean_service_min,
        f.p90_service_min,
        f.over_target,
        f.over_target_share,
        f.mean_rating,
        f.ratings,
    )


def _accounting_cells(name: str, a: Accounting) -> tuple[Cell, ...]:
    return (
        name,
        a.issued,
        *(getattr(a, box) for _, box in _BOX_COLUMNS),
        a.unaccounted,
    )


def _staff_cells(s: StaffFigures) -> tuple[Cell, ...]:
    return (
        s.staff,
        " ".join(str(c) for c in s.counters),
        s.signed_in_h,
        s.called,
        s.served,
        s.finished_other,
        s.no_shows,
        s.mean_service_min,
        s.p90_service_min,
        s.served_per_hour,
        s.mean_rating,
        s.ratings,
    )


def tables(report: DayReport) -> tuple[Table, ...]:
    reconciliation = Table(
        "reconciliation",
        "号票核对 Where every ticket went",
        (
            Column("业务 Service", Kind.TEXT),
            Column("取号 Issued", Kind.COUNT),
            *(Column(title, Kind.COUNT) for title, _ in _BOX_COLUMNS),
            Column("未核对 Unaccounted", Kind.COUNT),
        ),
        tuple(_accounting_cells(f.name, f.accounting) for f in report.by_category),
        _accounting_cells(report.total.name, report.total.accounting),
        "取号 = 办结 + 其他结果 + 过号 + 仍在等候 + 转办待叫 + 窗口办理中 + 暂挂；未核对应为 0。"
        " Issued = served + finished otherwise + no-shows + still waiting + transferred and"
        " waiting + at a counter + parked; unaccounted must be 0.",
    )
    by_service = Table(
        "by-service",
        "按业务 By service",
        (
            Column("业务 Service", Kind.TEXT),
            Column("目标等候 Target wait (min)", Kind.COUNT),
            *_FIGURE_COLUMNS,
        ),
        tuple((f.name, f.target_wait_min, *_figure_cells(f)) for f in report.by_category),
        (report.total.name, None, *_figure_cells(report.total)),
        "超时：叫号前等候超过该业务目标时间（不含免取号）。"
        " Over target: waited longer than the service's target before being called"
        " (walk-ins excluded).",
    )
    by_counter = Table(
        "by-counter",
        "按窗口 By counter",
        (Column("窗口 Counter", Kind.TEXT), *_FIGURE_COLUMNS),
        tuple((f.name, *_figure_cells(f)) for f in report.by_counter),
        note="窗口：最后叫号或办理该号票的窗口。 Counter: where the ticket was last called or served.",
    )
    by_staff = Table(
        "by-staff",
        "按员工 By staff",
        (
            Column("员工 Staff", Kind.TEXT),
            Column("窗口 Counters", Kind.TEXT),
            Column("签到时长 Signed in (h)", Kind.HOURS),
            Column("叫号 Called", Kind.COUNT),
            Column("办结 Served", Kind.COUNT),
            Column("其他结果 Finished otherwise", Kind.COUNT),
            Column("过号 No-shows", Kind.COUNT),
            Column("平均办理 Mean service (min)", Kind.MINUTES),
            Column("P90 办理 P90 service (min)", Kind.MINUTES),
            Column("每小时办结 Served per hour", Kind.RATING),
            Column("满意度 Rating", Kind.RATING),
            Column("评价数 Ratings", Kind.COUNT),
        ),
        tuple(_staff_cells(s) for s in report.by_staff),
        note="号票记在叫号时在该窗口签到的员工名下。"
        " A ticket counts for whoever was signed in at its counter when it was called.",
    )
    hourly = Table(
        "by-hour",
        "每小时 By hour",
        (
            Column("时段 Hour", Kind.TEXT),
            Column("取号 Issued", Kind.COUNT),
            Column("平均等候 Mean wait (min)", Kind.MINUTES),
        ),
        tuple(
            (f"{hour:02d}:00", report.arrivals_by_hour[hour], report.mean_wait_by_hour[hour])
            for hour in range(24)
            if report.arrivals_by_hour[hour]
        ),
    )
    return reconciliation, by_service, by_counter, by_staff, hourly


def text(cell: Cell, kind: Kind) -> str:
    """A cell as people read it on the page and in the terminal."""
    if cell is None:
        return "—"
    if kind is Kind.SHARE and isinstance(cell, float):
        return f"{cell:.0%}"
    if kind in (Kind.MINUTES, Kind.RATING, Kind.HOURS) and isinstance(cell, float):
        return f"{cell:.1f}"
    return str(cell)
