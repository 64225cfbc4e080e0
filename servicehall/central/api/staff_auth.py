"""Who is asking: a console session's bearer token, looked up on every request, and the roles
a route needs (agent, dispatcher, supervisor — see ``domain.console_staff``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request

from domain.console_staff import ConsoleUser
from domain.work_orders import Who
from field_dispatch.vocabulary import Actor
from servicedb.models import ConsoleRole
from servicehall.central.api.errors import ApiError, unauthorised
from servicehall.central.parts import DispatchParts


def dispatch_parts(request: Request) -> DispatchParts:
    parts = request.app.state.dispatch
    if not isinstance(parts, DispatchParts):
        raise ApiError(503, "DispatchOff", "调度服务未启用", "Dispatch is not running here")
    return parts


Parts = Annotated[DispatchParts, Depends(dispatch_parts)]


def bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 200:
        raise unauthorised("expected 'Authorization: Bearer <session token>'")
    return token.strip()


def signed_in(*roles: ConsoleRole) -> Callable[..., ConsoleUser]:
    def check(parts: Parts, authorization: Annotated[str | None, Header()] = None) -> ConsoleUser:
        user = parts.sessions.identify(bearer(authorization))
        if user is None:
            raise unauthorised("the session is unknown, ended or expired")
        if roles and not user.may(*roles):
            raise ApiError(
                403,
                "RoleRequired",
                "您的岗位无权进行此操作",
                "Your role may not do that",
                f"needs one of: {', '.join(sorted(r.value for r in roles))}",
            )
        return user

    return check


_A, _D, _S = ConsoleRole.AGENT, ConsoleRole.DISPATCHER, ConsoleRole.SUPERVISOR
AnyStaff = Annotated[ConsoleUser, Depends(signed_in())]
CallTaker = Annotated[ConsoleUser, Depends(signed_in(_A, _D, _S))]  # takes calls, logs orders
Dispatcher = Annotated[ConsoleUser, Depends(signed_in(_D, _S))]  # assigns, closes, re-plans
Supervisor = Annotated[ConsoleUser, Depends(signed_in(_S))]


def who(user: ConsoleUser) -> Who:
    """Central staff act as the machine's dispatcher; the timeline names the staff number."""
    return Who(Actor.DISPATCHER, user.staff_no)
