"""``servicehall sync …`` and ``servicehall hall provision``: the operator's side of sync.

- ``sync token`` (at central) gives a hall the token its agent signs in with;
- ``hall provision`` (at the hall) builds the hall's database from central over HTTP, with a
  progress bar per table, and continues where it stopped when the link was cut;
- ``sync status`` reads how far behind each direction is, at a hall or (``--central``) for
  every hall; it only reads: it never creates or migrates a database.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import click
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from servicehall.cli.root import Group, open_site_database, settings_of
from servicehall.config import Settings
from servicehall.errors import ServiceUnreachable, UserFacingError

T = TypeVar("T")


class SyncMistake(UserFacingError):
    pass


# --- sync token --------------------------------------------------------------------------


@click.group(cls=Group)
def sync() -> None:
    """Hall ↔ central sync: tokens for halls, and how far behind each hall is."""


def _at_central(ctx: click.Context, action: Callable[[Engine], T]) -> T:
    """Run ``action`` on central's database; its refusals are one line for the operator."""
    from servicehall.platform.database import close_database
    from sync import roles
    from sync.wire import Refused

    settings = settings_of(ctx)
    engine = open_site_database(ctx, settings.central.site)
    try:
        if roles.role_of(engine) == roles.HALL:
            raise SyncMistake(
                f"the database of '{settings.central.site}' is a hall's; run this at central"
            )
        try:
            return action(engine)
        except Refused as err:
            raise SyncMistake(str(err)) from None
    finally:
        close_database(engine)


@sync.command("token")
@click.option("--site", required=True, help="The hall's site code, e.g. hall-xicheng.")
@click.option("--rekey", is_flag=True, help="Replace the hall's token (the old one stops working).")
@click.pass_context
def token(ctx: click.Context, site: str, rekey: bool) -> None:
    """Issue a hall's sync token at central (printed once; central keeps only its hash)."""
    from sync import central_side

    issued = _at_central(ctx, lambda engine: central_side.issue_token(engine, site, rekey=rekey))
    click.echo(issued)
    click.echo(
        f"Give it to hall '{site}' once (it is not shown again): set "
        f"SERVICEHALL_HALL__SYNC_TOKEN={issued} in the hall's environment, or "
        f"`servicehall hall provision --central URL --site {site} --token …` for a new hall.",
        err=True,
    )


@sync.command("retire")
@click.option("--site", required=True, help="The hall's site code, e.g. hall-xicheng.")
@click.pass_context
def retire(ctx: click.Context, site: str) -> None:
    """At central: a hall closed for good stops syncing (its token stops working) and no
    longer holds back central's change log. Its rows stay; `sync token` reopens it."""
    from sync import central_side

    _at_central(ctx, lambda engine: central_side.retire(engine, site))
    click.echo(f"hall '{site}' no longer syncs; central's log no longer waits for it")


# --- hall provision ----------------------------------------------------------------------


@dataclass(frozen=True)
class ProvisionOutcome:
    rows: int
    tables: int
    resumed: bool
    seconds: float
    database: str


class _TableBars:
    """One progress bar per table on stderr: rows copied / rows the snapshot announced."""

    def __init__(self, shown: bool) -> None:
        self.shown = shown
        self.table: str | None = None
        self.bar: Any = None
        self.done = 0

    def __call__(self, table: str, done: int, expected: int) -> None:
        if table != self.table:
            self.close()
            self.table, self.done = table, 0
            self.bar = click.progressbar(
                length=max(expected, done, 1),
                label=f"{table:<20}",
                file=sys.stderr,
                show_pos=True,
                show_eta=False,
                hidden=not self.shown,
            )
            self.bar.__enter__()
        if self.bar is not None and done > self.done:
            self.bar.update(done - self.done)
            self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _check_answer(response: Any, central_url: str) -> dict[str, Any]:
    if response.status_code == 200:
        body = response.json()
        assert isinstance(body, dict)  # noqa: S101 - central's snapshot meta is an object
        return body
    try:
        detail = response.json().get("message_en") or response.text[:200]
    except ValueError:
        detail = response.text[:200]
    raise SyncMistake(f"central at {central_url} refused: {response.status_code} {detail}")


def _holders(engine: Engine) -> set[str]:
    """Site codes whose hall-scoped rows (categories, counters, staff) the database holds."""
    from servicedb.models import Counter, ServiceCategory, Site, Staff

    with Session(engine) as session:
        ids: set[Any] = set()
        for model in (ServiceCategory, Counter, Staff):
            ids.update(session.scalars(select(model.site_id).distinct()))
        if not ids:
            return set()
        codes = set(session.scalars(select(Site.code).where(Site.id.in_(ids))))
    return codes or {"(unknown)"}


