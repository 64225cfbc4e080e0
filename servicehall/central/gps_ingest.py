"""Positions from the field into the GPS store: phones' OwnTracks messages and vans' NMEA
units bridged to the same messages (``servicehall gps-bridge``).

Central subscribes to ``owntracks/+/+`` on its MQTT link (QoS 1, the link's persistent
session: fixes sent while central restarts wait at the broker). The MQTT network thread only
queues what arrives; a writer parses, judges and writes in batches, so a slow database never
stalls the MQTT connection and a hostile payload never reaches it:

- **Malformed** (``owntracks.parse`` refuses it) — counted per reason and dropped.
- **Unknown user** (no technician has that ``tracker_user``) — counted and dropped. The
  technician list is reloaded on a miss, at most every ``reload_every``.
- **Duplicate** (same technician, same ``tst`` as the newest fix) — dropped: a QoS 1
  redelivery. The store also holds one fix per technician per second (a unique index), so
  a redelivered *older* fix lands once too.
- **Out of order** (older than the newest) — stored in the track, not shown as live: a
  phone flushing what it queued while offline must not drag the live map back.
- **Last Will** (``_type: lwt``: the broker lost the phone) — the position stays, marked
  offline until the next fix.

**Where the writer runs.** ``writer="thread"`` (the default; tests, small sites) parses and
writes in a thread of this process. ``writer="process"`` (what ``build_central`` uses) runs
it in a fresh interpreter of its own: paho is pure Python, a writer sharing its GIL delays
the acknowledgements while the broker sends no more than its in-flight window (Mosquitto:
20) unacknowledged, and a writer that dies is replaced without losing its batch. Either way
this object keeps the counters, the live positions and the health entry; the writer
reports them back after every batch. ``bench/gps_ingest.py`` measures both.

The newest position of each technician is kept in memory and in ``technician_positions``
(one row per technician, upserted per batch, only ever moved forward); a technician whose
newest fix is older than ``stale_after`` is *stale*. The store is kept bounded by
:func:`apply_retention` (run by the writer every ``retention_every``): every fix for
``full_for``, then one per technician per ``sample_every`` until ``sampled_for``, then
nothing — except each technician's newest fix, which is never deleted.

Counters are on ``GET /health`` as the ``gps_ingest`` component's detail. If the database
is unreachable the prepared batch is kept and retried; while that lasts the queue grows up
to ``max_queue`` messages, beyond which new ones are counted as ``overflow`` and dropped
(1,000 crews at one fix per 5 s fill 200,000 places in about 17 minutes).
"""

from __future__ import annotations

import collections
import contextlib
import gc
import logging
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from multiprocessing.connection import Connection as Pipe
from typing import Any, Literal, Protocol

from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    bindparam,
    event,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from field_dispatch import owntracks
from servicedb.engine import make_engine
from servicedb.ids import new_id
from servicedb.models import GpsFix, Technician, TechnicianPosition
from servicedb.types import UTCDateTime, utcnow
from servicehall.platform.health import HealthBoard

log = logging.getLogger(__name__)

SUBSCRIPTION = "owntracks/+/+"
COMPONENT = "gps_ingest"
Writer = Literal["thread", "process"]


class Subscribes(Protocol):
    """What the ingest needs of the process's MQTT link (``platform.mqtt_link.MqttLink``)."""

    def subscribe(self, topic: str, handler: Callable[[str, bytes], None], qos: int = 1) -> None:
        """Call ``handler(topic, payload)`` for every message on ``topic``."""


@dataclass
class IngestCounters:
    """Since the process started. ``received`` = everything the broker gave us."""

    received: int = 0
    stored: int = 0  # new rows in gps_fixes
    live: int = 0  # fixes that moved a technician's live position
    duplicate: int = 0
    out_of_order: int = 0
    unknown_user: int = 0
    ignored: int = 0  # OwnTracks types we do not use (transition, waypoint, …)
    offline: int = 0  # Last Will messages
    overflow: int = 0
    write_errors: int = 0
    malformed: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def malformed_total(self) -> int:
        return sum(self.malformed.values())


