"""GPS ingest from the broker into the store, against a bare paho subscriber in the same run.

    .venv/bin/python bench/gps_ingest.py [--broker HOST:PORT] [--messages N] [--crews C]
                                         [--sustain-s S] [--pg]

1. **Burst.** One publisher process sends N OwnTracks locations (QoS 1, C technicians,
   every fix a new second for its technician) as fast as it can, to a bare paho subscriber
   that only counts (the baseline: what a Python client can take from this broker on this
   machine) and to central's ``MqttLink`` + ``GpsIngest`` writing to the store, alternately,
   ``--rounds`` times each. Rates are messages per second from the first message received
   to the last one counted (baseline) or committed (ingest); the figure is the ratio of the
   medians. Goal: ingest ≥ 80 % of the baseline.
2. **Sustained.** C crews at one fix per 5 s (C/5 messages a second, evenly spread) for S
   seconds: every fix stored, the queue depth that built up, how long after the last
   publish the store had everything, and the ingest's CPU time as a share of one core.

By default both runs go through a private Mosquitto started with the queue settings of
``deploy/mosquitto/servicehall.conf`` (``--broker HOST:PORT`` uses a running one instead:
mind that Mosquitto's default of 1,000 queued messages per client drops a burst's tail for
any subscriber that falls behind). The store is a temporary SQLite file (``--pg``: a
temporary PostgreSQL database on 127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from servicedb import migrate
from servicedb.engine import make_engine
from servicedb.models import Crew, Technician
from servicehall.central.gps_ingest import GpsIngest, Writer
from servicehall.config import MqttConfig
from servicehall.platform.health import HealthBoard
from servicehall.platform.mqtt_link import MqttLink

GOAL = 0.80
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def private_mosquitto() -> Iterator[tuple[str, int]]:
    """Mosquitto on a free port, queues as production configures them, no persistence."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        conf = Path(folder) / "mosquitto.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 20\n"
            f"max_queued_messages 0\nmax_queued_bytes 67108864\nuser {getpass.getuser()}\n"
        )
        process = subprocess.Popen(  # noqa: S603 - the system's mosquitto, our own config
            [binary, "-c", str(conf)], stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            yield "127.0.0.1", port
        finally:
            process.terminate()
            process.wait(10)


# --- the publisher: its own process, so it does not share the subscriber's GIL -------------


def publish(host: str, port: int, path: str, per_s: float) -> None:
    lines = Path(path).read_text().splitlines()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex}")
    client.max_inflight_messages_set(100)
    client.connect(host, port)
    client.loop_start()
    infos = []
    start = time.perf_counter()
    for n, line in enumerate(lines):
        topic, payload = line.split("\t", 1)
        if per_s:
            delay = start + n / per_s - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        infos.append(client.publish(topic, payload.encode(), qos=1))
    for info in infos:
        info.wait_for_publish(60)
    print(f"{time.time():.6f}", flush=True)  # when the last one was acknowledged
    client.disconnect()
    client.loop_stop()


def run_publisher(host: str, port: int, messages: list[tuple[str, bytes]], per_s: float) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as out:
        for topic, payload in messages:
            out.write(f"{topic}\t{payload.decode()}\n")
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter and file
            [sys.executable, __file__, "--publish", out.name, "--broker", f"{host}:{port}",
             "--per-s", str(per_s)],
            capture_output=True, text=True, check=True, timeout=600,
        )  # fmt: skip
        return float(done.stdout.strip().splitlines()[-1])
    finally:
        os.unlink(out.name)


# --- the runs ------------------------------------------------------------------------------


def fixes(prefix: str, crews: int, count: int, first_tst: int) -> list[tuple[str, bytes]]:
    """``count`` locations over ``crews`` technicians; each technician's seconds increase."""
    out = []
    for n in range(count):
        user = f"{prefix}-{n % crews}"
        doc = {
            "_type": "location",
            "lat": 39.90 + (n % 997) * 1e-5,
            "lon": 116.35 + (n % 991) * 1e-5,
            "tst": first_tst + n // crews,
            "acc": 10,
            "vel": 30,
            "tid": "ph",
        }
        out.append((f"owntracks/{user}/phone", json.dumps(doc, separators=(",", ":")).encode()))
    return out


