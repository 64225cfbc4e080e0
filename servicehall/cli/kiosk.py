"""``servicehall kiosk``: the self-service kiosk, talking only to its hall's API and its own
devices. Devices are ports / URLs, or ``simulated`` (the same bytes over a pty or TCP).

    servicehall kiosk --hall http://hall.lan:8701 --token "$KIOSK_TOKEN" \\
        --printer /dev/ttyUSB0 --card-reader /dev/ttyUSB1 --acquirer 10.1.2.3:5000

The token may come from ``KIOSK_TOKEN`` instead (it then stays out of the process
list; a ``SERVICEHALL_…`` name would be read as a configuration key). ``--walkthrough DIR`` runs the demo's scripted customer through the real
app and keeps a screenshot of every screen and the receipts in DIR, then exits.
"""

from __future__ import annotations

from pathlib import Path

import click

from servicehall.errors import UserFacingError


def _device(value: str) -> str | None:
    return None if value.lower() in ("", "none", "off") else value


@click.command()
@click.option("--hall", "hall_url", required=True, help="The hall API's base URL.")
@click.option("--token", envvar="KIOSK_TOKEN", required=True, help="This kiosk's device token.")
@click.option(
    "--printer",
    default="simulated",
    show_default=True,
    help="Receipt printer: port, URL (tcp://, usb://, serial://), 'simulated' or 'none'.",
)
@click.option(
    "--card-reader",
    default="simulated",
    show_default=True,
    help="Magnetic-stripe reader: serial port, 'simulated' or 'none'.",
)
@click.option(
    "--acquirer",
    default="simulated",
    show_default=True,
    help="ISO 8583 acquirer HOST:PORT, 'simulated' or 'none'.",
)
@click.option(
    "--pinpad", default="simulated", show_default=True, help="PIN pad: 'simulated' or 'none'."
)
@click.option(
    "--terminal-id",
    default="KIOSK001",
    show_default=True,
    help="The acquirer's terminal id (8 characters).",
)
@click.option(
    "--merchant-id",
    default="898110048160001",
    show_default=True,
    help="The acquirer's merchant id (15 characters).",
)
@click.option(
    "--panel",
    default="1080x1920",
    show_default=True,
    help="The panel's exact size, WIDTHxHEIGHT (portrait when taller).",
)
@click.option(
    "--windowed", is_flag=True, help="A normal window with a cursor (development), not kiosk mode."
)
@click.option(
    "--headless", is_flag=True, help="No display: render offscreen (SDL_VIDEODRIVER=offscreen)."
)
@click.option("--speak", is_flag=True, help="Spoken prompts (espeak-ng).")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=Path("var/kiosk"),
    show_default=True,
    help="The payment journals and the acquirer's STAN.",
)
@click.option(
    "--account-prefix",
    default="XC",
    show_default=True,
    help="The area letters before an account's nine digits.",
)
@click.option(
    "--walkthrough",
    type=click.Path(path_type=Path),
    help="Run the demo's scripted customer; keep screenshots and receipts here; exit.",
)
def kiosk(
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
    walkthrough: Path | None,
) -> None:
    """Run the self-service kiosk (full screen, touch) for a hall."""
    from kiosk.config import Panel
    from kiosk.process import KioskOptions, run_kiosk

    try:
        size = Panel.parse(panel)
    except ValueError as err:
        raise UserFacingError(str(err)) from None
    if len(terminal_id) != 8 or len(merchant_id) != 15:
        raise UserFacingError("a terminal id has 8 characters and a merchant id 15")
    options = KioskOptions(
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
        kiosk_mode=not windowed and walkthrough is None,
        headless=headless,
        speak=speak,
        account_prefix=account_prefix,
        out_dir=walkthrough,
        max_fps=120 if walkthrough and headless else 30,
    )
    if walkthrough is None:
        run_kiosk(options)
        return
    from servicehall.demo.kiosk_walkthrough import walk

    run_kiosk(options, script=lambda driver, parts: walk(driver, parts, walkthrough))


def register(cli: click.Group) -> None:
    cli.add_command(kiosk)