@dataclass(frozen=True)
class LivePosition:
    technician_id: uuid.UUID
    crew_id: uuid.UUID
    user: str
    device: str
    at: datetime  # when the phone took the fix
    lon: float
    lat: float
    acc_m: float | None
    vel_kmh: float | None
    cog_deg: float | None
    batt_pct: int | None
    stale: bool  # silent for longer than stale_after
    offline_since: datetime | None  # the broker lost the phone (Last Will) and it has not been back


@dataclass(frozen=True)
class RetentionPolicy:
    """How long fixes are kept, and how densely. Defaults: 1,000 crews at a fix per 5 s make
    17 M fixes a day; three days of every fix and a month at one a minute is ~90 M rows."""

    full_for: timedelta = timedelta(days=3)
    sampled_for: timedelta = timedelta(days=30)
    sample_every: timedelta = timedelta(minutes=1)

    def __post_init__(self) -> None:
        step = self.sample_every.total_seconds()
        if step < 1 or step != int(step) or 86400 % int(step):
            raise ValueError("sample_every is whole seconds dividing a day")
        if not timedelta(0) <= self.full_for <= self.sampled_for:
            raise ValueError("full_for ≤ sampled_for")


@dataclass(frozen=True)
class RetentionResult:
    expired: int  # older than sampled_for
    thinned: int  # between full_for and sampled_for, beyond one per sample_every
    thinned_until: datetime


# --- the writer: parse, judge, write ---------------------------------------------------------


@dataclass
class _Batch:
    """Rows prepared from one drain of the queue; kept and retried if writing fails."""

    fixes: dict[tuple[uuid.UUID, datetime], dict[str, Any]] = field(default_factory=dict)
    live: dict[uuid.UUID, tuple[owntracks.Fix, datetime]] = field(default_factory=dict)
    offline: dict[uuid.UUID, datetime] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.fixes or self.live or self.offline)


# device, tst (epoch seconds), lon, lat, acc, vel, cog, batt
_Seen = tuple[str, float, float, float, float | None, float | None, float | None, int | None]


def _seen(fix: owntracks.Fix) -> _Seen:
    return (
        fix.device,
        fix.at.timestamp(),
        fix.lon,
        fix.lat,
        fix.acc_m,
        fix.vel_kmh,
        fix.cog_deg,
        fix.batt_pct,
    )


@dataclass
class Outcome:
    """What one batch did, for the counters, the live map and the health entry."""

    counts: collections.Counter[str] = field(default_factory=collections.Counter)
    malformed: collections.Counter[str] = field(default_factory=collections.Counter)
    # user → the newest fix, as plain values: thousands cross the pipe a second, and a
    # tuple of numbers unpickles many times faster than a dataclass.
    live: dict[str, _Seen] = field(default_factory=dict)
    offline: dict[str, datetime | None] = field(default_factory=dict)  # None: back online
    technicians: dict[str, tuple[uuid.UUID, uuid.UUID]] | None = None  # when (re)loaded
    failing: str = ""  # the batch is kept for retry: why it could not be written
    items: int = 0  # messages this outcome accounts for


@dataclass(frozen=True)
class _Settings:
    """What the writer needs; plain values, so it can cross into the writer process."""

    stale_after: timedelta
    reload_every: timedelta
    retention: RetentionPolicy | None
    retention_every: timedelta


