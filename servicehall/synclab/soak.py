"""The sync fault-injection harness: central and two halls as real processes, a fault proxy
between each hall and central, ``kill -9`` and cut links at random, then drain and check.

Test and benchmark tooling, not production code (``tests/sync/test_faults.py`` runs a short
version, ``bench/sync_soak.py`` the long one). The checks are set checks, never counts:

- **made**: the ids of each hall's own rows, per table it sends up, read from the hall's DB;
- **at central**: the ids of the rows central holds from that hall;
- **lost** = made − at central; **extra** = at central − made; **differ**: in both, not equal;
- **duplicated**: a natural key twice at central (a payment's idempotency key, a ticket's
  hall / category / day / number) — the same row under two ids;
- **gap**: the hall's newest outbox seq against what central has acknowledged of it;
- **reference**: each hall's central-owned tables against central's slice for it (digests).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session

from servicedb import migrate
from servicedb.engine import make_engine
from servicedb.models import Account, Payment, QueueTicket, Site, SyncPeer
from servicehall.platform.embedded_broker import free_port
from sync import central_side, drift, provision
from sync.faultproxy import FAILURES, Fault, FaultProxy, random_fault
from sync.rows import encode_row
from sync.tables import UP, Slice

ROOT = Path(__file__).resolve().parents[2]  # the project root (servicehall/synclab/…)
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HALLS = ("hall-xicheng", "hall-guanganmen")
START_TIMEOUT_S = 60.0


class SoakError(RuntimeError):
    """The harness itself could not go on (a process that would not start, a drain that
    never finished): not a finding about sync, which the report gives."""


@dataclass
class Proc:
    """One child process; its output goes to a log file, read for readiness lines."""

    name: str
    argv: list[str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0
    _from: int = 0

    def start(self, argv: list[str] | None = None) -> None:
        if argv is not None:
            self.argv = argv
        self._from = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts} ---\n".encode())
            out.flush()
            self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                self.argv, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=_child_env()
            )
        self.starts += 1

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """``kill -9``: no handler runs, nothing is flushed that was not committed."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def output(self) -> str:
        with self.log.open("rb") as f:
            f.seek(self._from)
            return f.read().decode("utf-8", "replace")

    def wait_for(self, needle: str, timeout_s: float = START_TIMEOUT_S) -> None:
        until = time.monotonic() + timeout_s
        while time.monotonic() < until:
            if needle in self.output():
                return
            if not self.alive:
                raise SoakError(f"{self.name} exited ({self.exit_code}):\n{self.output()[-2000:]}")
            time.sleep(0.05)
        raise SoakError(f"{self.name} did not say {needle!r} within {timeout_s} s")

    def wait_exit(self, timeout_s: float) -> int:
        assert self.popen is not None  # noqa: S101
        try:
            return self.popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise SoakError(f"{self.name} did not finish within {timeout_s} s") from None

    @property
    def exit_code(self) -> int | None:
        return self.popen.poll() if self.popen is not None else None


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class HallSpec:
    site: str
    site_id: uuid.UUID
    token: str
    db_url: str
    proxy: FaultProxy
    proc: Proc
    seed: int
    clock_offsets_h: tuple[float, ...] = (0.0,)

    def argv(self, *, ops: int = -1, interval: float = 0.02) -> list[str]:
        # Each start takes the next clock of the list: a hall's clock may jump by days.
        offset = self.clock_offsets_h[self.proc.starts % len(self.clock_offsets_h)]
        return [
            *_python(),
            "hall",
            "--db",
            self.db_url,
            "--central",
            self.proxy.url,
            "--site",
            self.site,
            f"--token={self.token}",  # a token may begin with "-"
            "--seed",
            str(self.seed * 1000 + self.proc.starts),
            "--ops",
            str(ops),
            "--interval",
            str(interval),
            "--clock-offset-h",
            str(offset),
        ]


def _python() -> list[str]:
    return [sys.executable, "-m", "servicehall.synclab.testbed"]


@dataclass
class TableCheck:
    made: int
    at_central: int
    lost: list[str]
    extra: list[str]
    differ: list[str]


@dataclass
class HallReport:
    site: str
    tables: dict[str, TableCheck]
    hall_seq: int
    central_up_seq: int
    reference_differs: list[str]
    payments_missing: int  # central's payments of the hall's accounts the hall lacks

    @property
    def made(self) -> int:
        return sum(t.made for t in self.tables.values())

    @property
    def at_central(self) -> int:
        return sum(t.at_central for t in self.tables.values())

    @property
    def lost(self) -> int:
        return sum(len(t.lost) for t in self.tables.values())

    @property
    def extra(self) -> int:
        return sum(len(t.extra) for t in self.tables.values())

    @property
    def differ(self) -> int:
        return sum(len(t.differ) for t in self.tables.values())

    @property
    def gap(self) -> int:
        return self.hall_seq - self.central_up_seq


