"""The GPS ingest against real SQLite and PostgreSQL: batches, the live position, bad input,
silence, restarts, retention. Messages are handed in as the MQTT link would hand them."""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from servicedb.models import GpsFix, TechnicianPosition
from servicehall.central.gps_ingest import GpsIngest, RetentionPolicy, apply_retention
from servicehall.platform.health import HealthBoard
from tests.dispatch_field import builders

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def location(at: datetime, lon: float = 116.3652, lat: float = 39.9142, **extra: Any) -> bytes:
    doc = {"_type": "location", "lat": lat, "lon": lon, "tst": int(at.timestamp()), **extra}
    return json.dumps(doc).encode()


def stored(engine: Engine) -> list[tuple[datetime, float, float]]:
    with Session(engine) as session:
        rows = session.execute(
            select(GpsFix.fix_at, GpsFix.lon, GpsFix.lat).order_by(GpsFix.fix_at)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def live_row(engine: Engine) -> TechnicianPosition:
    with Session(engine) as session:
        row = session.scalars(select(TechnicianPosition)).one()
        session.expunge(row)
        return row


def test_fixes_land_in_the_store_and_the_newest_is_live(migrated: Engine) -> None:
    crew = builders.crew(migrated)
    clock = Clock(T0 + timedelta(minutes=1))
    ingest = GpsIngest(migrated, clock=clock)
    topic = f"owntracks/{crew.users[0]}/phone"
    for seconds, lon in ((0, 116.3601), (5, 116.3602), (10, 116.3603)):
        ingest.offer(topic, location(T0 + timedelta(seconds=seconds), lon, acc=12, vel=36, batt=80))
    assert ingest.flush() == 3
    assert stored(migrated) == [
        (T0, 116.3601, 39.9142),
        (T0 + timedelta(seconds=5), 116.3602, 39.9142),
        (T0 + timedelta(seconds=10), 116.3603, 39.9142),
    ]
    row = live_row(migrated)
    assert (row.technician_id, row.fix_at, row.lon, row.device) == (
        crew.technician_ids[0],
        T0 + timedelta(seconds=10),
        116.3603,
        "phone",
    )
    assert (row.accuracy_m, row.speed_kmh, row.battery_pct, row.offline_since) == (12, 36, 80, None)
    (live,) = ingest.positions()
    assert (live.user, live.crew_id, live.lon, live.stale) == (
        crew.users[0],
        crew.id,
        116.3603,
        False,
    )


def test_redelivered_and_late_fixes_are_stored_once_and_never_move_the_map_back(
    migrated: Engine,
) -> None:
    crew = builders.crew(migrated)
    ingest = GpsIngest(migrated, clock=Clock(T0 + timedelta(minutes=5)))
    topic = f"owntracks/{crew.users[0]}/phone"
    sequence = [(60, 116.31), (60, 116.99), (30, 116.32), (30, 116.32), (90, 116.33)]
    for seconds, lon in sequence:
        ingest.offer(topic, location(T0 + timedelta(seconds=seconds), lon))
        ingest.flush()  # one message per batch: the store, not the batch, catches the repeat
    c = ingest.counters
    assert (c.stored, c.live, c.duplicate, c.out_of_order) == (3, 2, 1, 2)
    assert [fix[:2] for fix in stored(migrated)] == [
        (T0 + timedelta(seconds=30), 116.32),
        (T0 + timedelta(seconds=60), 116.31),  # the first of two at one instant wins
        (T0 + timedelta(seconds=90), 116.33),
    ]
    assert live_row(migrated).fix_at == T0 + timedelta(seconds=90)


def test_unknown_users_ignored_types_and_garbage_are_counted_and_dropped(
    sqlite_db: Engine,
) -> None:
    crew = builders.crew(sqlite_db)
    health = HealthBoard("central", "central")
    ingest = GpsIngest(sqlite_db, health, clock=Clock(T0 + timedelta(minutes=1)))
    ingest.offer("owntracks/stranger/phone", location(T0))
    ingest.offer(f"owntracks/{crew.users[0]}/phone", b'{"_type":"location","lat":39.9')
    ingest.offer(f"owntracks/{crew.users[0]}/phone", b'{"_type":"waypoint","desc":"home"}')
    ingest.offer(f"owntracks/{crew.users[0]}/phone", location(T0 + timedelta(hours=2)))
    ingest.offer(f"owntracks/{crew.users[1]}/phone", location(T0))
    ingest.flush()
    c = ingest.counters
    assert (c.received, c.stored, c.unknown_user, c.ignored) == (5, 1, 1, 1)
    assert dict(c.malformed) == {"bad_json": 1, "in_future": 1}
    state = health.get("gps_ingest")
    assert state is not None and state.state == "connected"
    assert "malformed 2 (bad_json 1, in_future 1)" in state.detail
    assert "unknown_user 1" in state.detail and "stored 1" in state.detail


hostile = st.one_of(
    st.binary(max_size=120),
    st.dictionaries(
        st.sampled_from(["_type", "lat", "lon", "tst", "acc", "vel", "batt", "cog", "tid"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(),
            st.text(max_size=8),
            st.sampled_from(["location", "lwt", "transition"]),
            st.integers(int((T0 - timedelta(days=1)).timestamp()), int(T0.timestamp())),
        ),
        max_size=9,
    ).map(lambda doc: json.dumps(doc).encode()),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.tuples(st.sampled_from(["known", "stranger", "bad"]), hostile), max_size=15))
def test_hostile_payloads_never_stop_the_ingest_and_every_message_is_accounted_for(
    fuzz_db: Engine, messages: list[tuple[str, bytes]]
) -> None:
    ingest = GpsIngest(fuzz_db, clock=Clock(T0))
    topics = {
        "known": "owntracks/crew-fuzz-1/phone",
        "stranger": "owntracks/stranger/phone",
        "bad": "owntracks/crew-fuzz-1",
    }
    for who, payload in messages:
        ingest.offer(topics[who], payload)
    ingest.flush()
    c = ingest.counters
    assert c.write_errors == 0 and c.received == len(messages)
    assert (
        c.live
        + c.duplicate
        + c.out_of_order
        + c.unknown_user
        + c.ignored
        + c.offline
        + c.malformed_total
        == c.received
    )


@pytest.fixture
def fuzz_db(sqlite_db: Engine) -> Engine:
    builders.crew(sqlite_db, "crew-fuzz", members=1)
    return sqlite_db


def test_a_crew_offline_for_an_hour_is_stale_then_catches_up(sqlite_db: Engine) -> None:
    crew = builders.crew(sqlite_db)
    clock = Clock(T0)
    ingest = GpsIngest(sqlite_db, clock=clock, stale_after=timedelta(minutes=10))
    topic = f"owntracks/{crew.users[0]}/phone"
    ingest.offer(topic, location(T0))
    ingest.flush()
    clock.now = T0 + timedelta(minutes=9)
    assert ingest.position(crew.users[0]).stale is False  # type: ignore[union-attr]
    # The broker lost the phone: its Last Will arrives.
    ingest.offer(topic, json.dumps({"_type": "lwt", "tst": int(T0.timestamp())}).encode())
    ingest.flush()
    assert live_row(sqlite_db).offline_since == clock.now
    clock.now = T0 + timedelta(minutes=61)
    live = ingest.position(crew.users[0])
    assert live is not None and live.stale and live.offline_since == T0 + timedelta(minutes=9)
    # Back in coverage: the phone sends what it queued (one a minute), then a fresh fix.
    for minute in range(1, 62):
        ingest.offer(topic, location(T0 + timedelta(minutes=minute), 116.36 + minute * 1e-4))
    ingest.flush()
    live = ingest.position(crew.users[0])
    assert live is not None and not live.stale and live.offline_since is None
    assert live.at == T0 + timedelta(minutes=61)
    assert len(stored(sqlite_db)) == 62
    row = live_row(sqlite_db)
    assert row.fix_at == T0 + timedelta(minutes=61) and row.offline_since is None


def test_a_restarted_ingest_keeps_the_live_position_moving_forward(sqlite_db: Engine) -> None:
    crew = builders.crew(sqlite_db)
    topic = f"owntracks/{crew.users[0]}/phone"
    first = GpsIngest(sqlite_db, clock=Clock(T0 + timedelta(minutes=5)))
    first.offer(topic, location(T0 + timedelta(seconds=60), 116.35))
    first.flush()
    # A new process; the broker hands over what it kept for the persistent session.
    second = GpsIngest(sqlite_db, clock=Clock(T0 + timedelta(minutes=6)))
    second.offer(topic, location(T0 + timedelta(seconds=30), 116.30))
    second.offer(topic, location(T0 + timedelta(seconds=60), 116.35))
    second.flush()
    assert (second.counters.out_of_order, second.counters.duplicate) == (1, 1)
    assert live_row(sqlite_db).lon == 116.35
    assert second.position(crew.users[0]).lon == 116.35  # type: ignore[union-attr]
    assert len(stored(sqlite_db)) == 2


def test_a_failed_write_keeps_the_batch_and_retries_it(sqlite_db: Engine) -> None:
    engine = sqlite_db
    crew = builders.crew(engine)
    health = HealthBoard("central", "central")
    ingest = GpsIngest(engine, health, clock=Clock(T0 + timedelta(minutes=1)))
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TRIGGER full_disk BEFORE INSERT ON gps_fixes "
                "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
            )
        )
    ingest.offer(f"owntracks/{crew.users[0]}/phone", location(T0))
    assert ingest.flush() == 0
    state = health.get("gps_ingest")
    assert state is not None and state.state == "degraded" and "disk is full" in state.detail
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER full_disk"))
    assert ingest.flush() == 1
    assert ingest.counters.write_errors == 1 and stored(engine) == [(T0, 116.3652, 39.9142)]
    state = health.get("gps_ingest")
    assert state is not None and state.state == "connected"