class _Core:
    """The writer's state and work. One instance, in one thread, in one process."""

    def __init__(
        self, engine: Engine, settings: _Settings, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._clock = clock
        self._filter = owntracks.FixFilter(stale_after=settings.stale_after)
        self._techs: dict[str, tuple[uuid.UUID, uuid.UUID]] = {}
        self._loaded_at: float | None = None
        self._reloaded = False
        self._unwritten = _Batch()
        self._thinned_until: datetime | None = None
        self._retained_at = time.monotonic()

    def prime(self) -> Outcome:
        """Load the technicians and the newest stored positions (a restart must not take an
        old, queued fix for a live one)."""
        self._load_technicians()
        by_id = {tech_id: user for user, (tech_id, _crew) in self._techs.items()}
        outcome = Outcome()
        with Session(self._engine) as session:
            rows = session.scalars(select(TechnicianPosition)).all()
        for row in rows:
            user = by_id.get(row.technician_id)
            if user is None:
                continue
            fix = owntracks.Fix(
                user=user,
                device=row.device,
                at=row.fix_at,
                lon=row.lon,
                lat=row.lat,
                acc_m=row.accuracy_m,
                vel_kmh=row.speed_kmh,
                cog_deg=row.course_deg,
                batt_pct=row.battery_pct,
            )
            self._filter.offer(fix)
            outcome.live[user] = _seen(fix)
            if row.offline_since is not None:
                outcome.offline[user] = row.offline_since
        outcome.technicians = dict(self._techs)
        self._reloaded = False
        return outcome

    def process(self, items: list[tuple[str, bytes]]) -> Outcome:
        """Write what an earlier batch left, then these messages."""
        outcome = Outcome(items=len(items))
        batches = [self._unwritten] if self._unwritten else []
        self._unwritten = _Batch()
        if items:
            batches.append(self._prepare(items, outcome))
        for n, batch in enumerate(batches):
            try:
                outcome.counts["stored"] += self._write(batch)
            except (SQLAlchemyError, self._engine.dialect.loaded_dbapi.Error) as err:
                # Kept whole for the next round; the driver's message, not the statement.
                outcome.failing = str(getattr(err, "orig", None) or err).splitlines()[0][:160]
                outcome.counts["write_errors"] += 1
                log.warning("GPS ingest: a batch is kept for retry: %s", outcome.failing)
                merged = _Batch()
                for rest in batches[n:]:
                    merged.fixes.update(rest.fixes)
                    merged.live.update(rest.live)
                    merged.offline.update(rest.offline)
                self._unwritten = merged
                break
        if self._reloaded:
            outcome.technicians = dict(self._techs)
            self._reloaded = False
        return outcome

    @property
    def failing(self) -> bool:
        return bool(self._unwritten)

    def retain_if_due(self) -> RetentionResult | None:
        policy = self._settings.retention
        every = self._settings.retention_every.total_seconds()
        if policy is None or time.monotonic() - self._retained_at < every:
            return None
        self._retained_at = time.monotonic()
        result = apply_retention(self._engine, policy, self._clock(), since=self._thinned_until)
        self._thinned_until = result.thinned_until
        return result

    def _prepare(self, items: Iterable[tuple[str, bytes]], outcome: Outcome) -> _Batch:
        batch = _Batch()
        now = self._clock()
        counts, malformed = outcome.counts, outcome.malformed
        for topic, payload in items:
            parsed = owntracks.parse(topic, payload, now)
            if isinstance(parsed, owntracks.Rejected):
                malformed[parsed.reason.value] += 1
                continue
            if isinstance(parsed, owntracks.Ignored):
                counts["ignored"] += 1
                continue
            tech = self._technician(parsed.user)
            if tech is None:
                counts["unknown_user"] += 1
                continue
            tech_id = tech[0]
            if isinstance(parsed, owntracks.Lwt):
                counts["offline"] += 1
                batch.offline[tech_id] = now
                outcome.offline[parsed.user] = now
                continue
            verdict = self._filter.offer(parsed)
            if verdict is owntracks.Verdict.DUPLICATE:
                counts["duplicate"] += 1
                continue
            if verdict is owntracks.Verdict.OUT_OF_ORDER:
                counts["out_of_order"] += 1
            else:
                counts["live"] += 1
                batch.live[tech_id] = (parsed, now)
                batch.offline.pop(tech_id, None)
                outcome.live[parsed.user] = _seen(parsed)
                outcome.offline[parsed.user] = None
            batch.fixes.setdefault((tech_id, parsed.at), _fix_row(tech_id, parsed))
        return batch

    def _write(self, batch: _Batch) -> int:
        stored = 0
        with self._engine.begin() as connection:
            if batch.fixes:
                stored = _insert_fixes(connection, list(batch.fixes.values()))
            if batch.live:
                _upsert_positions(
                    connection,
                    [_position_row(tech, fix, at) for tech, (fix, at) in batch.live.items()],
                )
            for tech_id, since in batch.offline.items():
                connection.execute(
                    update(TechnicianPosition)
                    .where(
                        TechnicianPosition.technician_id == tech_id,
                        TechnicianPosition.offline_since.is_(None),
                    )
                    .values(offline_since=since)
                )
        return stored

    def _load_technicians(self) -> None:
        with Session(self._engine) as session:
            rows = session.execute(
                select(Technician.tracker_user, Technician.id, Technician.crew_id)
            ).all()
        self._techs = {user: (tech_id, crew_id) for user, tech_id, crew_id in rows}
        self._loaded_at = time.monotonic()
        self._reloaded = True

    def _technician(self, user: str) -> tuple[uuid.UUID, uuid.UUID] | None:
        tech = self._techs.get(user)
        if tech is None and (
            self._loaded_at is None
            or time.monotonic() - self._loaded_at >= self._settings.reload_every.total_seconds()
        ):
            self._load_technicians()  # a technician added since; rate-limited against floods
            tech = self._techs.get(user)
        return tech


def _positions_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def writer_cli() -> None:
    """The writer process's entry: argv[1] is its end of the socket pair."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    )
    conn = Pipe(int(sys.argv[1]))
    url, settings = conn.recv()
    _writer_main(conn, url, settings)


def _writer_main(conn: Pipe, url: str, settings: _Settings) -> None:
    """The writer process: batches in, outcomes out, retention on its own schedule."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        # Positions, not payments: in WAL mode NORMAL never corrupts, and a power cut may
        # cost the last moments of track. No other kind of row shares these connections.
        event.listen(engine, "connect", _positions_only)
    core = _Core(engine, settings)
    try:
        conn.send(core.prime())
        # Everything loaded so far lives as long as the process; batches make short-lived
        # garbage only, in bulk: fewer, later collections.
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)
        while True:
            if conn.poll(1.0 if not core.failing else 0.5):
                message = conn.recv()
                if message is None:
                    break
                conn.send(core.process(message))
            elif core.failing:
                conn.send(core.process([]))  # retry what is kept
            result = core.retain_if_due()
            if result is not None and (result.expired or result.thinned):
                log.info("GPS store: %d expired, %d thinned", result.expired, result.thinned)
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        engine.dispose()


