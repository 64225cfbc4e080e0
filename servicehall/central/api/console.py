"""The dispatcher console: sign-in, the base map, the live state, KPIs — and the page itself.

``router`` goes under ``/api/v1``; ``pages`` serves ``/console`` and its assets (the page,
its script and style, and Leaflet, vendored: no internet tiles, the base map is the demo
city's zones from the database). The page polls ``/console/state`` every few seconds:
crew positions arrive in ``gps_fixes`` from another process, so polling reads what every
writer wrote, and a reconnecting browser needs no replay.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import HTMLResponse, Response
from shapely.geometry import shape
from sqlalchemy import select

from domain.dispatch_kpis import kpis
from domain.work_order_views import crews_by_id
from field_dispatch.sla import BEIJING
from servicedb.models import Outage, OutageStatus, Site, SiteKind, Zone
from servicehall.central.api import dispatch_schemas as s
from servicehall.central.api.dispatch_convert import (
    alert_out,
    crew_state_out,
    kpi_out,
    order_out,
    outage_out,
)
from servicehall.central.api.errors import ApiError, error_responses
from servicehall.central.api.staff_auth import AnyStaff, Dispatcher, Parts, bearer

router = APIRouter(prefix="/console", tags=["console"])
pages = APIRouter(include_in_schema=False)

MAX_KPI_DAYS = 92
_ASSETS = {
    "console.js": "application/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "vendor/leaflet.js": "application/javascript; charset=utf-8",
    "vendor/leaflet.css": "text/css; charset=utf-8",
}


def _asset(name: str) -> str:
    return resources.files("servicehall.central.web").joinpath(name).read_text(encoding="utf-8")


@pages.get("/console", response_class=HTMLResponse)
def console_page() -> str:
    return _asset("console.html")


@pages.get("/console/assets/{name:path}")
def console_asset(name: str) -> Response:
    media = _ASSETS.get(name)
    if media is None:  # a fixed list: no path ever reaches the file system from a request
        raise ApiError(404, "NotFound", "没有找到", "Not found")
    return Response(_asset(name), media_type=media, headers={"Cache-Control": "max-age=3600"})


@router.post("/session", responses=error_responses(401, 403, 413, 422))
def sign_in(body: s.SignInIn, parts: Parts) -> s.SessionOut:
    """Sign in with a staff number and PIN; five wrong PINs lock the number for 15 minutes."""
    signed = parts.sessions.sign_in(body.staff_no, body.pin)
    user = signed.user
    return s.SessionOut(
        token=signed.token,
        expires_at=signed.expires_at,
        staff=s.StaffOut(
            staff_no=user.staff_no,
            name=user.name,
            roles=sorted(s.Role(r.value) for r in user.roles),
        ),
    )


@router.delete("/session", status_code=204, responses=error_responses(401))
def sign_out(
    parts: Parts, _user: AnyStaff, authorization: Annotated[str | None, Header()] = None
) -> None:
    parts.sessions.sign_out(bearer(authorization))


@router.get("/me", responses=error_responses(401))
def me(user: AnyStaff) -> s.StaffOut:
    return s.StaffOut(
        staff_no=user.staff_no, name=user.name, roles=sorted(s.Role(r.value) for r in user.roles)
    )


@router.get("/base-map", responses=error_responses(401))
def base_map(parts: Parts, _user: AnyStaff) -> s.BaseMapOut:
    """The city under the orders: district metered areas as GeoJSON, the halls, the bounds."""
    with parts.orders.reading() as session:
        zones = session.scalars(select(Zone).order_by(Zone.code)).all()
        halls = session.scalars(
            select(Site).where(Site.kind == SiteKind.HALL).order_by(Site.code)
        ).all()
        features: list[dict[str, Any]] = [
            {
                "type": "Feature",
                "properties": {"code": z.code, "name_zh": z.name_zh, "name_en": z.name_en},
                "geometry": json.loads(z.area_geojson),
            }
            for z in zones
        ]
        hall_out = [
            s.HallOut(code=h.code, name_zh=h.name_zh, name_en=h.name_en, lon=h.lon, lat=h.lat)
            for h in halls
            if h.lon is not None and h.lat is not None
        ]
    points = [(h.lon, h.lat) for h in hall_out]
    boxes = [shape(f["geometry"]).bounds for f in features]
    west = min([b[0] for b in boxes] + [p[0] for p in points], default=116.32)
    south = min([b[1] for b in boxes] + [p[1] for p in points], default=39.865)
    east = max([b[2] for b in boxes] + [p[0] for p in points], default=116.40)
    north = max([b[3] for b in boxes] + [p[1] for p in points], default=39.945)
    return s.BaseMapOut(
        zones={"type": "FeatureCollection", "features": features},
        halls=hall_out,
        bounds=[[west, south], [east, north]],
    )


@router.get("/state", responses=error_responses(401))
def state(parts: Parts, _user: AnyStaff) -> s.ConsoleStateOut:
    """What the map and the lists show now: orders with their SLA state, crews, outages, alerts."""
    now = parts.orders.now()
    orders = parts.orders.active()
    crews = parts.planner.crews()
    with parts.orders.reading() as session:
        outages = session.scalars(
            select(Outage)
            .where(Outage.status.in_((OutageStatus.ACTIVE, OutageStatus.PLANNED)))
            .order_by(Outage.starts_at)
        ).all()
        outage_list = [outage_out(o) for o in outages]
    return s.ConsoleStateOut(
        now=now,
        orders=[order_out(o) for o in orders],
        crews=[crew_state_out(c, now) for c in crews],
        outages=outage_list,
        alerts=[alert_out(a) for a in parts.orders.alerts()],
    )


@router.get("/kpis", responses=error_responses(401, 403, 422))
def kpi_table(
    parts: Parts,
    _user: Dispatcher,
    first: Annotated[
        date | None, Query(description="First day (Beijing); default a week ago")
    ] = None,
    last: Annotated[date | None, Query(description="Last day (Beijing); default today")] = None,
) -> s.KpisOut:
    """Response time, time to restore, SLA share and first-time fix per day and crew
    (definitions: ``domain.dispatch_kpis``)."""
    now = parts.orders.now()
    last = last or now.astimezone(BEIJING).date()
    first = first or last - timedelta(days=6)
    if first > last or (last - first).days >= MAX_KPI_DAYS:
        raise ApiError(
            422,
            "BadPeriod",
            f"统计区间需为 1–{MAX_KPI_DAYS} 天",
            f"A period is 1 to {MAX_KPI_DAYS} days",
            f"{first} … {last}",
        )
    with parts.orders.reading() as session:
        rows = kpis(session, first, last, now)
        crews = crews_by_id(session)
    return s.KpisOut(first=first, last=last, rows=[kpi_out(r, crews) for r in rows])
