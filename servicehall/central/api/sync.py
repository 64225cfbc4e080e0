"""``/api/v1/sync``: halls push their batches and pull their pages and snapshots.

Authenticated per hall (``Authorization: Bearer <sync token>`` and ``X-Servicehall-Site``);
a kiosk's or counter's token is not a sync token. Bodies are gzip-compressed JSON in the
format of ``sync.wire``; every refusal is in the error shape and applies nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import Engine

from servicehall.central.api.errors import ApiError, error_responses
from sync import central_side, drift, operations
from sync.wire import (
    CONTENT_TYPE,
    MAX_ROWS,
    Refused,
    check_versions,
    encode_down,
    encode_snapshot_page,
    parse_up,
    unpack,
)

router = APIRouter(prefix="/sync", tags=["sync"])


@dataclass
class SyncService:
    engine: Engine
    schema: str
    lag_alarm_s: float = 300.0


_ZH = {
    "unauthorised": "同步凭证无效",
    "forbidden": "无权同步此营业厅的数据",
    "gap": "同步序号不连续，请从中心确认的位置重发",
    "schema": "数据库版本不一致，请先升级",
    "format": "同步格式版本不一致，请先升级",
    "too_large": "同步批次过大",
    "forged_origin": "批次中含有其他站点的数据",
}


def _refusal(err: Refused) -> ApiError:
    return ApiError(
        err.status, err.code, _ZH.get(err.code, "同步批次被拒绝，未写入任何数据"), str(err)
    )


def _service(request: Request) -> SyncService:
    service = getattr(request.app.state, "sync", None)
    if service is None:
        raise ApiError(503, "Unavailable", "同步未启用", "sync is not enabled at this central")
    return service  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Caller:
    """An authenticated hall and the sync service answering it."""

    service: SyncService
    hall: central_side.Hall


def _caller(
    request: Request,
    x_servicehall_site: Annotated[str | None, Header()] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> Caller:
    service = _service(request)
    token = None
    if authorization and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    try:
        return Caller(
            service, central_side.authenticate(service.engine, x_servicehall_site or "", token)
        )
    except Refused as err:
        raise _refusal(err) from err


Authed = Annotated[Caller, Depends(_caller)]


@router.post(
    "/up",
    responses=error_responses(401, 403, 409, 413, 422),
    summary="Apply a hall's batch exactly once and acknowledge it",
)
async def push(request: Request, caller: Authed) -> dict[str, Any]:
    service, hall = caller.service, caller.hall
    body = await request.body()

    def work() -> dict[str, Any]:
        try:
            document = unpack(body)
            check_versions(document, service.schema, we_are="central")
            batch = parse_up(document)
            ack = central_side.apply_up(service.engine, hall, batch)
        except Refused as err:
            operations.record_refusal(service.engine, hall, str(err))
            raise _refusal(err) from err
        return {"acked_seq": ack.acked_seq, "applied": ack.applied, "duplicate": ack.duplicate}

    return await run_in_threadpool(work)


@router.get(
    "/down",
    responses=error_responses(401, 403),
    response_class=Response,
    summary="The next page of central's changes for this hall (gzip JSON)",
)
async def pull(
    caller: Authed,
    txid: Annotated[int, Query(ge=0)] = 0,
    seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 500,
) -> Response:
    service, hall = caller.service, caller.hall

    def work() -> bytes:
        page = central_side.serve_down(service.engine, hall, (txid, seq), service.schema, limit)
        return encode_down(page)

    return Response(await run_in_threadpool(work), media_type=CONTENT_TYPE)


@router.get(
    "/snapshot", responses=error_responses(401, 403), summary="What provisioning will fetch"
)
async def snapshot(caller: Authed) -> dict[str, Any]:
    service = caller.service
    return await run_in_threadpool(
        central_side.snapshot_meta, service.engine, caller.hall, service.schema
    )


@router.get(
    "/snapshot/{table}",
    responses=error_responses(401, 403, 404),
    response_class=Response,
    summary="One page of a table of the hall's slice, in key order (gzip JSON)",
)
async def snapshot_table(
    caller: Authed,
    table: str,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 1000,
) -> Response:
    service, hall = caller.service, caller.hall

    def work() -> bytes:
        rows, last = central_side.snapshot_page(service.engine, hall, table, after, limit)
        return encode_snapshot_page(service.schema, table, rows, last)

    try:
        return Response(await run_in_threadpool(work), media_type=CONTENT_TYPE)
    except Refused as err:
        raise _refusal(err) from err


@router.get(
    "/digest",
    responses=error_responses(401, 403),
    summary="Per-table count and hash of the hall's slice",
)
async def digest_of_slice(caller: Authed) -> dict[str, Any]:
    return await run_in_threadpool(drift.central_digests, caller.service.engine, caller.hall)


@router.get("/halls", summary="Every hall's sync: lag, last contact, alarm")
async def halls(request: Request) -> dict[str, Any]:
    service = _service(request)
    return await run_in_threadpool(operations.halls_overview, service.engine, service.lag_alarm_s)
