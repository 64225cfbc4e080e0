"""``servicehall report hall``: the day's KPIs as an HTML page with tables and SVG charts."""

from __future__ import annotations

import html
from pathlib import Path

from domain.queueing.kpis import DayReport, Figures

_COLUMNS = (
    "",
    "取号 Issued",
    "办结 Served",
    "过号 No-shows",
    "平均等候 Mean wait",
    "P90 等候 wait",
    "平均办理 Mean service",
    "P90 办理 service",
    "超时占比 Over target",
    "满意度 Rating",
)


def _fmt(value: float | None, unit: str = " min") -> str:
    return "—" if value is None else f"{value:.1f}{unit}"


def _row(f: Figures, css: str = "") -> str:
    share = "—" if f.over_target_share is None else f"{f.over_target_share:.0%}"
    cells = (
        html.escape(f.name),
        f.issued,
        f.served,
        f.no_shows,
        _fmt(f.mean_wait_min),
        _fmt(f.p90_wait_min),
        _fmt(f.mean_service_min),
        _fmt(f.p90_service_min),
        share,
        _fmt(f.mean_rating, ""),
    )
    opening = f'<tr class="{css}">' if css else "<tr>"
    return opening + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _table(title: str, rows: tuple[Figures, ...], total: Figures | None = None) -> str:
    head = "".join(f"<th>{c}</th>" for c in _COLUMNS)
    body = "".join(_row(r) for r in rows) + (_row(total, "total") if total else "")
    return f"<h2>{title}</h2><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


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
    page = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>{report.site} {report.day} 营业厅日报 Hall day report</title>
<style>body{{font-family:"Noto Sans CJK SC",sans-serif;margin:24px;color:#1b2430}}
table{{border-collapse:collapse;margin-bottom:24px}}td,th{{border:1px solid #ccd;padding:4px 8px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}th{{background:#eef2f8;font-weight:500}}tr.total td{{font-weight:600}}</style>
</head><body>
<h1>营业厅日报 Hall day report — {html.escape(report.site)} {report.day}</h1>
{_table("按业务 By service", report.by_category, report.total)}
{_table("按窗口 By counter", report.by_counter)}
{_bars("每小时取号 Tickets per hour", report.arrivals_by_hour, "", "#1d4ed8")}
{_bars("每小时平均等候（分钟）Mean wait by hour (min)", report.mean_wait_by_hour, "", "#c1121f")}
</body></html>"""
    path.write_text(page, encoding="utf-8")
    return path


def write_text(report: DayReport) -> str:
    lines = [f"{report.site} {report.day}"]
    for f in (*report.by_category, report.total):
        lines.append(
            f"{f.name:32} issued {f.issued:4} served {f.served:4} no-show {f.no_shows:3} "
            f"wait mean {_fmt(f.mean_wait_min)} p90 {_fmt(f.p90_wait_min)}"
        )
    return "\n".join(lines)
