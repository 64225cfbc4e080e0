"""The root ``servicehall`` group: options, settings, and how user mistakes are reported."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import Engine

from servicehall import __version__
from servicehall.config import Settings, load_settings
from servicehall.errors import UserFacingError

log = logging.getLogger("servicehall")
FC = TypeVar("FC", bound=Callable[..., Any])


class Group(click.Group):
    """Turns a user's mistake into one line on stderr and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserFacingError as err:
            click.echo(f"servicehall: error: {err}", err=True)
            ctx.exit(err.exit_code)


def settings_of(ctx: click.Context) -> Settings:
    settings = ctx.find_root().obj
    assert isinstance(settings, Settings)  # noqa: S101 - set by the root command
    return settings


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
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


def site_option(default_help: str) -> Callable[[FC], FC]:
    return click.option(
        "--site", help=f"Site code whose database to use (default: {default_help})."
    )


def open_site_database(ctx: click.Context, site: str) -> Engine:
    """The site's database for a command that works on an existing hall: never creates one."""
    from servicehall.platform.database import open_database

    settings = settings_of(ctx)
    return open_database(
        settings.database_url(site), auto_upgrade=settings.database.auto_upgrade, create=False
    )
