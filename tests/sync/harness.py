"""Central and halls wired for sync tests: central's real app in process (its ASGI app
behind an httpx client), halls on real SQLite files, provisioned from central."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from servicedb import migrate
from servicedb.engine import make_engine
from servicedb.models import Site
from servicehall.central.app import create_central_app
from servicehall.demo.seed import seed_city
from servicehall.platform.health import HealthBoard
from servicehall.sync_wiring import start_central_sync
from sync import central_side, provision
from sync.agent import AgentSettings, SyncAgent

DEMO_HALLS = ("hall-xicheng", "hall-guanganmen")


@dataclass
class Central:
    engine: Engine
    client: TestClient
    schema: str

    def hall_client(self, site: str, token: str) -> httpx.Client:
        client = TestClient(self.client.app, base_url="http://central")
        client.headers.update({"Authorization": f"Bearer {token}", "X-Servicehall-Site": site})
        return client


@dataclass
class Hall:
    site: str
    site_id: uuid.UUID
    engine: Engine
    token: str
    agent: SyncAgent
    extra: dict[str, object] = field(default_factory=dict)


def start_central(engine: Engine, *, premises: int = 40) -> Central:
    seed_city(engine, premises=premises, seed=7)
    health = HealthBoard("central", "central")
    app = create_central_app(engine, health, None)
    start_central_sync(app, engine, health, 300.0)
    return Central(
        engine, TestClient(app, base_url="http://central"), migrate.current_revision(engine) or ""
    )


def provision_hall(central: Central, site: str, folder: Path) -> Hall:
    token = central_side.issue_token(central.engine, site)
    engine = make_engine(f"sqlite:///{folder / (site + '.db')}")
    migrate.upgrade(engine)
    client = central.hall_client(site, token)
    provision.provision(engine, client, central.schema)
    with Session(engine) as session:
        site_id = session.scalar(select(Site.id).where(Site.code == site))
    assert site_id is not None
    settings = AgentSettings("http://central", site, site_id, token, central.schema)
    agent = SyncAgent(engine, settings, client=client)
    return Hall(site, site_id, engine, token, agent)
