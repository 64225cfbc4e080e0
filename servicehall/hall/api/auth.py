"""Who is calling: a per-device bearer token, checked on every request (no cache outlives it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from servicedb.models import DeviceKind
from servicehall.hall.api.errors import ApiError
from servicehall.hall.parts import HallParts
from servicehall.hall.tokens import DeviceIdentity


def hall_parts(request: Request) -> HallParts:
    parts = request.app.state.parts
    assert isinstance(parts, HallParts)  # noqa: S101 - set by create_hall_app
    return parts


Parts = Annotated[HallParts, Depends(hall_parts)]


def _token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "Unauthorized",
            "设备未授权",
            "This device is not authorised",
            "expected 'Authorization: Bearer <device token>'",
        )
    return token.strip()


def device(*kinds: DeviceKind) -> Callable[..., DeviceIdentity]:
    def check(
        parts: Parts, authorization: Annotated[str | None, Header()] = None
    ) -> DeviceIdentity:
        identity = parts.tokens.identify(_token(authorization))
        if identity is None:
            raise ApiError(401, "Unauthorized", "设备未授权", "This device is not authorised")
        if identity.kind not in kinds:
            raise ApiError(403, "Forbidden", "此设备无权执行该操作", "This device may not do that")
        return identity

    return check


Kiosk = Annotated[DeviceIdentity, Depends(device(DeviceKind.KIOSK, DeviceKind.COUNTER_TERMINAL))]
CounterTerminal = Annotated[DeviceIdentity, Depends(device(DeviceKind.COUNTER_TERMINAL))]
