"""Register, list and revoke a hall's kiosks, counter terminals and screens.

``servicehall device-token`` registers a device and prints its API token once;
``servicehall terminals list|revoke`` shows what is registered and withdraws a token at once.
"""

from __future__ import annotations

import click

from servicehall.cli.root import Group, open_site_database


@click.command("device-token")
@click.option("--site", required=True, help="The hall's site code.")
@click.option(
    "--kind", type=click.Choice(["kiosk", "counter_terminal", "hall_screen"]), required=True
)
@click.option("--name", required=True, help="A name for the device, e.g. kiosk-1 or counter-3.")
@click.option(
    "--counter",
    "counters",
    type=click.IntRange(1, 999),
    multiple=True,
    help="A counter terminal's counter (repeat for a terminal shared by several).",
)
@click.option(
    "--rekey", is_flag=True, help="Replace the device's token (the old one stops working)."
)
@click.pass_context
def device_token(
    ctx: click.Context, site: str, kind: str, name: str, counters: tuple[int, ...], rekey: bool
) -> None:
    """Register a kiosk, counter terminal or screen and print its API token (shown once)."""
    from servicedb.models import DeviceKind
    from servicehall.hall.tokens import issue_token
    from servicehall.platform.database import close_database

    engine = open_site_database(ctx, site)
    try:
        click.echo(
            issue_token(engine, site, DeviceKind(kind), name, counters=counters, rekey=rekey)
        )
    finally:
        close_database(engine)


@click.group(cls=Group)
def terminals() -> None:
    """The hall's registered kiosks, counter terminals and screens."""


@terminals.command("list")
@click.option("--site", required=True, help="The hall's site code.")
@click.pass_context
def list_terminals(ctx: click.Context, site: str) -> None:
    """Every registered device: kind, counters, whether its token works, its last health."""
    from servicehall.hall.tokens import registered
    from servicehall.platform.database import close_database

    engine = open_site_database(ctx, site)
    try:
        devices = registered(engine, site)
    finally:
        close_database(engine)
    if not devices:
        click.echo(f"no devices registered at {site}")
    for device in devices:
        counters = ",".join(map(str, device.counters)) or "-"
        state = (
            f"revoked {device.revoked_at:%Y-%m-%d %H:%M}Z"
            if device.revoked_at
            else ("active" if device.has_token else "no token")
        )
        click.echo(
            f"{device.name}\t{device.kind.value}\tcounters {counters}\t{state}\t{device.health}"
        )


@terminals.command("revoke")
@click.option("--site", required=True, help="The hall's site code.")
@click.option("--name", required=True, help="The device's name.")
@click.pass_context
def revoke_terminal(ctx: click.Context, site: str, name: str) -> None:
    """Withdraw a device's token: it stops working at once (re-register with device-token --rekey)."""
    from servicehall.hall.tokens import revoke
    from servicehall.platform.database import close_database

    engine = open_site_database(ctx, site)
    try:
        revoke(engine, site, name)
    finally:
        close_database(engine)
    click.echo(f"{name} at {site}: token revoked")


def register(cli: click.Group) -> None:
    cli.add_command(device_token)
    cli.add_command(terminals)
