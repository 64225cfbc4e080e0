"""``servicehall report hall``: the day's KPIs as an HTML page with tables and SVG charts."""

from __future__ import annotations

import html
from pathlib import Path
from zoneinfo import ZoneInfo

from domain.queueing.kpis import DayReport
from servicehall.reports.tables import Cell, Kind, Table, tables, text


def _cells(row: tuple[Cell, ...], table: Table, tag: str = "td") -> str:
    out = []
    for cell, column in zip(row, table.columns, strict=True):
        shown = text(cell, column.kind)
        css = ' class="num"' if column.kind is not Kind.TEXT else ""
        out.append(f"<{tag}{css}>{html.escape(shown)}</{tag}>")
    return "".join(out)


def _table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(c.title)}</th>" for c in table.columns)
    body = "".join(f"<tr>{_cells(r, table)}</tr>" for r in table.rows)
    if table.total is not None:
        body += f'<tr class="total">{_cells(table.total, table)}</tr>'
    if not table.rows and table.total is None:
        body = f'<tr><td colspan="{len(table.columns)}">—</td></tr>'
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    return (
        f'<h2 id="{table.key}">{html.escape(table.title)}</h2>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"
    )


def _bars(
    title: str, values: tuple[float | None, ...] | tuple[int, ...], unit: str, colour: str
) -> str:
    hours = [h for h, v in enumerate(values) if v]
    if not hours:
        return f"<h2>{title}</h2><p>—</p>"
    first, last = min(hours), max(hours)
    shown = [(h, float(values[h] or 0)) for h in range(first, last + 1)]
    top = max(v for _, v in shown) or 1.0
    width, height, bar = 40 * len(shown) + 40, 220, 30
    parts = [
        f'<svg width="{width}" height="{height + 56}" role="img" aria-label="{html.escape(title)}">'
    ]
    for i, (hour, value) in enumerate(shown):
        h = value / top * height
        x = 30 + i * 40
        parts.append(
            f'<rect x="{x}" y="{height - h + 26}" width="{bar}" height="{h}" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{x + bar / 2}" y="{height + 44}" text-anchor="middle" font-size="12">{hour}:00</text>'
        )
        parts.append(
            f'<text x="{x + bar / 2}" y="{height - h + 22}" text-anchor="middle" font-size="11">'
            f"{value:.0f}{unit}</text>"
        )
    parts.append("</svg>")
    return f"<h2>{title}</h2>" + "".join(parts)


def write_html(report: DayReport, path: Path) -> Path:
    name = f"{report.name_zh} {report.name_en}"
    check = report.total.accounting
    balance = (
        f'<p class="ok">号票全部核对 All {check.issued} tickets accounted for.</p>'
        if check.unaccounted == 0
        else f'<p class="bad">{check.unaccounted} 张号票未核对 tickets unaccounted for.</p>'
    )
    sections = "\n".join(_table(t) for t in tables(report) if t.key != "by-hour")
    page = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{html.escape(name)} {report.day} 营业厅日报 Hall day report</title>
<style>body{{font-family:"Noto Sans CJK SC",sans-serif;margin:24px;color:#1b2430}}
table{{border-collapse:collapse;margin-bottom:8px}}td,th{{border:1px solid #ccd;padding:4px 8px;text-align:left}}
td.num,th.num{{text-align:right}}th{{background:#eef2f8;font-weight:500}}tr.total td{{font-weight:600}}
.note{{color:#556;font-size:13px;margin:0 0 24px;max-width:1100px}}.ok{{color:#166534}}.bad{{color:#b91c1c;font-weight:600}}
.meta{{color:#556}}</style>
</head><body>
<h1>{html.escape(name)} — 营业厅日报 Hall day report {report.day}</h1>
<p class="meta">站点 Site {html.escape(report.site)} · 时区 Time zone {html.escape(report.timezone)} ·
生成于 Made at {report.made_at.astimezone(ZoneInfo(report.timezone)):%Y-%m-%d %H:%M}</p>
{balance}
{sections}
{_bars("每小时取号 Tickets per hour", report.arrivals_by_hour, "", "#1d4ed8")}
{_bars("每小时平均等候（分钟）Mean wait by hour (min)", report.mean_wait_by_hour, "", "#c1121f")}
</body></html>"""
    path.write_text(page, encoding="utf-8")
    return path


def write_text(report: DayReport) -> str:
    """The summary printed on the terminal."""
    a = report.total.accounting
    lines = [
        f"{report.name_zh} {report.name_en} ({report.site}) {report.day}",
        f"issued {a.issued} = served {a.served} + finished otherwise {a.finished_other}"
        f" + no-shows {a.no_shows} + waiting {a.waiting} + transferred {a.transferred_open}"
        f" + at a counter {a.at_counter} + parked {a.parked}"
        + (f"  (UNACCOUNTED {a.unaccounted})" if a.unaccounted else ""),
    ]
    for f in (*report.by_category, report.total):
        target = f" target {f.target_wait_min} min" if f.target_wait_min is not None else ""
        share = text(f.over_target_share, Kind.SHARE)
        lines.append(
            f"{f.name:32} issued {f.issued:4} served {f.served:4} no-show {f.no_shows:3} "
            f"wait mean {text(f.mean_wait_min, Kind.MINUTES)} p90 {text(f.p90_wait_min, Kind.MINUTES)}"
            f" min{target} over {share}"
        )
    return "\n".join(lines)
