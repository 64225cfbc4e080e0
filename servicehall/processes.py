"""Start the central and hall processes from settings (shared by the CLI and the demo)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from devices.ledboard.board import AlphaBoard
from devices.ledboard.simulator import AlphaSignSimulator
from domain.queueing.engine import HallQueue
from hall_display.content import BoardContent, board_content
from hall_display.driver import BoardDriver, DisplayLoop
from hall_display.state import hall_state
from servicedb.engine import redact_url
from servicedb.models import Site, SiteKind
from servicedb.types import utcnow
from servicehall.apps.central import create_central_app
from servicehall.apps.hall import HallParts, create_hall_app
from servicehall.config import Settings
from servicehall.database import close_database, open_database, probe_database
from servicehall.device_tokens import TokenCheck
from servicehall.embedded_broker import EmbeddedBroker
from servicehall.errors import UserFacingError
from servicehall.health import HealthBoard
from servicehall.live import Broadcaster
from servicehall.mqtt_link import MqttLink
from servicehall.runner import Endpoint
from servicehall.voice import Announcer

log = logging.getLogger(__name__)


class UnknownSite(UserFacingError):
    pass


@dataclass
class Process:
    endpoint: Endpoint
    engine: Engine
    health: HealthBoard
    mqtt: MqttLink | None = None
    broker: EmbeddedBroker | None = None
    hall: HallParts | None = None

    def close(self) -> None:
        if self.hall and self.hall.display:
            self.hall.display.stop()
        if self.hall and self.hall.board_simulator:
            self.hall.board_simulator.close()
        if self.mqtt:
            self.mqtt.stop()
        if self.broker:
            self.broker.stop()
        close_database(self.engine)


def require_site(engine: Engine, code: str, kind: SiteKind) -> Site:
    with Session(engine) as session:
        site = session.scalar(select(Site).where(Site.code == code))
    if site is None or site.kind != kind:
        raise UnknownSite(
            f"no {kind.value} site '{code}' in the database at {redact_url(str(engine.url))}; "
            "run `servicehall seed` (or check the site code)"
        )
    return site


def open_central(settings: Settings) -> Process:
    """The database first (the likelier mistake), then the broker: embedded or external."""
    site = settings.central.site
    mqtt = settings.mqtt
    engine = open_database(settings.database_url(site), auto_upgrade=settings.database.auto_upgrade)
    broker = None
    try:
        require_site(engine, site, SiteKind.CENTRAL)
        health = HealthBoard(site, "central")
        probe_database(engine, health)
        if mqtt.mode == "embedded":
            broker = EmbeddedBroker(mqtt.host, mqtt.port)
            broker.start()
            mqtt = mqtt.model_copy(update={"port": broker.port})
        link = MqttLink(mqtt, client_id=f"servicehall-{site}", site=site, health=health)
        link.start()
    except BaseException:
        if broker:
            broker.stop()
        close_database(engine)
        raise
    app = create_central_app(engine, health)
    http = settings.central.http
    endpoint = Endpoint("central", app, http.host, http.port, http.tls_cert, http.tls_key)
    return Process(endpoint, engine, health, link, broker)


def open_hall(
    settings: Settings,
    site: str,
    *,
    voice_dir: Path | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Process:
    engine = open_database(settings.database_url(site), auto_upgrade=settings.database.auto_upgrade)
    try:
        require_site(engine, site, SiteKind.HALL)
        health = HealthBoard(site, "hall")
        probe_database(engine, health)
        queue = HallQueue(engine, site, clock=clock, max_recalls=settings.hall.max_recalls)
        parts = HallParts(queue, TokenCheck(engine, site), Broadcaster())
        board, parts.board_simulator = open_board(settings, site)
        if board is not None:
            parts.display = hall_display_loop(
                settings, queue, engine, board, health, clock, voice_dir
            )
    except BaseException:
        close_database(engine)
        raise
    app = create_hall_app(engine, health, settings.hall.central_url, parts)
    http = settings.hall.http
    endpoint = Endpoint(f"hall {site}", app, http.host, http.port, http.tls_cert, http.tls_key)
    process = Process(endpoint, engine, health)
    process.hall = parts
    return process


CALL_PHRASES = ("请", "号到", "号窗口")


def open_board(
    settings: Settings, site: str
) -> tuple[AlphaBoard | None, AlphaSignSimulator | None]:
    """The hall's LED board: none, a simulator on a pty (the default), or a real serial port."""
    where = settings.hall.led_board
    if not where:
        return None, None
    simulator = None
    line = settings.hall.led_line
    if where == "simulated":
        simulator = AlphaSignSimulator(settings.paths.data_dir.expanduser().resolve() / site)
        where, line = simulator.path, "8N1"  # a pty carries 8N1 only
    board = AlphaBoard(
        where,
        bytesize=int(line[0]),
        parity=line[1],
        stopbits=int(line[2]),
        width=settings.hall.led_width,
        phrases=CALL_PHRASES,
    )
    return board, simulator


def hall_display_loop(
    settings: Settings,
    queue: HallQueue,
    engine: Engine,
    board: AlphaBoard,
    health: HealthBoard,
    clock: Callable[[], datetime],
    voice_dir: Path | None,
) -> DisplayLoop:
    radius = settings.hall.notice_radius_m
    driver = BoardDriver(board)

    def compute(now: datetime) -> BoardContent:
        content = board_content(hall_state(queue, engine, now, notice_radius_m=radius), now)
        state = board.health
        health.set(
            "led_board",
            "connected" if state.state.value == "connected" else state.state.value,
            state.reason,
        )
        return content

    # Written to files (the demo) only for the first calls: a day has hundreds.
    announcer = Announcer(
        enabled=settings.hall.voice, out_dir=voice_dir, max_files=10 if voice_dir else None
    )
    return DisplayLoop(compute, [driver], clock, on_voice=announcer.announce)


@contextlib.contextmanager
def closing_all(processes: list[Process]) -> Iterator[list[Process]]:
    try:
        yield processes
    finally:
        for process in reversed(processes):
            try:
                process.close()
            except Exception:
                log.exception("closing %s failed", process.endpoint.name)