def _refuse_if_not_ours(engine: Engine, site: str, where: str) -> None:
    """Provisioning builds a new hall or finishes one that was cut; anything else is refused."""
    from servicedb.models import Site, SyncCursor
    from sync import roles
    from sync.provision import META

    role = roles.role_of(engine)
    if role == roles.CENTRAL:
        raise SyncMistake(f"{where} is central's database; provision a hall into its own")
    others = sorted(_holders(engine) - {site})
    if others:
        raise SyncMistake(
            f"{where} holds the data of {', '.join(others)}, not only '{site}'; "
            "provision into an empty database (check --site and database.url)"
        )
    with Session(engine) as session:
        started = session.get(SyncCursor, META) is not None
        has_rows = bool(session.scalar(select(func.count()).select_from(Site)))
    if role == roles.HALL and not started:
        raise SyncMistake(
            f"{where} is already provisioned for '{site}' and complete; it keeps itself up "
            "to date once the hall runs with its sync token (see `servicehall sync status`)"
        )
    if has_rows and not started:
        raise SyncMistake(
            f"{where} already holds data that provisioning did not write (a seeded "
            "database?); provision into an empty database"
        )


@contextmanager
def _talking_to(central_url: str, rows_so_far: list[int]) -> Iterator[None]:
    import httpx

    from sync.wire import Refused

    try:
        yield
    except httpx.HTTPError as err:
        raise ServiceUnreachable(
            f"lost central at {central_url} after {rows_so_far[0]:,} rows "
            f"({type(err).__name__}); run the same command again to continue where it stopped"
        ) from None
    except Refused as err:
        raise SyncMistake(str(err)) from None


def provision_site(
    settings: Settings,
    site: str,
    central_url: str,
    token_text: str,
    *,
    show_progress: bool,
    progress: Any = None,
) -> ProvisionOutcome:
    """What ``servicehall hall provision`` does (the demo calls it too).

    Central is asked first, so a wrong token or URL leaves no database file behind.
    ``progress`` (table, done, expected), when given, is called besides the bars.
    """
    from servicedb import migrate
    from servicedb.engine import redact_url
    from servicehall.platform.database import close_database, open_database
    from sync import provision

    url = settings.database_url(site)
    client = provision.client_for(central_url, site, token_text)
    rows_so_far = [0]
    bars = _TableBars(show_progress)

    def report(table: str, done: int, expected: int) -> None:
        bars(table, done, expected)
        if progress is not None:
            progress(table, done, expected)

    started = time.perf_counter()
    try:
        with _talking_to(central_url, rows_so_far):
            _check_answer(client.get("/api/v1/sync/snapshot"), central_url)
        # An empty database is migrated to the schema head first; the snapshot fills it.
        engine = open_database(url, auto_upgrade=True)
        try:
            _refuse_if_not_ours(engine, site, redact_url(url))
            schema = migrate.current_revision(engine) or ""
            counted: dict[str, int] = {}

            def count(table: str, done: int, expected: int) -> None:
                counted[table] = done
                rows_so_far[0] = sum(counted.values())
                report(table, done, expected)

            try:
                with _talking_to(central_url, rows_so_far):
                    result = provision.provision(engine, client, schema, count)
            finally:
                bars.close()
        finally:
            close_database(engine)
    finally:
        client.close()
    return ProvisionOutcome(
        result.rows, result.tables, result.resumed, time.perf_counter() - started, redact_url(url)
    )


@click.command("provision")
@click.option(
    "--central", "central_url", required=True, help="Central's URL, e.g. https://central:8700."
)
@click.option("--site", required=True, help="This hall's site code, e.g. hall-xicheng.")
@click.option(
    "--token",
    "token_text",
    required=True,
    envvar="SERVICEHALL_HALL__SYNC_TOKEN",
    help="The hall's sync token from `servicehall sync token` at central "
    "(default: $SERVICEHALL_HALL__SYNC_TOKEN).",
)
@click.pass_context
def provision_command(ctx: click.Context, central_url: str, site: str, token_text: str) -> None:
    """Build this hall's database from central (its slice only); run again to resume a cut."""
    outcome = provision_site(settings_of(ctx), site, central_url, token_text, show_progress=True)
    how = "finished a cut provisioning" if outcome.resumed else "provisioned"
    click.echo(
        f"{how} {site} from {central_url} in {outcome.seconds:.1f} s: "
        f"{outcome.rows:,} rows in {outcome.tables} tables into {outcome.database}"
    )
    click.echo(
        f"next: run the hall with SERVICEHALL_HALL__SYNC_TOKEN set and "
        f"SERVICEHALL_HALL__CENTRAL_URL={central_url}: `servicehall hall --site {site}`",
        err=True,
    )


# --- sync status -------------------------------------------------------------------------


