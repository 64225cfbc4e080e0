"""``python -m kiosk``: the kiosk appliance's entry point (see ``kiosk.cli``)."""

from kiosk.cli import main

main(prog_name="python -m kiosk")
