"""``servicehall central`` and ``servicehall hall``: one process each, stopped cleanly by a signal."""

from __future__ import annotations

import click

from servicehall.cli.root import Group, settings_of
from servicehall.cli.sync import provision_command


@click.command()
@click.option(
    "--port", type=click.IntRange(0, 65535), help="HTTP port (default from config: 8700)."
)
@click.pass_context
def central(ctx: click.Context, port: int | None) -> None:
    """Run the central process: central database, MQTT link, health endpoint."""
    from servicehall.bootstrap import build_central, closing_all
    from servicehall.platform.runner import serve

    with closing_all([build_central(settings_of(ctx), port=port)]) as sites:
        serve([s.endpoint for s in sites])


@click.group(cls=Group, invoke_without_command=True)
@click.option("--site", help="The hall's site code (default from config: hall-xicheng).")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="HTTP port (default from config: 8701)."
)
@click.pass_context
def hall(ctx: click.Context, site: str | None, port: int | None) -> None:
    """Run a hall process: the hall database, the hall API on the LAN, the link to central.

    `servicehall hall --site S` runs the hall; `servicehall hall provision …` builds a new
    hall's database from central first.
    """
    if ctx.invoked_subcommand is not None:
        return
    from servicehall.bootstrap import build_hall, closing_all
    from servicehall.platform.runner import serve

    settings = settings_of(ctx)
    with closing_all([build_hall(settings, site or settings.hall.site, port=port)]) as sites:
        serve([s.endpoint for s in sites])


def register(cli: click.Group) -> None:
    cli.add_command(central)
    hall.add_command(provision_command)
    cli.add_command(hall)
