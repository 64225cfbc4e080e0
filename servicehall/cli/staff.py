"""``servicehall staff``: the hall's staff numbers (工号) and their PINs."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicedb.models import Site
from servicehall.cli.root import FC, Group, open_site_database
from servicehall.errors import UserFacingError


@click.group(cls=Group)
def staff() -> None:
    """Add staff, reset a PIN, unlock a staff number, list who can sign in."""


def _site_id(session: Session, site: str) -> uuid.UUID:
    site_id = session.scalar(select(Site.id).where(Site.code == site))
    if site_id is None:
        raise UserFacingError(f"no site {site!r}")
    return site_id


def _pin_option() -> Callable[[FC], FC]:
    return click.option(
        "--pin",
        prompt="PIN",
        hide_input=True,
        confirmation_prompt=True,
        help="The PIN (asked for when not given; 4 to 32 characters).",
    )


@staff.command("add")
@click.option("--site", required=True, help="The hall's site code.")
@click.option("--staff-no", required=True, help="The staff number (工号), e.g. S009.")
@click.option("--name", required=True, help="The person's name.")
@_pin_option()
@click.pass_context
def add(ctx: click.Context, site: str, staff_no: str, name: str, pin: str) -> None:
    """Add a member of staff who can sign in at counters."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session

    from domain.queueing.errors import QueueError
    from domain.staff import add_staff
    from servicehall.platform.database import close_database

    engine = open_site_database(ctx, site)
    try:
        with Session(engine) as session, session.begin():
            add_staff(session, _site_id(session, site), staff_no, name, pin)
    except IntegrityError as err:
        raise UserFacingError(f"staff number {staff_no} already exists at {site}") from err
    except QueueError as err:
        raise UserFacingError(err.message_en) from err
    finally:
        close_database(engine)
    click.echo(f"{staff_no} {name} added at {site}")


@staff.command("set-pin")
@click.option("--site", required=True, help="The hall's site code.")
@click.option("--staff-no", required=True, help="The staff number (工号).")
@_pin_option()
@click.pass_context
def set_pin(ctx: click.Context, site: str, staff_no: str, pin: str) -> None:
    """Set a new PIN (also unlocks the staff number)."""
    _update(ctx, site, staff_no, pin=pin)
    click.echo(f"{staff_no}: PIN set")


@staff.command("unlock")
@click.option("--site", required=True, help="The hall's site code.")
@click.option("--staff-no", required=True, help="The staff number (工号).")
@click.pass_context
def unlock(ctx: click.Context, site: str, staff_no: str) -> None:
    """Lift a lock-out after too many wrong PINs."""
    _update(ctx, site, staff_no, pin=None)
    click.echo(f"{staff_no}: unlocked")


@staff.command("list")
@click.option("--site", required=True, help="The hall's site code.")
@click.pass_context
def list_staff(ctx: click.Context, site: str) -> None:
    """Staff numbers, names, and whether they are locked out."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from servicedb.models import Staff
    from servicehall.platform.database import close_database

    engine = open_site_database(ctx, site)
    try:
        with Session(engine) as session:
            rows = session.scalars(
                select(Staff)
                .where(Staff.site_id == _site_id(session, site))
                .order_by(Staff.staff_no)
            ).all()
            for row in rows:
                locked = f"locked until {row.locked_until:%H:%M}Z" if row.locked_until else ""
                active = "" if row.active else "inactive"
                click.echo(f"{row.staff_no}\t{row.name}\t{locked or active or 'ok'}")
    finally:
        close_database(engine)


def _update(ctx: click.Context, site: str, staff_no: str, *, pin: str | None) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from domain.queueing.errors import QueueError
    from domain.staff import hash_pin
    from servicedb.models import Staff
    from servicehall.platform.database import close_database

    engine = open_site_database(ctx, site)
    try:
        with Session(engine) as session, session.begin():
            row = session.scalar(
                select(Staff).where(
                    Staff.site_id == _site_id(session, site), Staff.staff_no == staff_no
                )
            )
            if row is None:
                raise UserFacingError(f"no staff number {staff_no} at {site}")
            if pin is not None:
                row.pin_hash = hash_pin(pin)
            row.failed_attempts = 0
            row.locked_until = None
    except QueueError as err:
        raise UserFacingError(err.message_en) from err
    finally:
        close_database(engine)


def register(cli: click.Group) -> None:
    cli.add_command(staff)
