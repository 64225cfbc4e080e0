"""``servicehall report``: the hall's day as tables and charts (HTML), CSV and XLSX.

A report only reads: it never creates or migrates a database (``reports.source``), and every
mistake (a day that is no date, an unknown hall, a folder it cannot write) is one line and a
non-zero exit.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from servicehall.cli.root import Group, settings_of
from servicehall.errors import UserFacingError


class ReportMistake(UserFacingError):
    pass


class OneLineCommand(click.Command):
    """Click prints usage and a blank line around a bad option; here it is one line, like the
    rest of servicehall's errors (the report Group turns ReportMistake into that line)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as err:
            path = f"{parent.command_path} {info_name}" if parent else info_name
            raise ReportMistake(f"{err.format_message()} (see `{path} --help`)") from err


@click.group(cls=Group)
def report() -> None:
    """Reports: the hall's day (KPIs per service, counter and staff, with charts)."""


@report.command("hall", cls=OneLineCommand)
@click.option("--site", help="The hall's site code (default from config).")
@click.option(
    "--day",
    "day_text",
    required=True,
    metavar="YYYY-MM-DD",
    help="The hall's local day.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder for the report files (HTML, CSV, XLSX).",
)
@click.pass_context
def report_hall(ctx: click.Context, site: str | None, day_text: str, out_dir: Path) -> None:
    """Write the day's report (HTML with charts, CSV per table, one XLSX) and print the summary."""
    from domain.queueing.kpis import NoSuchHall, day_report
    from servicehall.platform.database import close_database
    from servicehall.reports.export import write_spreadsheets
    from servicehall.reports.hall_day import write_html, write_text
    from servicehall.reports.source import open_for_reading

    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        raise ReportMistake(f"--day {day_text!r} is not a day as YYYY-MM-DD") from None
    settings = settings_of(ctx)
    site = site or settings.hall.site
    engine = open_for_reading(settings.database_url(site))
    try:
        kpis = day_report(engine, site, day)
    except NoSuchHall as err:
        raise ReportMistake(str(err)) from err
    finally:
        close_database(engine)
    stem = f"hall-report-{site}-{day}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = [
            write_html(kpis, out_dir / f"{stem}.html"),
            *write_spreadsheets(kpis, out_dir, stem),
        ]
    except OSError as err:
        raise ReportMistake(f"cannot write the report to {out_dir}: {err.strerror or err}") from err
    click.echo(write_text(kpis))
    if kpis.total.issued == 0:
        click.echo(f"no tickets were issued at {site} on {day}")
    for path in paths:
        click.echo(f"written: {path}")


def register(cli: click.Group) -> None:
    cli.add_command(report)
