"""Central's one error shape, ``ErrorOut`` (code, message_zh, message_en, detail) — the same
four fields as the hall's and the platform's refusals — and the handlers that produce it.

Domain refusals map to statuses here and nowhere else: an unknown order, crew or account is
404; a refusal of the status machine or a stale version is 409; a bad intake or phone
number is 422; a wrong PIN is 401 and a locked staff number 403.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.callers import NotAPhone
from domain.console_staff import NoConsoleRole
from domain.queueing.errors import QueueError
from domain.staff import StaffLocked
from domain.work_orders import (
    BadIntake,
    UnknownAccount,
    UnknownCrew,
    UnknownOrder,
    WorkOrderError,
)
from servicehall.central.api.shapes import ErrorOut

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refusal made by the API layer itself (authentication, roles)."""

    def __init__(self, status: int, code: str, zh: str, en: str, detail: str | None = None):
        super().__init__(detail or en)
        self.status = status
        self.body = ErrorOut(code=code, message_zh=zh, message_en=en, detail=detail)


_GENERIC = {
    400: ("BadRequest", "请求无法识别", "The request could not be understood"),
    401: ("Unauthorized", "请先登录", "Please sign in"),
    403: ("Forbidden", "您无权进行此操作", "You may not do that"),
    404: ("NotFound", "没有找到", "Not found"),
    405: ("MethodNotAllowed", "不支持此操作", "This method is not allowed here"),
    409: ("Conflict", "操作无法完成", "This cannot be done now"),
    413: ("TooLarge", "请求内容过大", "The request is too large"),
    422: ("InvalidRequest", "输入有误", "The request has invalid fields"),
    500: ("InternalError", "系统故障，请稍后再试", "Something went wrong; please try again"),
    503: ("Unavailable", "服务暂不可用", "The service is not available"),
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """For OpenAPI: the statuses a route can answer, all in the error shape."""
    return {status: {"model": ErrorOut, "description": _GENERIC[status][2]} for status in statuses}


def unauthorised(detail: str | None = None) -> ApiError:
    return ApiError(401, "Unauthorized", "请先登录", "Please sign in", detail)


def _json(status: int, body: ErrorOut, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=body.model_dump(), headers=headers)


def _generic(status: int, detail: str | None = None) -> ErrorOut:
    code, zh, en = _GENERIC.get(status, _GENERIC[400] if status < 500 else _GENERIC[500])
    return ErrorOut(code=code, message_zh=zh, message_en=en, detail=detail)


def _status(err: WorkOrderError) -> int:
    if isinstance(err, UnknownOrder | UnknownCrew | UnknownAccount):
        return 404
    if isinstance(err, BadIntake):
        return 422
    return 409


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(WorkOrderError)
    async def work_order_error(_request: Request, err: WorkOrderError) -> JSONResponse:
        body = ErrorOut(
            code=type(err).__name__,
            message_zh=err.message_zh,
            message_en=err.message_en,
            detail=err.detail[:300],
        )
        return _json(_status(err), body)

    @app.exception_handler(NotAPhone)
    async def not_a_phone(_request: Request, err: NotAPhone) -> JSONResponse:
        body = ErrorOut(
            code="NotAPhone",
            message_zh=err.message_zh,
            message_en=err.message_en,
            detail=err.detail,
        )
        return _json(422, body)

    @app.exception_handler(QueueError)
    async def sign_in_refused(_request: Request, err: QueueError) -> JSONResponse:
        # domain.staff's refusals (wrong PIN, locked) are QueueErrors: they come from sign-in.
        status = 403 if isinstance(err, StaffLocked) else 401
        body = ErrorOut(
            code=type(err).__name__, message_zh=err.message_zh, message_en=err.message_en
        )
        return _json(status, body, {"WWW-Authenticate": "Bearer"} if status == 401 else None)

    @app.exception_handler(NoConsoleRole)
    async def no_role(_request: Request, err: NoConsoleRole) -> JSONResponse:
        body = ErrorOut(code="NoConsoleRole", message_zh=err.message_zh, message_en=err.message_en)
        return _json(403, body)

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, err: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if err.status == 401 else None
        return _json(err.status, err.body, headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        # The message names the field, never echoes the input (it may be huge or hostile).
        return _json(422, _generic(422, f"{where}: {first.get('msg', 'invalid')}"[:300]))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, err: StarletteHTTPException) -> JSONResponse:
        detail = err.detail if isinstance(err.detail, str) else None
        return _json(err.status_code, _generic(err.status_code, detail), err.headers)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, err: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=err)
        return _json(500, _generic(500))