# --- what the rest of central talks to --------------------------------------------------------


class GpsIngest:
    """One per central process: ``attach`` to the link before it starts, then ``start``."""

    def __init__(
        self,
        engine: Engine,
        health: HealthBoard | None = None,
        *,
        writer: Writer = "thread",
        clock: Callable[[], datetime] = utcnow,
        stale_after: timedelta = timedelta(minutes=10),
        batch_size: int = 2000,
        linger: timedelta = timedelta(milliseconds=20),
        max_queue: int = 200_000,
        reload_every: timedelta = timedelta(seconds=30),
        retention: RetentionPolicy | None = RetentionPolicy(),
        retention_every: timedelta = timedelta(hours=1),
    ) -> None:
        if writer == "process" and clock is not utcnow:
            raise ValueError("a writer process keeps the real clock")
        self._engine = engine
        self._health = health
        self._writer = writer
        self._clock = clock
        self._batch_size = batch_size
        self._linger_s = linger.total_seconds()
        self._max_queue = max_queue
        self._settings = _Settings(stale_after, reload_every, retention, retention_every)
        self._queue: collections.deque[tuple[str, bytes]] = collections.deque()
        self._core: _Core | None = (
            None if writer == "process" else _Core(engine, self._settings, clock)
        )
        self._live: dict[str, _Seen] = {}
        self._offline: dict[str, datetime] = {}
        self._techs: dict[str, tuple[uuid.UUID, uuid.UUID]] = {}
        self._failing = ""
        self.counters = IngestCounters()
        self._counted = threading.Condition(threading.Lock())
        self._lock = threading.Lock()  # one batch at a time
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._pipe: Pipe | None = None
        self._primed = False

    # --- the MQTT side: any thread, never blocks, never raises -----------------------------

    def attach(self, link: Subscribes) -> None:
        link.subscribe(SUBSCRIPTION, self.offer, qos=1)

    def offer(self, topic: str, payload: bytes) -> None:
        with self._counted:
            self.counters.received += 1
            if len(self._queue) >= self._max_queue:
                self.counters.overflow += 1
                return
        self._queue.append((topic, payload))
        if len(self._queue) == 1:  # more means the writer was woken already
            self._wake.set()

    # --- running ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._writer == "process":
            self._start_process()
        elif not self._primed:
            self.prime()
        self._report()
        self._thread = threading.Thread(target=self._run, name="gps-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Write what is queued, then stop."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._pipe is not None and self._process is not None:
            with contextlib.suppress(OSError):
                self._pipe.send(None)
            try:
                self._process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._pipe.close()
        if self._health is not None:
            self._health.set(COMPONENT, "stopped", self._summary())

    def prime(self) -> None:
        """Load technicians and stored positions now (``start`` and the first ``flush`` do)."""
        with self._lock:
            if self._core is not None:
                self._apply(self._core.prime())
            self._primed = True

    def flush(self) -> int:
        """Write everything queued now; returns the number of new fixes stored."""
        with self._lock:
            if not self._primed and self._core is not None:
                self._apply(self._core.prime())
                self._primed = True
            stored = 0
            while True:
                items = self._drain()
                if not items and not self._failing:
                    break
                outcome = self._send(items)
                stored += outcome.counts["stored"]
                if outcome.failing:
                    break
            self._report()
            return stored

    def _run(self) -> None:
        while True:
            self._wake.wait(1.0)
            self._wake.clear()
            if len(self._queue) < self._batch_size and not self._stopping.is_set():
                # Linger a moment so a burst is written in few transactions, not one each.
                self._stopping.wait(self._linger_s)
            try:
                self.flush()
                if self._core is not None:
                    self._core.retain_if_due()
            except Exception:  # the writer must outlive any one bad batch
                log.exception("GPS ingest: a batch failed")
                time.sleep(1.0)
            if self._stopping.is_set() and not self._queue:
                return

    def _drain(self) -> list[tuple[str, bytes]]:
        items = []
        for _ in range(self._batch_size):
            try:
                items.append(self._queue.popleft())
            except IndexError:
                break
        return items

    def _send(self, items: list[tuple[str, bytes]]) -> Outcome:
        outcome = self._core.process(items) if self._core is not None else self._ask(items)
        self._apply(outcome)
        return outcome

    # --- the writer process ----------------------------------------------------------------

    def _start_process(self) -> None:
        # A fresh interpreter on one end of a socket pair. Not multiprocessing's spawn: it
        # re-imports the parent's __main__, and `python -m servicehall` would start again.
        mine, theirs = socket.socketpair()
        fd = theirs.fileno()
        command = "from servicehall.central.gps_ingest import writer_cli; writer_cli()"
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-c", command, str(fd)], pass_fds=(fd,), stdin=subprocess.DEVNULL
        )
        theirs.close()
        self._pipe = Pipe(mine.detach())
        self._pipe.send((self._engine.url.render_as_string(hide_password=False), self._settings))
        if not self._pipe.poll(60):
            self._process.kill()
            raise RuntimeError("the GPS writer process did not start")
        self._apply(self._pipe.recv())
        self._primed = True

    def _ask(self, items: list[tuple[str, bytes]]) -> Outcome:
        """One batch to the writer process and its outcome. If the writer died, a new one
        gets the same batch (what the old one may have written already is stored once); if
        none can be started, the batch goes back to the front of the queue."""
        for attempt in range(2):
            assert self._pipe is not None and self._process is not None  # noqa: S101 - started
            try:
                self._pipe.send(items)
                while not self._pipe.poll(1.0):
                    if self._process.poll() is not None:
                        raise EOFError(f"exit status {self._process.returncode}")
                outcome: Outcome = self._pipe.recv()
                return outcome
            except (EOFError, OSError) as err:
                log.error("GPS ingest: the writer process stopped (%s); starting another", err)
                with self._counted:
                    self.counters.write_errors += 1
                self._failing = f"writer process stopped: {err}"
                try:
                    self._start_process()
                except Exception:
                    if attempt:
                        break
                    time.sleep(1.0)
        self._queue.extendleft(reversed(items))
        raise RuntimeError("no GPS writer process; the batch waits in the queue")

    # --- the mirror of the writer's state ---------------------------------------------------

    def _apply(self, outcome: Outcome) -> None:
        if outcome.technicians is not None:
            self._techs = outcome.technicians
        self._live.update(outcome.live)
        for user, since in outcome.offline.items():
            if since is None:
                self._offline.pop(user, None)
            else:
                self._offline[user] = since
        self._failing = outcome.failing
        with self._counted:
            c = self.counters
            for name, value in outcome.counts.items():
                setattr(c, name, getattr(c, name) + value)
            c.malformed.update(outcome.malformed)
            self._counted.notify_all()

    def positions(self) -> list[LivePosition]:
        """Every technician's newest position, with whether it is stale or offline."""
        now = self._clock()
        stale_after = self._settings.stale_after
        out = []
        for user, (tech_id, crew_id) in sorted(self._techs.items()):
            seen = self._live.get(user)
            if seen is None:
                continue
            device, epoch, lon, lat, acc, vel, cog, batt = seen
            at = datetime.fromtimestamp(epoch, UTC)
            out.append(
                LivePosition(
                    technician_id=tech_id,
                    crew_id=crew_id,
                    user=user,
                    device=device,
                    at=at,
                    lon=lon,
                    lat=lat,
                    acc_m=acc,
                    vel_kmh=vel,
                    cog_deg=cog,
                    batt_pct=batt,
                    stale=now - at > stale_after,
                    offline_since=self._offline.get(user),
                )
            )
        return out

    @property
    def writer_pid(self) -> int | None:
        """The writer process's id (``writer="process"``), for operators and tests."""
        return None if self._process is None else self._process.pid

    @property
    def queued(self) -> int:
        """Messages received and not yet handed to the writer."""
        return len(self._queue)

    def position(self, user: str) -> LivePosition | None:
        return next((p for p in self.positions() if p.user == user), None)

    def wait_until(
        self, condition: Callable[[IngestCounters], bool], timeout_s: float = 10.0
    ) -> bool:
        """Block until the counters satisfy ``condition`` (checked after every batch)."""
        with self._counted:
            return self._counted.wait_for(lambda: condition(self.counters), timeout_s)

    def _summary(self) -> str:
        c = self.counters
        now = self._clock()
        seen = sum(user in self._live for user in self._techs)
        oldest = (now - self._settings.stale_after).timestamp()
        stale = sum(seen[1] < oldest for user, seen in self._live.items() if user in self._techs)
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(c.malformed.items()))
        failing = f"cannot write ({self._failing}); " if self._failing else ""
        return failing + (
            f"received {c.received}, stored {c.stored}, live {c.live}, "
            f"duplicate {c.duplicate}, out_of_order {c.out_of_order}, "
            f"unknown_user {c.unknown_user}, ignored {c.ignored}, offline {c.offline}, "
            f"malformed {c.malformed_total}{f' ({reasons})' if reasons else ''}, "
            f"overflow {c.overflow}, write_errors {c.write_errors}, queued {len(self._queue)}; "
            f"technicians {seen} seen, {stale} stale"
        )

    def _report(self) -> None:
        """The counters onto the health board, after every batch."""
        if self._health is not None:
            state = "degraded" if self._failing else "connected"
            self._health.set(COMPONENT, state, self._summary())