def bare_rate(host: str, port: int, prefix: str, messages: list[tuple[str, bytes]]) -> float:
    wanted = len(messages)
    times: list[float] = []
    done = threading.Event()

    def on_message(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        if message.topic.startswith(f"owntracks/{prefix}-"):
            times.append(time.perf_counter())
            if len(times) == wanted:
                done.set()

    subscribed = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-bare-{uuid.uuid4().hex}")
    client.on_connect = lambda c, *_: c.subscribe("owntracks/+/+", qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = on_message
    client.connect(host, port)
    client.loop_start()
    subscribed.wait(10)
    run_publisher(host, port, messages, 0)
    done.wait(120)
    client.disconnect()
    client.loop_stop()
    if len(times) < wanted:
        raise SystemExit(f"the bare subscriber got {len(times)} of {wanted}")
    return (wanted - 1) / (times[-1] - times[0])


@dataclass
class Central:
    link: MqttLink
    ingest: GpsIngest
    first: list[float]
    last: list[float]
    where: tuple[str, int]
    client_id: str

    def close(self) -> None:
        self.link.stop()
        self.ingest.stop()
        # End the persistent session, or a shared broker queues fixes for it forever.
        host, port = self.where
        gone = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id)
        gone.connect(host, port)
        gone.disconnect()


def start_central(engine: Engine, host: str, port: int, writer: Writer = "process") -> Central:
    site = f"bench-{uuid.uuid4().hex[:8]}"
    health = HealthBoard(site, "central")
    link = MqttLink(
        MqttConfig(host=host, port=port), client_id=f"bench-{site}", site=site, health=health
    )
    ingest = GpsIngest(engine, health, writer=writer, retention=None)
    first: list[float] = []
    last = [0.0]

    def offer(topic: str, payload: bytes) -> None:
        if not first:
            first.append(time.perf_counter())
        last[0] = time.perf_counter()
        ingest.offer(topic, payload)

    link.subscribe("owntracks/+/+", offer, qos=1)
    link.start()
    ingest.start()
    return Central(link, ingest, first, last, (host, port), f"bench-{site}")


def ingest_rate(central: Central, host: str, port: int, messages: list[tuple[str, bytes]]) -> float:
    wanted = central.ingest.counters.stored + len(messages)
    run_publisher(host, port, messages, 0)
    if not central.ingest.wait_until(lambda c: c.stored >= wanted, timeout_s=300):
        raise SystemExit(
            f"the ingest stored {central.ingest.counters.stored} of {wanted}: {central.ingest.counters}"
        )
    done = time.perf_counter()
    received = (len(messages) - 1) / (central.last[0] - central.first[0])
    print(
        f"  (ingest round: received at {received:,.0f} msg/s, stored at {(len(messages) - 1) / (done - central.first[0]):,.0f})"
    )
    return (len(messages) - 1) / (done - central.first[0])


def sustained(
    central: Central, host: str, port: int, prefix: str, crews: int, seconds: float, first_tst: int
) -> dict[str, float]:
    per_s = crews / 5.0
    count = int(per_s * seconds)
    messages = fixes(prefix, crews, count, first_tst)
    wanted = central.ingest.counters.stored + count
    depth = [0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.05):
            depth[0] = max(depth[0], central.ingest.queued)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    cpu0 = time.process_time()
    last_acked = run_publisher(host, port, messages, per_s)
    central.ingest.wait_until(lambda c: c.stored >= wanted, timeout_s=120)
    drained = time.time() - last_acked
    cpu = time.process_time() - cpu0
    stop.set()
    return {
        "per_s": per_s,
        "sent": count,
        "stored": central.ingest.counters.stored - (wanted - count),
        "max_queue": depth[0],
        "drain_ms": max(drained, 0.0) * 1000,
        "cpu_share": cpu / seconds,
    }


@contextmanager
def store(use_pg: bool) -> Iterator[Engine]:
    if not use_pg:
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'central.db'}")
            migrate.upgrade(engine)
            yield engine
            engine.dispose()
        return
    name = f"bench_gps_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}")
    try:
        migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def technicians(engine: Engine, prefix: str, crews: int) -> None:
    with Session(engine) as session, session.begin():
        for n in range(crews):
            crew = Crew(
                code=f"{prefix}-c{n}",
                name_zh="班组",
                name_en="Crew",
                depot_lon=116.36,
                depot_lat=39.91,
            )
            session.add(crew)
            session.flush()
            session.add(
                Technician(
                    crew_id=crew.id, name="队员", phone="13910000000", tracker_user=f"{prefix}-{n}"
                )
            )