@dataclass
class Report:
    halls: list[HallReport]
    duplicated: dict[str, list[str]]

    @property
    def made(self) -> int:
        return sum(h.made for h in self.halls)

    @property
    def at_central(self) -> int:
        return sum(h.at_central for h in self.halls)

    @property
    def lost(self) -> int:
        return sum(h.lost for h in self.halls)

    @property
    def duplicates(self) -> int:
        return sum(len(v) for v in self.duplicated.values())

    @property
    def ok(self) -> bool:
        return (
            self.duplicates == 0
            and all(
                h.lost == 0
                and h.extra == 0
                and h.differ == 0
                and h.gap == 0
                and not h.reference_differs
                and h.payments_missing == 0
                for h in self.halls
            )
            and self.made > 0
        )

    def lines(self) -> list[str]:
        out = []
        for h in self.halls:
            per = ", ".join(f"{n} {t.made}" for n, t in h.tables.items() if t.made)
            out.append(
                f"{h.site}: rows made {h.made} ({per}); at central {h.at_central}; lost {h.lost}; "
                f"extra {h.extra}; differing {h.differ}; gap {h.gap} (hall seq {h.hall_seq}, "
                f"central has {h.central_up_seq}); reference tables differing "
                f"{h.reference_differs or 'none'}; payments missing at hall {h.payments_missing}"
            )
            for name, t in h.tables.items():
                for label, ids in (("lost", t.lost), ("extra", t.extra), ("differ", t.differ)):
                    if ids:
                        out.append(f"  {name} {label}: {ids[:10]}")
        out.append(
            f"total: rows made {self.made}; rows at central {self.at_central}; lost {self.lost}; "
            f"duplicated {self.duplicates}; gaps {sum(abs(h.gap) for h in self.halls)}"
        )
        for name, keys in self.duplicated.items():
            if keys:
                out.append(f"  duplicated {name}: {keys[:10]}")
        return out


@dataclass
class Faults:
    kills_central: int = 0
    kills_hall: int = 0
    cuts: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        cuts = ", ".join(f"{k} {v}" for k, v in sorted(self.cuts.items()))
        return (
            f"faults: kill -9 central {self.kills_central}, kill -9 hall {self.kills_hall}; "
            f"cuts {sum(self.cuts.values())} ({cuts or 'none'})"
        )


