"""``servicehall db``: create, migrate and inspect a site's database."""

from __future__ import annotations

import click

from servicehall.cli.root import Group, settings_of, site_option


@click.group(cls=Group)
def db() -> None:
    """Create and migrate a site's database."""


@db.command("upgrade")
@site_option("the central site")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_context
def db_upgrade(ctx: click.Context, site: str | None, revision: str) -> None:
    """Migrate the database to REVISION (creates an SQLite file if missing)."""
    from servicedb import migrate
    from servicedb.engine import redact_url
    from servicehall.platform.database import close_database, open_database

    settings = settings_of(ctx)
    url = settings.database_url(site or settings.central.site)
    engine = open_database(url, auto_upgrade=False, require_head=False)
    try:
        migrate.upgrade(engine, revision)
        click.echo(f"{redact_url(url)} is at revision {migrate.current_revision(engine)}")
    finally:
        close_database(engine)


@db.command("current")
@site_option("the central site")
@click.pass_context
def db_current(ctx: click.Context, site: str | None) -> None:
    """Print the database's revision and the code's head revision (never creates one)."""
    from servicedb import migrate
    from servicedb.engine import redact_url
    from servicehall.platform.database import open_database

    settings = settings_of(ctx)
    url = settings.database_url(site or settings.central.site)
    # Only reads: a missing SQLite file is reported, not created (nor migrated).
    engine = open_database(url, auto_upgrade=False, require_head=False, create=False)
    try:
        click.echo(
            f"{redact_url(url)}: current {migrate.current_revision(engine)}, "
            f"head {migrate.head_revision(engine)}"
        )
    finally:
        engine.dispose()


def register(cli: click.Group) -> None:
    cli.add_command(db)
