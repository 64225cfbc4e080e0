"""``servicehall kiosk``: the self-service kiosk, talking only to its hall's API and its own
devices. Devices are ports / URLs, or ``simulated`` (the same bytes over a pty or TCP).

    servicehall kiosk --hall http://hall.lan:8701 --token "$KIOSK_TOKEN" \\
        --printer /dev/ttyUSB0 --card-reader /dev/ttyUSB1 --acquirer 10.1.2.3:5000

The options are the kiosk's own (``kiosk.cli``; ``python -m kiosk`` is the same command
without the rest of servicehall's command line, for a quick start at boot). Here only
``--walkthrough DIR`` is added: the demo's scripted customer goes through the real app,
keeps a screenshot of every screen and the receipts in DIR, and the kiosk exits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kiosk.cli import kiosk_options, make_options


@click.command()
@kiosk_options
@click.option(
    "--walkthrough",
    type=click.Path(path_type=Path),
    help="Run the demo's scripted customer; keep screenshots and receipts here; exit.",
)
def kiosk(walkthrough: Path | None, **values: Any) -> None:
    """Run the self-service kiosk (full screen, touch) for a hall."""
    from kiosk.process import run_kiosk

    options = make_options(**values, out_dir=walkthrough, scripted=walkthrough is not None)
    if walkthrough is None:
        run_kiosk(options)
        return
    from servicehall.demo.kiosk_walkthrough import walk

    run_kiosk(options, script=lambda driver, parts: walk(driver, parts, walkthrough))


def register(cli: click.Group) -> None:
    cli.add_command(kiosk)