class Testbed:
    """Central (SQLite file or a fresh PostgreSQL database) and halls, each its own process.

    Use as a context manager: every child is killed and the proxies stopped on the way out,
    whatever happened, and a PostgreSQL database made for it is dropped.
    """

    __test__ = False  # pytest: a harness, not a test class

    def __init__(
        self,
        folder: Path,
        *,
        central: str = "sqlite",
        halls: tuple[str, ...] = HALLS,
        premises: int = 40,
        seed: int = 1,
        clock_offsets_h: tuple[tuple[float, ...], ...] = (),
        interval: float = 0.02,
        pg_admin_url: str = PG_ADMIN_URL,
        say: Callable[[str], None] = lambda _line: None,
    ) -> None:
        self.folder = folder
        self.kind = central
        self.site_codes = halls
        self.premises = premises
        self.seed = seed
        self.offsets = clock_offsets_h
        self.interval = interval
        self.pg_admin_url = pg_admin_url
        self.say = say
        self.rng = random.Random(seed)  # noqa: S311 - a repeatable fault schedule
        self.halls: list[HallSpec] = []
        self.central: Proc | None = None
        self.central_url = ""
        self.central_db = ""
        self._pg_name: str | None = None
        self.schema = ""
        self.faults = Faults()

    # --- setting up -----------------------------------------------------------------
    def __enter__(self) -> Testbed:
        try:
            self._setup()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _setup(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.central_db = self._central_database()
        engine = make_engine(self.central_db)
        try:
            migrate.upgrade(engine)
            from servicehall.demo.seed import seed_city

            seed_city(engine, premises=self.premises, seed=7)
            self.schema = migrate.current_revision(engine) or ""
            tokens = {code: central_side.issue_token(engine, code) for code in self.site_codes}
            with Session(engine) as session:
                ids = {code: id_ for code, id_ in session.execute(select(Site.code, Site.id))}
        finally:
            engine.dispose()
        port = free_port()
        self.central_url = f"http://127.0.0.1:{port}"
        self.central = Proc(
            "central",
            [*_python(), "central", "--db", self.central_db, "--port", str(port)],
            self.folder / "central.log",
        )
        self.start_central()
        template = self.folder / "hall-template.db"
        hall_engine = make_engine(f"sqlite:///{template}")
        migrate.upgrade(hall_engine)
        hall_engine.dispose()
        for i, code in enumerate(self.site_codes):
            path = self.folder / f"{code}.db"
            shutil.copyfile(template, path)
            url = f"sqlite:///{path}"
            hall_engine = make_engine(url)
            try:
                with provision.client_for(self.central_url, code, tokens[code]) as client:
                    provision.provision(hall_engine, client, self.schema)
            finally:
                hall_engine.dispose()
            proxy = FaultProxy("127.0.0.1", port, seed=self.seed * 100 + i)
            proxy.start()
            offsets = self.offsets[i] if i < len(self.offsets) else (0.0,)
            spec = HallSpec(
                code,
                ids[code],
                tokens[code],
                url,
                proxy,
                Proc(code, [], self.folder / f"{code}.log"),
                self.seed * 10 + i,
                offsets,
            )
            self.halls.append(spec)
        self.say(f"set up: central on {self.kind}, {len(self.halls)} halls provisioned")

    def _central_database(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.folder / 'central.db'}"
        if self.kind != "postgresql":
            raise ValueError(f"central is sqlite or postgresql, not {self.kind!r}")
        self._pg_name = f"servicehall_soak_{uuid.uuid4().hex[:12]}"
        admin = create_engine(self.pg_admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self._pg_name}"'))
        finally:
            admin.dispose()
        return self.pg_admin_url.rsplit("/", 1)[0] + f"/{self._pg_name}"

    def close(self) -> None:
        """Kill every child (no orphans), stop the proxies, drop a PostgreSQL database."""
        for hall in self.halls:
            hall.proc.kill()
        if self.central is not None:
            self.central.kill()
        for hall in self.halls:
            hall.proxy.stop()
        if self._pg_name is not None:
            admin = create_engine(self.pg_admin_url, isolation_level="AUTOCOMMIT")
            try:
                with admin.connect() as connection:
                    connection.execute(
                        text(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)')
                    )
            finally:
                admin.dispose()
            self._pg_name = None

    # --- processes --------------------------------------------------------------------
    def start_central(self) -> None:
        assert self.central is not None  # noqa: S101
        self.central.start()
        self.central.wait_for("listening on")

    def kill_central(self) -> None:
        assert self.central is not None  # noqa: S101
        self.central.kill()
        self.faults.kills_central += 1

    def start_hall(self, i: int, *, wait: bool = True) -> None:
        hall = self.halls[i]
        hall.proc.start(hall.argv(interval=self.interval))
        if wait:
            hall.proc.wait_for("ready")

    def kill_hall(self, i: int) -> None:
        self.halls[i].proc.kill()
        self.faults.kills_hall += 1

    def start_all(self) -> None:
        for i in range(len(self.halls)):
            self.start_hall(i, wait=False)
        for hall in self.halls:
            hall.proc.wait_for("ready")

    # --- faults -----------------------------------------------------------------------
    def cut(self, i: int, fault: Fault, hold_s: float) -> None:
        """Fault hall ``i``'s link for ``hold_s``, then let it pass again."""
        proxy = self.halls[i].proxy
        proxy.set_mode(fault)
        if fault is not Fault.STALL and self.rng.random() < 0.3:
            proxy.cut_all()  # also what is in flight on kept-alive connections
        time.sleep(hold_s)
        proxy.set_mode(Fault.PASS)
        self.faults.cuts[fault.value] = self.faults.cuts.get(fault.value, 0) + 1

    def run_faults(
        self,
        kills: int,
        cuts: int,
        *,
        pause_s: tuple[float, float] = (0.1, 0.6),
        hold_s: tuple[float, float] = (0.2, 1.5),
    ) -> None:
        """``kills`` kill -9s (of a hall or of central) and ``cuts`` link faults, shuffled,
        each at a random instant while the halls work and sync; what was killed restarts."""
        events = ["kill"] * kills + ["cut"] * cuts
        self.rng.shuffle(events)
        for n, event in enumerate(events, start=1):
            time.sleep(self.rng.uniform(*pause_s))
            if event == "kill":
                target = self.rng.randrange(len(self.halls) + 1)
                if target == len(self.halls):
                    self.kill_central()
                    time.sleep(self.rng.uniform(0.0, 0.3))
                    self.start_central()
                else:
                    self.kill_hall(target)
                    self.start_hall(target)
            else:
                self.cut(
                    self.rng.randrange(len(self.halls)),
                    random_fault(self.rng, FAILURES),
                    self.rng.uniform(*hold_s),
                )
            for i, hall in enumerate(self.halls):
                if not hall.proc.alive:  # a hall that died by itself is a finding: say it
                    self.say(f"{hall.site} exited by itself:\n{hall.proc.output()[-1500:]}")
                    self.start_hall(i)
            if n % 20 == 0:
                self.say(f"{n}/{len(events)} faults; {self.faults.line()}")

    # --- the end ----------------------------------------------------------------------
    def drain(self, timeout_s: float = 120.0) -> None:
        """Stop the faults and the work; sync every hall until nothing is pending either way
        (twice, so a hall also gets what another hall sent after its first pass)."""
        for hall in self.halls:
            hall.proxy.set_mode(Fault.PASS)
            hall.proc.kill()
        assert self.central is not None  # noqa: S101
        if not self.central.alive:
            self.start_central()
        for _ in range(2):
            for hall in self.halls:
                hall.proc.start(
                    [
                        *hall.argv(ops=0),
                        "--deadline",
                        str(timeout_s),
                    ]
                )
            for hall in self.halls:
                code = hall.proc.wait_exit(timeout_s + 30)
                if code != 0:
                    raise SoakError(f"{hall.site} did not drain:\n{hall.proc.output()[-2000:]}")

    def report(self) -> Report:
        central = make_engine(self.central_db)
        try:
            halls = [self._hall_report(central, hall) for hall in self.halls]
            duplicated = _duplicates(central)
        finally:
            central.dispose()
        return Report(halls, duplicated)

    def _hall_report(self, central: Engine, hall: HallSpec) -> HallReport:
        engine = make_engine(hall.db_url)
        try:
            tables: dict[str, TableCheck] = {}
            for synced in UP:
                table = synced.table
                made = _rows_of(engine, table, hall.site_id)
                theirs = _rows_of(central, table, hall.site_id)
                tables[synced.name] = TableCheck(
                    len(made),
                    len(theirs),
                    sorted(made.keys() - theirs.keys()),
                    sorted(theirs.keys() - made.keys()),
                    sorted(k for k in made.keys() & theirs.keys() if made[k] != theirs[k]),
                )
            with Session(engine) as session:
                hall_seq = int(
                    session.scalar(
                        text("SELECT seq FROM sqlite_sequence WHERE name = 'sync_changes'")
                    )
                    or 0
                )
            with Session(central) as session:
                peer = session.get(SyncPeer, hall.site_id)
                central_seq = peer.up_seq if peer is not None else 0
            hall_obj = central_side.Hall(hall.site_id, hall.site)
            theirs_ref = drift.digests(central, central_side.slice_of(central, hall_obj))
            ours_ref = drift.digests(engine, Slice(hall.site_id))
            missing = _payments_missing(central, engine, hall)
        finally:
            engine.dispose()
        return HallReport(
            hall.site,
            tables,
            hall_seq,
            central_seq,
            drift.differing(theirs_ref, ours_ref),
            missing,
        )


def _rows_of(engine: Engine, table: Any, site_id: uuid.UUID) -> dict[str, Any]:
    """Every row ``site_id`` made in ``table``, by id, as it travels (dialect-neutral text)."""
    with Session(engine) as session:
        rows = session.execute(select(table).where(table.c.origin_site_id == site_id)).all()
    return {str(r._mapping["id"]): encode_row(table, r) for r in rows}


def _duplicates(engine: Engine) -> dict[str, list[str]]:
    """Natural keys present twice at central: one payment or ticket under two ids."""
    with Session(engine) as session:
        payments = session.execute(
            select(Payment.idempotency_key)
            .group_by(Payment.idempotency_key)
            .having(func.count() > 1)
        ).scalars()
        tickets = session.execute(
            select(
                QueueTicket.origin_site_id,
                QueueTicket.issued_category_id,
                QueueTicket.service_day,
                QueueTicket.seq,
            )
            .group_by(
                QueueTicket.origin_site_id,
                QueueTicket.issued_category_id,
                QueueTicket.service_day,
                QueueTicket.seq,
            )
            .having(func.count() > 1)
        ).all()
        return {
            "payments.idempotency_key": [str(k) for k in payments],
            "queue_tickets (origin, category, day, seq)": [str(tuple(t)) for t in tickets],
        }


def _payments_missing(central: Engine, engine: Engine, hall: HallSpec) -> int:
    """Central's payments (from any site) of accounts the hall keeps, absent at the hall."""
    with Session(engine) as session:
        accounts = set(session.scalars(select(Account.id)).all())
        ours = set(session.scalars(select(Payment.id)).all())
    with Session(central) as session:
        theirs = session.execute(select(Payment.id, Payment.account_id)).all()
    wanted = {pid for pid, account in theirs if account in accounts}
    return len(wanted - ours)