@dataclass
class Figures:
    bare_per_s: list[float]  # one per round
    ingest_per_s: list[float]
    sustained: dict[str, float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ingest_per_s) / statistics.median(self.bare_per_s)


def run(
    host: str,
    port: int,
    messages: int,
    crews: int,
    sustain_s: float,
    use_pg: bool,
    rounds: int,
    writer: Writer = "process",
) -> Figures:
    """Bare and ingest bursts alternate, ``rounds`` times each: this machine is shared and
    noisy, and a median of interleaved runs is fairer than one run of each."""
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    now = int(time.time())
    per_round = messages // crews + 2
    first = now - 3600 - rounds * per_round
    bare: list[float] = []
    ingested: list[float] = []
    with store(use_pg) as engine:
        technicians(engine, prefix, crews)
        for r in range(rounds):
            # One subscriber at a time: central is not even connected during the baseline.
            burst = fixes(prefix, crews, messages, first + r * per_round)
            bare.append(bare_rate(host, port, prefix, burst))
            central = start_central(engine, host, port, writer)
            try:
                ingested.append(ingest_rate(central, host, port, burst))
            finally:
                central.close()
        central = start_central(engine, host, port, writer)
        try:
            steady = sustained(central, host, port, prefix, crews, sustain_s, now - 1800)
        finally:
            central.close()
    return Figures(bare, ingested, steady)


def report(figures: Figures, messages: int, crews: int) -> str:
    s = figures.sustained
    verdict = "met" if figures.ratio >= GOAL else "NOT met"

    def rates(values: list[float]) -> str:
        each = " ".join(f"{v:,.0f}" for v in values)
        return f"{statistics.median(values):9,.0f} msg/s (median of {each})"

    return "\n".join(
        [
            f"burst: {messages:,} fixes from {crews:,} technicians, QoS 1, "
            f"{len(figures.bare_per_s)} rounds each, interleaved",
            f"  bare paho subscriber  {rates(figures.bare_per_s)}",
            f"  MqttLink + GpsIngest  {rates(figures.ingest_per_s)} into the store",
            f"  ratio {figures.ratio:.2f} (goal ≥ {GOAL:.2f}: {verdict})",
            f"sustained: {crews:,} crews at one fix per 5 s = {s['per_s']:,.0f} msg/s",
            f"  sent {int(s['sent']):,}, stored {int(s['stored']):,}, deepest queue {int(s['max_queue'])},"
            f" all stored {s['drain_ms']:.0f} ms after the last publish,"
            f" CPU {s['cpu_share'] * 100:.0f} % of one core",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", help="HOST:PORT of a running broker (default: a private one)")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--crews", type=int, default=1_000)
    parser.add_argument("--sustain-s", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--writer", choices=["process", "thread"], default="process", help="where the ingest writes"
    )
    parser.add_argument("--pg", action="store_true", help="store in PostgreSQL, not SQLite")
    parser.add_argument("--publish", help=argparse.SUPPRESS)
    parser.add_argument("--per-s", type=float, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish:
        host, port = args.broker.rsplit(":", 1)
        publish(host, int(port), args.publish, args.per_s)
        return
    with contextlib.ExitStack() as stack:
        if args.broker:
            host, port = args.broker.rsplit(":", 1)
            where = (host, int(port))
        else:
            where = stack.enter_context(private_mosquitto())
        figures = run(
            *where, args.messages, args.crews, args.sustain_s, args.pg, args.rounds, args.writer
        )
    broker = args.broker or "a private Mosquitto (production queue settings)"
    print(("PostgreSQL" if args.pg else "SQLite") + f" store, {broker}, writer in a {args.writer}")
    print(report(figures, args.messages, args.crews))


if __name__ == "__main__":
    main()
