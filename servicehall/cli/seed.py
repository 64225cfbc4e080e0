"""``servicehall seed``: build the demo city into an empty database."""

from __future__ import annotations

from typing import Any

import click

from servicehall.cli.root import settings_of, site_option


@click.command()
@site_option("the central site")
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
    from servicehall.demo.seeding import run_seed

    settings = settings_of(ctx)
    run_seed(
        settings,
        site or settings.central.site,
        premises=premises,
        seed=seed_value,
        as_of=as_of.date() if as_of else None,
        show_progress=True,
    )


def register(cli: click.Group) -> None:
    cli.add_command(seed)
