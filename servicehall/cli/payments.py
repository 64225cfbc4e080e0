"""``servicehall payments``: day-end reconciliation of card payments against the acquirer."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from servicehall.cli.root import Group, settings_of

_WORDS = {
    "missing_in_ledger": "账中缺失 settled by the acquirer, not in the ledger",
    "missing_at_acquirer": "收单缺失 in the ledger, not settled by the acquirer",
    "amount_mismatch": "金额不符 amounts differ",
}


@click.group(cls=Group)
def payments() -> None:
    """Payments: reconciliation with the acquirer's settlement file."""


@payments.command("reconcile")
@click.option("--site", help="The hall's site code (default from config).")
@click.option(
    "--day",
    "day_text",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The settlement day (China time), YYYY-MM-DD.",
)
@click.option(
    "--settlement",
    "settlement_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The acquirer's settlement file for that day.",
)
@click.pass_context
def reconcile_cmd(
    ctx: click.Context, site: str | None, day_text: Any, settlement_file: Path
) -> None:
    """Compare the settlement file with the ledger; exit 0 when every fen agrees, 1 otherwise."""
    from devices.acquirer.settlement import SettlementRefused, parse
    from domain.kiosk_site import KioskSite
    from domain.reconciliation import AcquirerMovement, reconcile
    from domain.uow import UnitsOfWork
    from servicehall.errors import UserFacingError
    from servicehall.platform.database import close_database, open_database

    settings = settings_of(ctx)
    site = site or settings.hall.site
    day = day_text.date()
    try:
        settlement = parse(settlement_file.read_bytes())
    except SettlementRefused as err:
        raise UserFacingError(f"{settlement_file}: not a settlement file: {err}") from None
    if settlement.day != day:
        raise UserFacingError(f"{settlement_file} settles {settlement.day}, not {day}")
    movements = [
        AcquirerMovement(r.terminal_id, f"{r.stan:06d}", r.rrn, r.kind.value, r.amount_fen)
        for r in settlement.records
    ]
    engine = open_database(settings.database_url(site), auto_upgrade=settings.database.auto_upgrade)
    try:
        report = reconcile(KioskSite.load(UnitsOfWork(engine), site), day, movements)
    finally:
        close_database(engine)
    click.echo(f"对账 reconciliation {site} {day}: {len(movements)} settlement record(s)")
    click.echo(f"  收单净额 acquirer net  {_yuan(report.acquirer_net_fen)}")
    click.echo(f"  账务净额 ledger net    {_yuan(report.ledger_net_fen)}")
    click.echo(f"  相符 matched           {report.matched}")
    for d in report.differences:
        click.echo(
            f"  {_WORDS[d.kind]}: terminal {d.terminal_id} STAN {d.stan} RRN {d.rrn} "
            f"acquirer {_yuan(d.acquirer_fen)} ledger {_yuan(d.ledger_fen)}"
            + (f" receipt {d.receipt_no}" if d.receipt_no else "")
        )
    click.echo(f"  差额 net difference    {_yuan(report.net_difference_fen)}")
    if report.reconciled:
        click.echo("平账 reconciled: 0 difference")
        return
    click.echo(f"未平 NOT reconciled: {len(report.differences)} difference(s)")
    sys.exit(1)


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100}.{abs(fen) % 100:02d}"


def register(cli: click.Group) -> None:
    cli.add_command(payments)