# --- rows and statements ------------------------------------------------------------------

_FIX_COLUMNS = (
    "id",
    "technician_id",
    "fix_at",
    "lon",
    "lat",
    "accuracy_m",
    "speed_kmh",
    "course_deg",
    "source",
)


_POSITION_COLUMNS = (
    "technician_id",
    "device",
    "fix_at",
    "lon",
    "lat",
    "accuracy_m",
    "speed_kmh",
    "course_deg",
    "battery_pct",
    "received_at",
    "offline_since",
)
# Forward only, even with two writers: an older fix never overwrites a newer one.
_UPSERT_TAIL = (
    " ON CONFLICT (technician_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _POSITION_COLUMNS[1:])
    + " WHERE excluded.fix_at > technician_positions.fix_at"
)


@lru_cache(maxsize=8)
def _plan(
    dialect: Dialect, table_name: str, columns: tuple[str, ...], tail: str
) -> tuple[str, list[Callable[[Any], Any] | None]]:
    """A DB-API INSERT and the columns' own bind conversions (UUIDs, UTC times).

    Thousands of rows a second: SQLAlchemy's per-row statement machinery costs more than
    parsing the JSON did, so the rows go to the driver's executemany, converted by the same
    type processors the ORM would use.
    """
    table = GpsFix.__table__ if table_name == "gps_fixes" else TechnicianPosition.__table__
    processors: list[Callable[[Any], Any] | None] = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {table_name} ({', '.join(columns)}) "  # noqa: S608 - our own names
        f"VALUES ({', '.join(mark for _ in columns)}){tail}"
    )
    return sql, processors


