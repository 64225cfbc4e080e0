"""One error shape for every refusal: ``ErrorOut`` (code, message_zh, message_en, detail)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.kiosk_errors import KioskError
from domain.queueing.errors import QueueError, UnknownCategory, UnknownCounter, UnknownTicket
from servicehall.hall.api.schemas import ErrorOut

log = logging.getLogger(__name__)

_NOT_FOUND = (UnknownCategory, UnknownCounter, UnknownTicket)


class ApiError(Exception):
    """A refusal made by the API layer itself (authentication, limits)."""

    def __init__(self, status: int, code: str, zh: str, en: str, detail: str | None = None):
        super().__init__(detail or en)
        self.status = status
        self.body = ErrorOut(code=code, message_zh=zh, message_en=en, detail=detail)


# What each status means to a person, when nothing more specific is known.
_GENERIC = {
    400: ("BadRequest", "请求无法识别", "The request could not be understood"),
    401: ("Unauthorized", "设备未授权", "This device is not authorised"),
    403: ("Forbidden", "此设备无权执行该操作", "This device may not do that"),
    404: ("NotFound", "没有找到", "Not found"),
    405: ("MethodNotAllowed", "不支持此操作", "This method is not allowed here"),
    409: ("Conflict", "操作无法完成", "This cannot be done now"),
    413: ("TooLarge", "请求内容过大", "The request is too large"),
    422: ("InvalidRequest", "输入有误", "The request has invalid fields"),
    429: (
        "TooManyRequests",
        "请求过于频繁，请稍后再试",
        "Too many requests; please try again later",
    ),
    503: (
        "Unavailable",
        "服务暂时不可用，请稍后再试",
        "The service is not available; please try again later",
    ),
    500: ("InternalError", "系统故障，请稍后再试", "Something went wrong; please try again"),
}


# For OpenAPI: the statuses every route of a kind can return, all with the error shape.
def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorOut, "description": _GENERIC[status][2]} for status in statuses}


def _json(status: int, body: ErrorOut, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=body.model_dump(), headers=headers)


def _generic(status: int, detail: str | None = None) -> ErrorOut:
    code, zh, en = _GENERIC.get(status, _GENERIC[400] if status < 500 else _GENERIC[500])
    return ErrorOut(code=code, message_zh=zh, message_en=en, detail=detail)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(QueueError)
    async def queue_error(_request: Request, err: QueueError) -> JSONResponse:
        status = 404 if isinstance(err, _NOT_FOUND) else 409
        body = ErrorOut(
            code=type(err).__name__,
            message_zh=err.message_zh,
            message_en=err.message_en,
            detail=err.detail,
        )
        return _json(status, body)

    @app.exception_handler(KioskError)
    async def kiosk_error(_request: Request, err: KioskError) -> JSONResponse:
        body = ErrorOut(
            code=type(err).__name__,
            message_zh=err.message_zh,
            message_en=err.message_en,
            detail=err.detail or None,
        )
        return _json(err.status, body)

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
