"""Start the central and hall processes from settings (shared by the CLI and the demo)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from servicedb.engine import redact_url
from servicedb.models import Site, SiteKind
from servicehall.apps.central import create_central_app
from servicehall.apps.hall import create_hall_app
from servicehall.config import Settings
from servicehall.database import close_database, open_database, probe_database
from servicehall.embedded_broker import EmbeddedBroker
from servicehall.errors import UserFacingError
from servicehall.health import HealthBoard
from servicehall.mqtt_link import MqttLink
from servicehall.runner import Endpoint

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

    def close(self) -> None:
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
    endpoint = Endpoint("central", app, settings.central.http.host, settings.central.http.port)
    return Process(endpoint, engine, health, link, broker)


def open_hall(settings: Settings, site: str) -> Process:
    engine = open_database(settings.database_url(site), auto_upgrade=settings.database.auto_upgrade)
    try:
        require_site(engine, site, SiteKind.HALL)
    except BaseException:
        close_database(engine)
        raise
    health = HealthBoard(site, "hall")
    probe_database(engine, health)
    app = create_hall_app(engine, health, settings.hall.central_url)
    endpoint = Endpoint(f"hall {site}", app, settings.hall.http.host, settings.hall.http.port)
    return Process(endpoint, engine, health)


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
