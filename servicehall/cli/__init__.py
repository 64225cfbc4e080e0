"""The ``servicehall`` command: one module per command group, registered on the root group."""

from __future__ import annotations

from servicehall.cli import (
    console,
    db,
    demo,
    devices,
    kiosk,
    payments,
    processes,
    report,
    seed,
    staff,
    sync,
    terminals,
)
from servicehall.cli import gps_bridge as gps_bridge_command
from servicehall.cli.root import cli

for module in (db, seed, processes, sync, report, terminals, staff, demo, payments):
    module.register(cli)
cli.add_command(devices.devices)
console.register(cli)
gps_bridge_command.register(cli)
kiosk.register(cli)


def main() -> None:
    cli(prog_name="servicehall")