# Values that repeat across rows and batches (a technician's id, a second's timestamp) are
# converted once: the conversions cost more than the insert itself.
_MEMO_COLUMNS = frozenset({"technician_id", "fix_at", "received_at"})
_memo: dict[tuple[str, str], dict[Any, Any]] = {}


def _executemany(
    connection: Connection,
    table: str,
    columns: tuple[str, ...],
    tail: str,
    rows: list[dict[str, Any]],
) -> int:
    sql, processors = _plan(connection.dialect, table, columns, tail)
    converted: list[list[Any]] = []
    for name, convert in zip(columns, processors, strict=True):
        raw = [row[name] for row in rows]
        if convert is None:
            converted.append(raw)
        elif name in _MEMO_COLUMNS:
            memo = _memo.setdefault((connection.dialect.name, name), {})
            if len(memo) > 100_000:
                memo.clear()
            out = []
            for value in raw:
                done = memo.get(value)
                if done is None:
                    done = memo[value] = convert(value)
                out.append(done)
            converted.append(out)
        else:
            converted.append([convert(value) for value in raw])
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, list(zip(*converted, strict=True)))
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _insert_fixes(connection: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert fixes, skipping any already stored; returns how many went in (the drivers'
    executemany rowcount is the sum over rows, and a skipped row counts 0)."""
    tail = " ON CONFLICT (technician_id, fix_at) DO NOTHING"
    return _executemany(connection, "gps_fixes", _FIX_COLUMNS, tail, rows)


def _upsert_positions(connection: Connection, rows: list[dict[str, Any]]) -> None:
    _executemany(connection, "technician_positions", _POSITION_COLUMNS, _UPSERT_TAIL, rows)


def _fix_row(tech_id: uuid.UUID, fix: owntracks.Fix) -> dict[str, Any]:
    return {
        "id": new_id(),
        "technician_id": tech_id,
        "fix_at": fix.at,
        "lon": fix.lon,
        "lat": fix.lat,
        "accuracy_m": fix.acc_m,
        "speed_kmh": fix.vel_kmh,
        "course_deg": fix.cog_deg,
        "source": "owntracks",
    }


def _position_row(tech_id: uuid.UUID, fix: owntracks.Fix, now: datetime) -> dict[str, Any]:
    return {
        "technician_id": tech_id,
        "device": fix.device[:40],
        "fix_at": fix.at,
        "lon": fix.lon,
        "lat": fix.lat,
        "accuracy_m": fix.acc_m,
        "speed_kmh": fix.vel_kmh,
        "course_deg": fix.cog_deg,
        "battery_pct": fix.batt_pct,
        "received_at": now,
        "offline_since": None,
    }


# --- retention ----------------------------------------------------------------------------

_AT = UTCDateTime()


# Keep the last fix of each technician in each bucket of ``:step`` seconds, in [a, b).
_THIN = (
    "DELETE FROM gps_fixes WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER"
    " (PARTITION BY technician_id, {bucket} ORDER BY fix_at DESC, id DESC) AS place"
    " FROM gps_fixes WHERE fix_at >= :a AND fix_at < :b) ranked WHERE place > 1)"
)
_THIN_SQL = {
    "postgresql": _THIN.replace("{bucket}", "floor(extract(epoch from fix_at) / :step)"),
    # SQLite keeps timestamps as text; strftime('%s') reads them as epoch seconds.
    "sqlite": _THIN.replace("{bucket}", "CAST(strftime('%s', fix_at) AS INTEGER) / :step"),
}


def _floor_to(at: datetime, step_s: int) -> datetime:
    seconds = int(at.timestamp()) // step_s * step_s
    return datetime.fromtimestamp(seconds, UTC)


def apply_retention(
    engine: Engine,
    policy: RetentionPolicy,
    now: datetime,
    *,
    since: datetime | None = None,
    chunk: int = 20_000,
) -> RetentionResult:
    """Delete expired fixes and thin old ones; each technician's newest fix always stays.

    Thinning keeps the *last* fix of each technician in each ``sample_every`` bucket, so the
    newest fix of a technician who fell silent is never the one removed. ``since`` is where
    an earlier run stopped thinning (from its result); without it the whole sampled window
    is thinned, a day at a time.
    """
    step = int(policy.sample_every.total_seconds())
    expire_before = now - policy.sampled_for
    thin_until = _floor_to(now - policy.full_for, step)
    start = _floor_to(max(since or expire_before, expire_before), step)
    expired = thinned = 0
    with engine.connect() as connection:
        dialect = connection.dialect.name
        expire = text(
            "DELETE FROM gps_fixes WHERE id IN (SELECT g.id FROM gps_fixes g"
            " WHERE g.fix_at < :cut AND g.fix_at < (SELECT max(n.fix_at) FROM gps_fixes n"
            " WHERE n.technician_id = g.technician_id) LIMIT :chunk)"
        ).bindparams(bindparam("cut", type_=_AT))
        while True:
            with connection.begin():
                deleted = connection.execute(
                    expire, {"cut": expire_before, "chunk": chunk}
                ).rowcount
            expired += deleted
            if deleted < chunk:
                break
        thin = text(_THIN_SQL[dialect]).bindparams(
            bindparam("a", type_=_AT), bindparam("b", type_=_AT)
        )
        window = start
        while window < thin_until:
            end = min(window + timedelta(days=1), thin_until)
            with connection.begin():
                thinned += connection.execute(thin, {"a": window, "b": end, "step": step}).rowcount
            window = end
    if expired or thinned:
        log.info("GPS store: %d fixes expired, %d thinned", expired, thinned)
    return RetentionResult(expired, thinned, max(start, thin_until))
