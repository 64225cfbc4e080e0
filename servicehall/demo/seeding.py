"""``servicehall seed``: migrate, then build the demo city with a progress bar."""

from __future__ import annotations

import sys
import time
from datetime import date

import click

from servicedb.engine import redact_url
from servicedb.money import Money
from servicehall.config import Settings
from servicehall.demo.seed import SeedReport, seed_city
from servicehall.platform.database import close_database, open_database


def run_seed(
    settings: Settings,
    site: str,
    *,
    premises: int,
    seed: int,
    as_of: date | None,
    show_progress: bool,
) -> SeedReport:
    url = settings.database_url(site)
    engine = open_database(url, auto_upgrade=True)
    started = time.perf_counter()
    try:
        with click.progressbar(
            length=premises,
            label="seeding premises",
            file=sys.stderr,
            show_pos=True,
            show_eta=True,
            hidden=not show_progress,
        ) as bar:
            report = seed_city(
                engine, premises=premises, seed=seed, as_of=as_of, progress=bar.update
            )
    finally:
        close_database(engine)
    took = time.perf_counter() - started
    if show_progress:
        click.echo(
            f"seeded {redact_url(url)} in {took:.1f} s: {report.premises:,} premises, "
            f"{report.readings:,} readings, {report.bills:,} bills ({Money(report.billed_fen)}), "
            f"{report.payments:,} payments ({Money(report.paid_fen)})"
        )
    return report