def _ago(when: datetime | None) -> str:
    if when is None:
        return "never"
    from servicedb.types import utcnow

    seconds = (utcnow() - when).total_seconds()
    return f"{when.strftime('%Y-%m-%d %H:%M:%S')} UTC ({seconds:.0f} s ago)"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _hall_status(settings: Settings, site: str, as_json: bool) -> int:
    from servicehall.platform.database import close_database
    from servicehall.reports.source import open_for_reading
    from sync import operations, roles

    engine = open_for_reading(settings.database_url(site))
    try:
        role = roles.role_of(engine)
        if role == roles.CENTRAL:
            raise SyncMistake(f"the database of '{site}' is central's; use `sync status --central`")
        status = operations.hall_status(engine)
    finally:
        close_database(engine)
    # Behind for longer than central would tolerate is an alarm here too, even before an
    # error is recorded (a link that hangs rather than fails).
    limit = settings.central.sync_lag_alarm_s
    alarms = {
        name: f"{name}: {d.last_error}"
        if d.last_error
        else f"{name}: {'oldest unsent change' if name == 'up' else 'no page from central for'} "
        f"{d.lag_s:.0f} s (alarm after {limit:g} s)"
        for name, d in status.items()
        if d.last_error or (d.lag_s is not None and d.lag_s > limit)
    }
    ok = role == roles.HALL and not alarms
    if as_json:
        document = {
            "site": site,
            "syncing": role == roles.HALL,
            "ok": ok,
            "alarm_after_s": limit,
            "alarms": list(alarms.values()),
            **{name: d.as_json() for name, d in status.items()},
        }
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return 0 if ok else 1
    if role != roles.HALL:
        click.echo(
            f"{site}: this database does not sync yet (provision it with "
            "`servicehall hall provision`, or run the hall with its sync token)"
        )
        return 1
    click.echo(f"{site} ↔ central")
    for name, d in status.items():
        pending = f"{d.pending:,} pending" if name == "up" else "-"
        click.echo(
            f"  {name:<4} {pending:<14} lag {_seconds(d.lag_s):<10} "
            f"last success {_ago(d.last_success_at)}"
        )
        if d.last_error:
            click.echo(f"       last error {_ago(d.last_error_at)}: {d.last_error}")
    click.echo("ok" if ok else "\n".join(f"ALARM {a}" for a in alarms.values()))
    return 0 if ok else 1


def _note(hall: dict[str, Any]) -> str:
    if hall["alarm"]:
        return f"ALARM: {hall['alarm_reason']}"
    return str(hall["alarm_reason"] or "ok")


def _central_status(settings: Settings, site: str | None, as_json: bool) -> int:
    from servicehall.platform.database import close_database
    from servicehall.reports.source import open_for_reading
    from sync import operations

    engine = open_for_reading(settings.database_url(settings.central.site))
    try:
        overview = operations.halls_overview(engine, settings.central.sync_lag_alarm_s)
    finally:
        close_database(engine)
    halls = overview["halls"]
    if site is not None:
        halls = [h for h in halls if h["site"] == site]
        if not halls:
            raise SyncMistake(f"no hall '{site}' at central")
    alarms = sum(1 for h in halls if h["alarm"])
    if as_json:
        click.echo(
            json.dumps(
                {"alarm_after_s": overview["alarm_after_s"], "alarms": alarms, "halls": halls},
                indent=2,
                ensure_ascii=False,
            )
        )
        return 1 if alarms else 0
    click.echo(
        f"{'hall':<18} {'lag':>9} {'silent':>9} {'pending':>8} {'rows up':>9}  "
        f"(alarm after {overview['alarm_after_s']:g} s)"
    )
    for h in halls:
        click.echo(
            f"{h['site']:<18} {_seconds(h['lag_s']):>9} {_seconds(h['silent_s']):>9} "
            f"{h['hall_pending']:>8,} {h['up_rows']:>9,}  {_note(h)}"
        )
        if h["last_error"]:
            click.echo(f"{'':<18} last refusal: {h['last_error']}")
    click.echo(f"{alarms} alarm(s)" if alarms else "ok")
    return 1 if alarms else 0


@sync.command("status")
@click.option("--site", help="The hall (default from config); with --central, only that hall.")
@click.option("--central", "at_central", is_flag=True, help="Central's list of every hall.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def status(ctx: click.Context, site: str | None, at_central: bool, as_json: bool) -> None:
    """How far behind sync is: exit 0 when fine, 1 when an alarm or a last error is current."""
    settings = settings_of(ctx)
    if at_central:
        code = _central_status(settings, site, as_json)
    else:
        code = _hall_status(settings, site or settings.hall.site, as_json)
    ctx.exit(code)


def register(cli: click.Group) -> None:
    cli.add_command(sync)
