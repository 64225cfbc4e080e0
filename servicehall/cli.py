"""The ``servicehall`` command."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from servicehall import __version__
from servicehall.config import Settings, load_settings
from servicehall.errors import UserFacingError

log = logging.getLogger("servicehall")
FC = TypeVar("FC", bound=Callable[..., Any])


class _Group(click.Group):
    """Turns a user's mistake into one line on stderr and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserFacingError as err:
            click.echo(f"servicehall: error: {err}", err=True)
            ctx.exit(err.exit_code)


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings)  # noqa: S101 - set by the root command
    return settings


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="TOML configuration file (default: $SERVICEHALL_CONFIG, else built-in defaults).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(__version__, prog_name="servicehall")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: int) -> None:
    """servicehall — customer service for a water or telecom utility.

    Service halls with kiosks and LED boards, field dispatch, one service database.
    """
    level = logging.DEBUG if verbose > 1 else logging.INFO
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    )
    if not verbose:
        for noisy in ("amqtt", "transitions", "httpx", "uvicorn.error", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        ctx.obj = load_settings(config_path)
    except UserFacingError as err:
        click.echo(f"servicehall: error: {err}", err=True)
        ctx.exit(err.exit_code)


@cli.group(cls=_Group)
def db() -> None:
    """Create and migrate a site's database."""


def _site_option(default_help: str) -> Callable[[FC], FC]:
    return click.option(
        "--site", help=f"Site code whose database to use (default: {default_help})."
    )


@db.command("upgrade")
@_site_option("the central site")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_context
def db_upgrade(ctx: click.Context, site: str | None, revision: str) -> None:
    """Migrate the database to REVISION (creates an SQLite file if missing)."""
    from servicedb import migrate
    from servicedb.engine import redact_url
    from servicehall.database import close_database, open_database

    settings = _settings(ctx)
    url = settings.database_url(site or settings.central.site)
    engine = open_database(url, auto_upgrade=False, require_head=False)
    try:
        migrate.upgrade(engine, revision)
        click.echo(f"{redact_url(url)} is at revision {migrate.current_revision(engine)}")
    finally:
        close_database(engine)


@db.command("current")
@_site_option("the central site")
@click.pass_context
def db_current(ctx: click.Context, site: str | None) -> None:
    """Print the database's revision and the code's head revision."""
    from servicedb import migrate
    from servicedb.engine import make_engine, redact_url

    settings = _settings(ctx)
    url = settings.database_url(site or settings.central.site)
    engine = make_engine(url)
    try:
        click.echo(
            f"{redact_url(url)}: current {migrate.current_revision(engine)}, "
            f"head {migrate.head_revision(engine)}"
        )
    finally:
        engine.dispose()


@cli.command()
@_site_option("the central site")
@click.option(
    "--premises",
    type=click.IntRange(0, 5_000_000),
    default=2_000,
    show_default=True,
    help="How many premises (with customers, accounts, meters, 12 months of readings and bills).",
)
@click.option(
    "--seed",
    "seed_value",
    type=int,
    default=20261122,
    show_default=True,
    help="Random seed; the same seed gives the same city.",
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Last day of the seeded history (default: today).",
)
@click.pass_context
def seed(ctx: click.Context, site: str | None, premises: int, seed_value: int, as_of: Any) -> None:
    """Build the demo city (Xicheng District, Beijing) into an empty database."""
    from servicehall.seeding import run_seed

    settings = _settings(ctx)
    run_seed(
        settings,
        site or settings.central.site,
        premises=premises,
        seed=seed_value,
        as_of=as_of.date() if as_of else None,
        show_progress=True,
    )


@cli.command()
@click.option(
    "--port", type=click.IntRange(0, 65535), help="HTTP port (default from config: 8700)."
)
@click.pass_context
def central(ctx: click.Context, port: int | None) -> None:
    """Run the central process: central database, MQTT link, health endpoint."""
    from servicehall.launch import run_central

    run_central(_settings(ctx), port=port)


@cli.command()
@click.option("--site", help="The hall's site code (default from config: hall-xicheng).")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="HTTP port (default from config: 8701)."
)
@click.pass_context
def hall(ctx: click.Context, site: str | None, port: int | None) -> None:
    """Run a hall process: the hall database, the hall API on the LAN, the link to central."""
    from servicehall.launch import run_hall

    settings = _settings(ctx)
    run_hall(settings, site or settings.hall.site, port=port)


@cli.group(cls=_Group)
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
    from servicehall.database import close_database, open_database
    from servicehall.report import write_html, write_text

    settings = _settings(ctx)
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


@cli.command("device-token")
@click.option("--site", required=True, help="The hall's site code.")
@click.option(
    "--kind", type=click.Choice(["kiosk", "counter_terminal", "hall_screen"]), required=True
)
@click.option("--name", required=True, help="A name for the device, e.g. kiosk-1 or counter-3.")
@click.pass_context
def device_token(ctx: click.Context, site: str, kind: str, name: str) -> None:
    """Register a kiosk, counter terminal or screen and print its API token (shown once)."""
    from servicedb.models import DeviceKind
    from servicehall.database import close_database, open_database
    from servicehall.device_tokens import issue_token

    settings = _settings(ctx)
    engine = open_database(settings.database_url(site), auto_upgrade=settings.database.auto_upgrade)
    try:
        click.echo(issue_token(engine, site, DeviceKind(kind), name))
    finally:
        close_database(engine)


@cli.command()
@click.option("--headless", is_flag=True, help="No windows, even where a display is available.")
@click.option(
    "--minutes",
    type=click.FloatRange(min=0, min_open=True),
    help="Stop by itself after this many minutes and exit 0.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Where the demo keeps its databases and output (default: <data_dir>/demo).",
)
@click.option(
    "--premises",
    type=click.IntRange(0, 1_000_000),
    default=2_000,
    show_default=True,
    help="Size of the demo city.",
)
@click.pass_context
def demo(
    ctx: click.Context, headless: bool, minutes: float | None, data_dir: Path | None, premises: int
) -> None:
    """Run everything on embedded defaults: MQTT broker, central and one hall, seeded."""
    from servicehall.demo import run_demo

    settings = _settings(ctx)
    run_demo(
        settings,
        data_dir=data_dir or settings.paths.data_dir / "demo",
        headless=headless,
        minutes=minutes,
        premises=premises,
    )


def _register_devices() -> None:
    from servicehall.devices_cli import devices

    cli.add_command(devices)


_register_devices()


def main() -> None:
    cli(prog_name="servicehall")
