"""``servicehall demo``: everything on embedded defaults, with a simulated hall day."""

from __future__ import annotations

from pathlib import Path

import click

from servicehall.cli.root import settings_of


@click.command()
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
    from servicehall.demo.run import run_demo

    settings = settings_of(ctx)
    run_demo(
        settings,
        data_dir=data_dir or settings.paths.data_dir / "demo",
        headless=headless,
        minutes=minutes,
        premises=premises,
    )


def register(cli: click.Group) -> None:
    cli.add_command(demo)
