"""``servicehall device-token``: register a kiosk, counter terminal or screen."""

from __future__ import annotations

import click

from servicehall.cli.root import settings_of


@click.command("device-token")
@click.option("--site", required=True, help="The hall's site code.")
@click.option(
    "--kind", type=click.Choice(["kiosk", "counter_terminal", "hall_screen"]), required=True
)
@click.option("--name", required=True, help="A name for the device, e.g. kiosk-1 or counter-3.")
@click.pass_context
def device_token(ctx: click.Context, site: str, kind: str, name: str) -> None:
    """Register a kiosk, counter terminal or screen and print its API token (shown once)."""
    from servicedb.models import DeviceKind
    from servicehall.hall.tokens import issue_token
    from servicehall.platform.database import close_database, open_database

    settings = settings_of(ctx)
    engine = open_database(settings.database_url(site), auto_upgrade=settings.database.auto_upgrade)
    try:
        click.echo(issue_token(engine, site, DeviceKind(kind), name))
    finally:
        close_database(engine)


def register(cli: click.Group) -> None:
    cli.add_command(device_token)
