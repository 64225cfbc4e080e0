"""The composition root: build a central or a hall site from settings, with real or simulated parts.

``build_central`` and ``build_hall`` are what the CLI, the demo and the tests call; each
returns a site whose parts are all made (nothing is filled in later) and which closes them
in reverse order of opening.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from devices.ledboard.simulator import AlphaSignSimulator
from domain.bus import EventBus
from domain.queueing.engine import HallQueue
from domain.sla_config import policy_from_config
from domain.uow import UnitsOfWork
from hall_display.driver import DisplayLoop
from servicedb.engine import redact_url
from servicedb.models import Site, SiteKind
from servicedb.types import utcnow
from servicehall.central.app import create_central_app
from servicehall.central.assignments_out import AssignmentPublisher
from servicehall.central.gps_ingest import GpsIngest
from servicehall.central.parts import DispatchParts
from servicehall.config import Settings
from servicehall.errors import UserFacingError
from servicehall.hall.api.display import NoticeSource
from servicehall.hall.app import create_hall_app
from servicehall.hall.display import display_loop, open_board
from servicehall.hall.kiosk_services import KioskServices, build_kiosk_services
from servicehall.hall.live import LiveFeed
from servicehall.hall.parts import HallParts
from servicehall.hall.tokens import TokenCheck
from servicehall.hall.wallet import WalletSettings
from servicehall.platform.database import close_database, open_database, probe_database
from servicehall.platform.embedded_broker import EmbeddedBroker
from servicehall.platform.health import HealthBoard
from servicehall.platform.mqtt_link import MqttLink
from servicehall.platform.runner import Endpoint
from servicehall.platform.sms import SmsGateway
from servicehall.sync_wiring import start_central_sync, start_hall_sync
from sync.agent import SyncAgent

log = logging.getLogger(__name__)


class UnknownSite(UserFacingError):
    pass


class RunningSite(Protocol):
    endpoint: Endpoint
    engine: Engine
    health: HealthBoard

    def close(self) -> None: ...


@dataclass
class CentralSite:
    endpoint: Endpoint
    engine: Engine
    health: HealthBoard
    mqtt: MqttLink
    broker: EmbeddedBroker | None
    bus: EventBus | None = None
    dispatch: DispatchParts | None = None
    # The field: positions in, orders out to the crews' phones and their reports back.
    gps: GpsIngest | None = None
    assignments: AssignmentPublisher | None = None

    def close(self) -> None:
        if self.dispatch:
            self.dispatch.stop()
        if self.assignments:
            self.assignments.stop()
        self.mqtt.stop()
        if self.gps:
            self.gps.stop()  # writes what was still queued
        if self.broker:
            self.broker.stop()
        close_database(self.engine)


@dataclass
class HallSite:
    endpoint: Endpoint
    engine: Engine
    health: HealthBoard
    parts: HallParts
    sync: SyncAgent | None = None

    @property
    def queue(self) -> HallQueue:
        return self.parts.queue

    def close(self) -> None:
        if self.sync:
            self.sync.stop()
        if self.parts.kiosk:
            self.parts.kiosk.close()
        if self.parts.display:
            self.parts.display.stop()
        if self.parts.board_simulator:
            self.parts.board_simulator.close()
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


def build_central(
    settings: Settings, *, port: int | None = None, clock: Callable[[], datetime] = utcnow
) -> CentralSite:
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
        gps, assignments = _field(engine, link, health)
        link.start()
    except BaseException:
        if broker:
            broker.stop()
        close_database(engine)
        raise
    # Work orders, the planner, caller lookup, console sessions; the dispatch extra (scipy)
    # is loaded here, so a hall process never needs it.
    from servicehall.central.dispatch import build_dispatch

    bus = EventBus()
    planning = settings.central.dispatch
    dispatch = build_dispatch(
        engine,
        site,
        bus,
        policy=policy_from_config(planning.sla),
        auto_dispatch_priority=planning.auto_dispatch_priority,
        sweep_interval_s=planning.sweep_interval_s,
        crew_stale_after_s=planning.crew_stale_after_s,
        clock=clock,
    )
    app = create_central_app(engine, health, dispatch)
    start_central_sync(app, engine, health, settings.central.sync_lag_alarm_s)
    http = settings.central.http
    endpoint = Endpoint(
        "central", app, http.host, http.port if port is None else port, http.tls_cert, http.tls_key
    )
    # Dispatches reach the crews' phones; their reports reach the work-order service.
    assignments.serve(dispatch.orders, bus)
    try:
        gps.start()
        assignments.start()
    except BaseException:
        link.stop()
        close_database(engine)
        raise
    return CentralSite(endpoint, engine, health, link, broker, bus, dispatch, gps, assignments)


def _field(
    engine: Engine, link: MqttLink, health: HealthBoard
) -> tuple[GpsIngest, AssignmentPublisher]:
    """The GPS ingest and the assignment publisher, subscribed before the link connects."""
    gps = GpsIngest(engine, health, writer="process")
    gps.attach(link)

    def mqtt_up() -> bool:
        state = health.get("mqtt")
        return state is not None and state.state == "connected"

    assignments = AssignmentPublisher(engine, link, health, connected=mqtt_up)
    assignments.attach()
    return gps, assignments


def build_hall(
    settings: Settings,
    site: str,
    *,
    port: int | None = None,
    voice_dir: Path | None = None,
    clock: Callable[[], datetime] = utcnow,
    money_clock: Callable[[], datetime] | None = None,
    sms: SmsGateway | None = None,
    wallet: WalletSettings | None = None,
) -> HallSite:
    """``sms`` / ``wallet``: the kiosk's SMS gateway and wallet provider; simulators on
    127.0.0.1 when neither these nor the environment name real ones (see kiosk_services).

    ``clock`` runs the queue; ``money_clock`` (default: the same) runs what must follow real
    time whatever the queue does — card approvals, QR orders at the wallet provider, one-time
    codes. The demo plays a hall day at speed on ``clock`` and keeps money on the wall clock.
    """
    engine = open_database(settings.database_url(site), auto_upgrade=settings.database.auto_upgrade)
    simulator: AlphaSignSimulator | None = None
    kiosk: KioskServices | None = None
    try:
        require_site(engine, site, SiteKind.HALL)
        health = HealthBoard(site, "hall")
        probe_database(engine, health)
        bus = EventBus()
        queue = HallQueue(
            engine,
            site,
            clock=clock,
            max_recalls=settings.hall.max_recalls,
            units=UnitsOfWork(engine, bus),
        )
        board, simulator = open_board(settings, site)
        display: DisplayLoop | None = None
        if board is not None:
            display = display_loop(settings, queue, engine, board, health, clock, voice_dir)
        live = LiveFeed(queue)
        live.listen(bus)
        if display is not None:
            live.on_change(display.poke)
        http = settings.hall.http
        listen = "127.0.0.1" if http.host in ("0.0.0.0", "::", "") else http.host  # noqa: S104
        kiosk = build_kiosk_services(
            queue.units,
            site,
            clock=money_clock or clock,
            sms=sms,
            wallet=wallet,
            notify_url=f"http://{listen}:{http.port if port is None else port}/wallet/notify",
        )
        parts = HallParts(queue, TokenCheck(engine, site), live, display, simulator, kiosk)
    except BaseException:
        if kiosk:
            kiosk.close()
        if simulator:
            simulator.close()
        close_database(engine)
        raise
    app = create_hall_app(engine, health, settings.hall.central_url, parts)
    # The screen's notices: the board's radius and the hall's clock (simulated in the demo).
    app.state.notices = NoticeSource(engine, settings.hall.notice_radius_m, clock)
    http = settings.hall.http
    endpoint = Endpoint(
        f"hall {site}",
        app,
        http.host,
        http.port if port is None else port,
        http.tls_cert,
        http.tls_key,
    )
    agent = start_hall_sync(engine, health, site, settings.hall)
    return HallSite(endpoint, engine, health, parts, agent)


@contextlib.contextmanager
def closing_all(sites: Sequence[RunningSite]) -> Iterator[list[RunningSite]]:
    opened = list(sites)
    try:
        yield opened
    finally:
        for site in reversed(opened):
            try:
                site.close()
            except Exception:
                log.exception("closing %s failed", site.endpoint.name)
