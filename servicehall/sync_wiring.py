"""Sync in the running sites: the endpoint at central, the agent beside a hall."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from servicedb import migrate
from servicedb.models import Site
from servicehall.central.api.sync import SyncService
from servicehall.config import HallConfig
from servicehall.platform.health import HealthBoard
from sync import operations, roles
from sync.agent import AgentSettings, SyncAgent

log = logging.getLogger(__name__)


def start_central_sync(app: FastAPI, engine: Engine, health: HealthBoard, alarm_s: float) -> None:
    roles.ensure_role(engine, roles.CENTRAL)
    schema = migrate.current_revision(engine) or ""
    app.state.sync = SyncService(engine, schema, alarm_s)

    def summary() -> dict[str, object]:
        overview = operations.halls_overview(engine, alarm_s)
        late = [f"{h['site']}: {h['alarm_reason']}" for h in overview["halls"] if h["alarm"]]
        # A hall silent or behind past the threshold makes central "degraded" (and is logged).
        health.set("sync", "degraded" if late else "connected", "; ".join(late) or "halls current")
        return {
            "alarms": overview["alarms"],
            "halls": {
                h["site"]: {k: h[k] for k in ("lag_s", "silent_s", "hall_pending", "alarm_reason")}
                for h in overview["halls"]
            },
        }

    health.add_extra("sync", summary)


def start_hall_sync(
    engine: Engine, health: HealthBoard, site: str, hall: HallConfig
) -> SyncAgent | None:
    if not hall.sync_token:
        # Not a fault of the hall's (a lab or a standalone hall): said, not "degraded".
        health.add_extra("sync", lambda: {"enabled": False, "why": "no hall.sync_token"})
        return None
    roles.ensure_role(engine, roles.HALL)
    with Session(engine) as session:
        site_id = session.scalar(select(Site.id).where(Site.code == site))
    assert site_id is not None  # noqa: S101 - build_hall checked the site exists
    settings = AgentSettings(
        central_url=hall.central_url,
        site=site,
        site_id=site_id,
        token=hall.sync_token,
        schema=migrate.current_revision(engine) or "",
        idle_s=hall.sync_interval_s,
    )
    health.set("sync", "connecting", hall.central_url)
    health.add_extra(
        "sync", lambda: {k: v.as_json() for k, v in operations.hall_status(engine).items()}
    )
    return SyncAgent(engine, settings, report=lambda s, d: health.set("sync", s, d)).start()