def test_a_full_queue_drops_and_counts(sqlite_db: Engine) -> None:
    crew = builders.crew(sqlite_db)
    ingest = GpsIngest(sqlite_db, clock=Clock(T0 + timedelta(minutes=1)), max_queue=3)
    for seconds in range(5):
        ingest.offer(f"owntracks/{crew.users[0]}/p", location(T0 + timedelta(seconds=seconds)))
    ingest.flush()
    assert (ingest.counters.overflow, ingest.counters.stored) == (2, 3)


def test_a_technician_added_later_is_recognised(sqlite_db: Engine) -> None:
    ingest = GpsIngest(sqlite_db, clock=Clock(T0 + timedelta(minutes=1)), reload_every=timedelta(0))
    ingest.flush()
    crew = builders.crew(sqlite_db, "crew-new", members=1)
    ingest.offer(f"owntracks/{crew.users[0]}/phone", location(T0))
    ingest.flush()
    assert (ingest.counters.unknown_user, ingest.counters.stored) == (0, 1)


def test_retention_keeps_the_recent_track_thins_the_older_and_always_the_newest(
    migrated: Engine,
) -> None:
    busy = builders.crew(migrated, "crew-busy", members=1)
    quiet = builders.crew(migrated, "crew-quiet", members=1)
    now = T0 + timedelta(hours=5)
    policy = RetentionPolicy(
        full_for=timedelta(hours=1),
        sampled_for=timedelta(hours=3),
        sample_every=timedelta(minutes=1),
    )
    busy_times = [now - timedelta(seconds=s) for s in range(0, 4 * 3600, 10)]
    quiet_times = [now - timedelta(hours=5, seconds=s) for s in range(0, 600, 10)]
    with Session(migrated) as session, session.begin():
        for tech, times in (
            (busy.technician_ids[0], busy_times),
            (quiet.technician_ids[0], quiet_times),
        ):
            session.add_all(
                GpsFix(technician_id=tech, fix_at=at, lon=116.36, lat=39.91, source="owntracks")
                for at in times
            )
    result = apply_retention(migrated, policy, now)

    def kept(times: list[datetime]) -> set[datetime]:
        """The rule, written out: all of the last hour; the last of each minute up to three
        hours back; nothing older; and the newest fix whatever its age."""
        full = {t for t in times if t >= now - timedelta(hours=1)}
        minutes: dict[int, datetime] = {}
        for t in times:
            if now - timedelta(hours=3) <= t < now - timedelta(hours=1):
                key = int(t.timestamp()) // 60
                minutes[key] = max(minutes.get(key, t), t)
        return full | set(minutes.values()) | {max(times)}

    with Session(migrated) as session:
        after = {
            tech: set(
                session.scalars(select(GpsFix.fix_at).where(GpsFix.technician_id == tech)).all()
            )
            for tech in (busy.technician_ids[0], quiet.technician_ids[0])
        }
    assert after[busy.technician_ids[0]] == kept(busy_times)
    assert after[quiet.technician_ids[0]] == {max(quiet_times)}
    total_before = len(busy_times) + len(quiet_times)
    assert result.expired + result.thinned == total_before - sum(map(len, after.values()))
    # A second run finds nothing more to do.
    again = apply_retention(migrated, policy, now, since=result.thinned_until)
    assert (again.expired, again.thinned) == (0, 0)
    with Session(migrated) as session:
        assert session.scalar(select(func.count()).select_from(GpsFix)) == sum(
            map(len, after.values())
        )


def test_a_writer_process_that_dies_is_replaced_and_nothing_is_lost(sqlite_db: Engine) -> None:
    crew = builders.crew(sqlite_db)
    ingest = GpsIngest(sqlite_db, writer="process")
    ingest.start()
    topic = f"owntracks/{crew.users[0]}/phone"
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    try:
        for n in range(50):
            ingest.offer(topic, location(start + timedelta(seconds=n), 116.30 + n * 1e-4))
        assert ingest.wait_until(lambda c: c.stored == 50)
        first = ingest.writer_pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        for n in range(50, 100):
            ingest.offer(topic, location(start + timedelta(seconds=n), 116.30 + n * 1e-4))
        assert ingest.wait_until(lambda c: c.stored == 100, timeout_s=30), ingest.counters
        assert ingest.writer_pid not in (None, first)
        assert ingest.counters.write_errors == 1 and len(stored(sqlite_db)) == 100
        live = ingest.position(crew.users[0])
        assert live is not None and live.lon == pytest.approx(116.30 + 99e-4)
    finally:
        ingest.stop()
