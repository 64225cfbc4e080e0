"""Positions from the field into the GPS store: phones' OwnTracks messages and vans' NMEA
units bridged to the same messages (``servicehall gps-bridge``).

Central subscribes to ``owntracks/+/+`` on its MQTT link (QoS 1, the link's persistent
session: fixes sent while central restarts wait at the broker). The network thread only
queues what arrives; one writer thread parses, judges and writes in batches, so a slow
database never stalls the MQTT connection and a hostile payload never reaches it:

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
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, FromClause, bindparam, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from field_dispatch import owntracks
from servicedb.ids import new_id
from servicedb.models import GpsFix, Technician, TechnicianPosition
from servicedb.types import UTCDateTime, utcnow
from servicehall.platform.health import HealthBoard

log = logging.getLogger(__name__)

SUBSCRIPTION = "owntracks/+/+"
COMPONENT = "gps_ingest"


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
class _Tech:
    id: uuid.UUID
    crew_id: uuid.UUID


@dataclass
class _Batch:
    """Rows prepared from one drain of the queue; kept and retried if writing fails."""

    fixes: dict[tuple[uuid.UUID, datetime], dict[str, Any]] = field(default_factory=dict)
    live: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    offline: dict[uuid.UUID, datetime] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.fixes or self.live or self.offline)


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


class GpsIngest:
    """One per central process: ``attach`` to the link before it starts, then ``start``."""

    def __init__(
        self,
        engine: Engine,
        health: HealthBoard | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        stale_after: timedelta = timedelta(minutes=10),
        batch_size: int = 2000,
        max_queue: int = 200_000,
        reload_every: timedelta = timedelta(seconds=30),
        retention: RetentionPolicy | None = RetentionPolicy(),
        retention_every: timedelta = timedelta(hours=1),
    ) -> None:
        self._engine = engine
        self._health = health
        self._clock = clock
        self._batch_size = batch_size
        self._max_queue = max_queue
        self._reload_every = reload_every.total_seconds()
        self._retention = retention
        self._retention_every = retention_every.total_seconds()
        self._queue: collections.deque[tuple[str, bytes]] = collections.deque()
        self._filter = owntracks.FixFilter(stale_after=stale_after)
        self._stale_after = stale_after
        self._techs: dict[str, _Tech] = {}
        self._loaded_at: float | None = None
        self._offline: dict[str, datetime] = {}
        self._unwritten = _Batch()
        self._thinned_until: datetime | None = None
        self._last_retention = time.monotonic()
        self.counters = IngestCounters()
        self._counted = threading.Condition()
        self._lock = threading.Lock()  # one flush at a time
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._primed = False
        self._reported_at = 0.0
        self._last_error = ""

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
        self._wake.set()

    # --- the writer -----------------------------------------------------------------------

    def start(self) -> None:
        if not self._primed:
            self.prime()
        if self._health is not None:
            self._health.set(COMPONENT, "connected", self._summary())
        self._thread = threading.Thread(target=self._run, name="gps-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Write what is queued, then stop."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._health is not None:
            self._health.set(COMPONENT, "stopped", self._summary())

    def _run(self) -> None:
        while True:
            self._wake.wait(1.0)
            self._wake.clear()
            try:
                self.flush()
                if self._retention is not None and (
                    time.monotonic() - self._last_retention >= self._retention_every
                ):
                    self._last_retention = time.monotonic()
                    result = apply_retention(
                        self._engine, self._retention, self._clock(), since=self._thinned_until
                    )
                    self._thinned_until = result.thinned_until
            except Exception:  # the writer must outlive any one bad batch
                log.exception("GPS ingest: a batch failed")
                time.sleep(1.0)
            if self._stopping.is_set() and not self._queue:
                self.flush()
                return

    def prime(self) -> None:
        """Load the technicians and the newest stored positions (a restart must not take an
        old, queued fix for a live one). ``start`` and the first ``flush`` do it."""
        with self._lock:
            self._prime()

    def _prime(self) -> None:
        self._load_technicians()
        by_id = {tech.id: user for user, tech in self._techs.items()}
        with Session(self._engine) as session:
            rows = session.scalars(select(TechnicianPosition)).all()
        for row in rows:
            user = by_id.get(row.technician_id)
            if user is None:
                continue
            self._filter.offer(
                owntracks.Fix(
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
            )
            if row.offline_since is not None:
                self._offline[user] = row.offline_since
        self._filter.counts = dict.fromkeys(owntracks.Verdict, 0)
        self._primed = True

    def flush(self) -> int:
        """Parse, judge and write everything queued now; returns the number of new fixes."""
        stored = 0
        with self._lock:
            if not self._primed:
                self._prime()
            while True:
                if not self._unwritten:
                    items = self._drain()
                    if not items:
                        break
                    self._unwritten = self._prepare(items)
                try:
                    stored += self._write(self._unwritten)
                except SQLAlchemyError as err:
                    # The driver's message, not the statement and its parameters.
                    self._last_error = str(getattr(err, "orig", None) or err).splitlines()[0]
                    with self._counted:
                        self.counters.write_errors += 1
                    log.warning("GPS ingest: a batch is kept for retry: %s", self._last_error)
                    break
                self._unwritten = _Batch()
            self._report()
        return stored

    def _drain(self) -> list[tuple[str, bytes]]:
        items = []
        for _ in range(self._batch_size):
            try:
                items.append(self._queue.popleft())
            except IndexError:
                break
        return items

    def _prepare(self, items: Iterable[tuple[str, bytes]]) -> _Batch:
        batch = _Batch()
        now = self._clock()
        counts: collections.Counter[str] = collections.Counter()
        malformed: collections.Counter[str] = collections.Counter()
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
            if isinstance(parsed, owntracks.Lwt):
                counts["offline"] += 1
                batch.offline[tech.id] = now
                self._offline[parsed.user] = now
                continue
            verdict = self._filter.offer(parsed)
            if verdict is owntracks.Verdict.DUPLICATE:
                counts["duplicate"] += 1
                continue
            if verdict is owntracks.Verdict.OUT_OF_ORDER:
                counts["out_of_order"] += 1
            else:
                counts["live"] += 1
                batch.live[tech.id] = _position_row(tech.id, parsed, now)
                batch.offline.pop(tech.id, None)
                self._offline.pop(parsed.user, None)
            batch.fixes.setdefault((tech.id, parsed.at), _fix_row(tech.id, parsed))
        with self._counted:
            c = self.counters
            c.ignored += counts["ignored"]
            c.unknown_user += counts["unknown_user"]
            c.offline += counts["offline"]
            c.duplicate += counts["duplicate"]
            c.out_of_order += counts["out_of_order"]
            c.live += counts["live"]
            c.malformed.update(malformed)
        return batch

    def _write(self, batch: _Batch) -> int:
        stored = 0
        with self._engine.begin() as connection:
            dialect = connection.dialect.name
            if batch.fixes:
                # RETURNING names only the rows inserted: rowcount is not reliable for
                # executemany (SQLAlchemy batches it into multi-row INSERTs).
                fixes = (
                    _insert(GpsFix.__table__, dialect)
                    .on_conflict_do_nothing(index_elements=["technician_id", "fix_at"])
                    .returning(GpsFix.__table__.c.id)
                )
                stored = len(connection.execute(fixes, list(batch.fixes.values())).all())
            if batch.live:
                table = TechnicianPosition.__table__
                upsert = _insert(table, dialect)
                upsert = upsert.on_conflict_do_update(
                    index_elements=["technician_id"],
                    set_={
                        c.name: upsert.excluded[c.name]
                        for c in table.columns
                        if c.name != "technician_id"
                    },
                    # Forward only, even with two writers: the newest fix wins.
                    where=upsert.excluded.fix_at > table.c.fix_at,
                )
                connection.execute(upsert, list(batch.live.values()))
            for tech_id, since in batch.offline.items():
                connection.execute(
                    update(TechnicianPosition)
                    .where(
                        TechnicianPosition.technician_id == tech_id,
                        TechnicianPosition.offline_since.is_(None),
                    )
                    .values(offline_since=since)
                )
        with self._counted:
            self.counters.stored += stored
            self._counted.notify_all()
        return stored

    # --- technicians ----------------------------------------------------------------------

    def _load_technicians(self) -> None:
        with Session(self._engine) as session:
            rows = session.execute(
                select(Technician.tracker_user, Technician.id, Technician.crew_id)
            ).all()
        self._techs = {user: _Tech(tech_id, crew_id) for user, tech_id, crew_id in rows}
        self._loaded_at = time.monotonic()

    def _technician(self, user: str) -> _Tech | None:
        tech = self._techs.get(user)
        if tech is None and (
            self._loaded_at is None or time.monotonic() - self._loaded_at >= self._reload_every
        ):
            self._load_technicians()  # a technician added since; rate-limited against floods
            tech = self._techs.get(user)
        return tech

    # --- what others read -----------------------------------------------------------------

    def positions(self) -> list[LivePosition]:
        """Every technician's newest position, with whether it is stale or offline."""
        now = self._clock()
        out = []
        for user, tech in sorted(self._techs.items()):
            fix = self._filter.last(user)
            if fix is None:
                continue
            out.append(
                LivePosition(
                    technician_id=tech.id,
                    crew_id=tech.crew_id,
                    user=user,
                    device=fix.device,
                    at=fix.at,
                    lon=fix.lon,
                    lat=fix.lat,
                    acc_m=fix.acc_m,
                    vel_kmh=fix.vel_kmh,
                    cog_deg=fix.cog_deg,
                    batt_pct=fix.batt_pct,
                    stale=self._filter.is_stale(user, now),
                    offline_since=self._offline.get(user),
                )
            )
        return out

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
        seen = sum(self._filter.last(user) is not None for user in self._techs)
        stale = sum(user in self._techs for user in self._filter.stale(now))
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(c.malformed.items()))
        failing = f"cannot write ({self._last_error[:160]}); " if self._unwritten else ""
        return failing + (
            f"received {c.received}, stored {c.stored}, live {c.live}, "
            f"duplicate {c.duplicate}, out_of_order {c.out_of_order}, "
            f"unknown_user {c.unknown_user}, ignored {c.ignored}, offline {c.offline}, "
            f"malformed {c.malformed_total}{f' ({reasons})' if reasons else ''}, "
            f"overflow {c.overflow}, write_errors {c.write_errors}, queued {len(self._queue)}; "
            f"technicians {seen} seen, {stale} stale"
        )

    def _report(self) -> None:
        """The counters onto the health board, at most twice a second (batches can be many)."""
        if self._health is None:
            return
        state = "connected" if not self._unwritten else "degraded"
        previous = self._health.get(COMPONENT)
        if (
            previous is not None
            and previous.state == state
            and time.monotonic() - self._reported_at < 0.5
        ):
            return
        self._reported_at = time.monotonic()
        self._health.set(COMPONENT, state, self._summary())


def _insert(table: FromClause, dialect: str) -> Any:
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


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
