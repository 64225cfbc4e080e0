"""The kiosk's command line, shared by ``servicehall kiosk`` and ``python -m kiosk``.

A kiosk is an appliance that a service manager starts at boot: ``python -m kiosk`` starts
it without loading the rest of servicehall's command line (its database and server code),
which is most of a cold start. ``servicehall kiosk`` is the same command, options and all,
plus the demo's scripted customer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kiosk.config import Panel
from kiosk.process import KioskOptions

F = TypeVar("F", bound=Callable[..., Any])


def _device(value: str) -> str | None:
    return None if value.lower() in ("", "none", "off") else value


def kiosk_options(command: F) -> F:
    """The kiosk's options, as click decorators (outermost last)."""
    decorators = [
        click.option("--hall", "hall_url", required=True, help="The hall API's base URL."),
        click.option(
            "--token",
            envvar="KIOSK_TOKEN",
            required=True,
            help="This kiosk's device token (or $KIOSK_TOKEN, which stays out of the process list).",
        ),
        click.option(
            "--printer",
            default="simulated",
            show_default=True,
            help="Receipt printer: port, URL (tcp://, usb://, serial://), 'simulated' or 'none'.",
        ),
        click.option(
            "--card-reader",
            default="simulated",
            show_default=True,
            help="Magnetic-stripe reader: serial port, 'simulated' or 'none'.",
        ),
        click.option(
            "--acquirer",
            default="simulated",
            show_default=True,
            help="ISO 8583 acquirer HOST:PORT, 'simulated' or 'none'.",
        ),
        click.option(
            "--pinpad",
            default="simulated",
            show_default=True,
            help="PIN pad: 'simulated' or 'none'.",
        ),
        click.option(
            "--terminal-id",
            default="KIOSK001",
            show_default=True,
            help="The acquirer's terminal id (8 characters).",
        ),
        click.option(
            "--merchant-id",
            default="898110048160001",
            show_default=True,
            help="The acquirer's merchant id (15 characters).",
        ),
        click.option(
            "--panel",
            default="1080x1920",
            show_default=True,
            help="The panel's exact size, WIDTHxHEIGHT (portrait when taller).",
        ),
        click.option(
            "--windowed",
            is_flag=True,
            help="A normal window with a cursor (development), not kiosk mode.",
        ),
        click.option(
            "--headless",
            is_flag=True,
            help="No display: render offscreen (SDL_VIDEODRIVER=offscreen).",
        ),
        click.option("--speak", is_flag=True, help="Spoken prompts (espeak-ng)."),
        click.option(
            "--state-dir",
            type=click.Path(path_type=Path),
            default=Path("var/kiosk"),
            show_default=True,
            help="The payment journals and the acquirer's STAN.",
        ),
        click.option(
            "--account-prefix",
            default="XC",
            show_default=True,
            help="The area letters before an account's nine digits.",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def make_options(
    *,
    hall_url: str,
    token: str,
    printer: str,
    card_reader: str,
    acquirer: str,
    pinpad: str,
    terminal_id: str,
    merchant_id: str,
    panel: str,
    windowed: bool,
    headless: bool,
    speak: bool,
    state_dir: Path,
    account_prefix: str,
    out_dir: Path | None = None,
    scripted: bool = False,
) -> KioskOptions:
    """Options from the command line; ``click.UsageError`` (exit 2) for a mistake."""
    try:
        size = Panel.parse(panel)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    if len(terminal_id) != 8 or len(merchant_id) != 15:
        raise click.UsageError("a terminal id has 8 characters and a merchant id 15")
    if len(account_prefix) != 2 or not account_prefix.isalpha() or not account_prefix.isupper():
        raise click.UsageError("an account prefix is two capital letters, e.g. XC")
    return KioskOptions(
        hall_url=hall_url.rstrip("/"),
        token=token,
        state_dir=state_dir,
        printer=_device(printer),
        card_reader=_device(card_reader),
        acquirer=_device(acquirer),
        pinpad=_device(pinpad),
        terminal_id=terminal_id,
        merchant_id=merchant_id,
        panel=size,
        kiosk_mode=not windowed and not scripted,
        headless=headless,
        speak=speak,
        account_prefix=account_prefix,
        out_dir=out_dir,
        max_fps=120 if scripted and headless else 30,
    )


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@kiosk_options
def main(**values: Any) -> None:
    """Run the self-service kiosk (full screen, touch) for a hall."""
    import logging
    import sys

    from kiosk.process import run_kiosk

    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    run_kiosk(make_options(**values))
