"""``servicehall report``: the hall's day as tables and charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from servicehall.cli.root import Group, settings_of


@click.group(cls=Group)
def report() -> None:
    """Reports: the hall's day (KPIs per service and counter, with charts)."""


@report.command("hall")
@click.option("--site", help="The hall's site code (default from config).")
@click.option(
    "--day",
    "day_text",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The hall's local day, YYYY-MM-DD.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder for the HTML report.",
)
@click.pass_context
def report_hall(ctx: click.Context, site: str | None, day_text: Any, out_dir: Path) -> None:
    """Write the day's report (HTML: tables and charts) and print the summary."""
    from domain.queueing.kpis import day_report
    from servicehall.platform.database import close_database, open_database
    from servicehall.reports.hall_day import write_html, write_text

    settings = settings_of(ctx)
    site = site or settings.hall.site
    engine = open_database(settings.database_url(site), auto_upgrade=settings.database.auto_upgrade)
    try:
        kpis = day_report(engine, site, day_text.date())
    finally:
        close_database(engine)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = write_html(kpis, out_dir / f"hall-report-{site}-{day_text.date()}.html")
    click.echo(write_text(kpis))
    click.echo(f"report written to {path}")


def register(cli: click.Group) -> None:
    cli.add_command(report)
