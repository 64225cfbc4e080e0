"""``servicehall console``: central's console and call-centre staff, and their roles.

Roles: agent (坐席: caller lookup, logging orders, follow-up calls), dispatcher (调度员:
assigning, closing, plans), supervisor (值班长: escalations, KPIs, everything a dispatcher
does). Staff sign in at ``/console`` with their staff number and PIN.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicedb.models import ConsoleRole, Site, SiteKind
from servicehall.cli.root import Group, open_site_database, settings_of
from servicehall.errors import UserFacingError

ROLES = click.Choice([r.value for r in ConsoleRole])


@click.group(cls=Group)
def console() -> None:
    """Central staff who use the dispatcher console and the call-centre screen."""


def _central_id(session: Session, site: str) -> uuid.UUID:
    found = session.execute(select(Site.id, Site.kind).where(Site.code == site)).first()
    if found is None or found[1] is not SiteKind.CENTRAL:
        raise UserFacingError(f"no central site {site!r}")
    return found[0]


@console.command("add-staff")
@click.option("--staff-no", required=True, help="The staff number (工号), e.g. D001.")
@click.option("--name", required=True, help="The person's name.")
@click.option(
    "--role", "roles", type=ROLES, multiple=True, required=True, help="Repeat for several."
)
@click.option(
    "--pin", prompt="PIN", hide_input=True, confirmation_prompt=True, help="4–32 characters."
)
@click.pass_context
def add(ctx: click.Context, staff_no: str, name: str, roles: Sequence[str], pin: str) -> None:
    """Add a member of central's staff with their console roles."""
    from sqlalchemy.exc import IntegrityError

    from domain.console_staff import add_console_staff
    from domain.queueing.errors import QueueError
    from servicehall.platform.database import close_database

    site = settings_of(ctx).central.site
    engine = open_site_database(ctx, site)
    try:
        with Session(engine) as session, session.begin():
            add_console_staff(
                session,
                _central_id(session, site),
                staff_no,
                name,
                pin,
                [ConsoleRole(r) for r in roles],
            )
    except IntegrityError as err:
        raise UserFacingError(f"staff number {staff_no} already exists at {site}") from err
    except QueueError as err:
        raise UserFacingError(err.message_en) from err
    finally:
        close_database(engine)
    click.echo(f"{staff_no} {name} added at {site}: {', '.join(sorted(roles))}")


@console.command("set-roles")
@click.option("--staff-no", required=True, help="The staff number (工号).")
@click.option("--role", "roles", type=ROLES, multiple=True, help="None: no console access.")
@click.pass_context
def roles_command(ctx: click.Context, staff_no: str, roles: Sequence[str]) -> None:
    """Replace a staff member's roles; open sessions follow at their next request."""
    from domain.console_staff import set_roles
    from servicehall.platform.database import close_database

    site = settings_of(ctx).central.site
    engine = open_site_database(ctx, site)
    try:
        with Session(engine) as session, session.begin():
            set_roles(
                session, _central_id(session, site), staff_no, [ConsoleRole(r) for r in roles]
            )
    except LookupError as err:
        raise UserFacingError(f"no staff number {staff_no} at {site}") from err
    finally:
        close_database(engine)
    click.echo(f"{staff_no}: {', '.join(sorted(roles)) or 'no console access'}")


def register(cli: click.Group) -> None:
    cli.add_command(console)
