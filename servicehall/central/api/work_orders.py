"""Work orders at central: intake by phone, web or dispatcher; the board; each order's
timeline; suggestions and assignment; resolve, close, cancel, reopen, follow up; plans.

Routes only parse, call ``domain.work_orders`` / ``domain.dispatch_planning`` and shape the
answer: the demo, the CLI and the phone adapter reach the same code. Every change can carry
``expected_version`` (refused with 409 when the order moved on) and an ``Idempotency-Key``
header (a retried request is applied once).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header

from domain.callers import normalise_phone
from domain.dispatch_plans import Plan, PlanLine
from domain.work_order_commands import (
    Cancel,
    Close,
    Command,
    FollowUp,
    RaisePriority,
    Reopen,
    Resolve,
)
from domain.work_orders import Intake
from field_dispatch.orders import Result
from field_dispatch.vocabulary import Category
from servicehall.central.api import dispatch_schemas as s
from servicehall.central.api.dispatch_convert import (
    change_out,
    order_out,
    plan_out,
    suggestion_out,
    timeline_out,
)
from servicehall.central.api.errors import error_responses
from servicehall.central.api.staff_auth import AnyStaff, CallTaker, Dispatcher, Parts, who

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=64,
        description="One per user action: a retried request gets the same answer.",
    ),
]
OrderId = uuid.UUID

router = APIRouter(tags=["work orders"], responses=error_responses(401, 403, 413, 422))
_CHANGE = error_responses(404, 409)


@router.post("/work-orders", status_code=201, responses=error_responses(404))
def open_order(
    body: s.OrderIn, parts: Parts, user: CallTaker, key: IdempotencyKey = None
) -> s.OrderOut:
    """Log an order (a call, the web, the dispatcher); the place is the account's when not given."""
    phone = normalise_phone(body.contact_phone) if body.contact_phone else None
    intake = Intake(
        category=Category(body.category.value),
        description=body.description,
        source=body.source.value,
        priority=body.priority,
        lon=body.lon,
        lat=body.lat,
        account_no=body.account_no,
        contact_name=body.contact_name,
        contact_phone=phone,
        address=body.address,
        intake_key=f"{user.staff_no}:{key}" if key else None,
    )
    return order_out(parts.orders.open(intake, who(user)))


@router.get("/work-orders")
def board(parts: Parts, _user: AnyStaff) -> s.OrderListOut:
    """Every order on the board: open, or resolved and waiting to be closed; most urgent first."""
    return s.OrderListOut(orders=[order_out(v) for v in parts.orders.active()])


@router.get("/work-orders/{order_id}", responses=error_responses(404))
def detail(order_id: OrderId, parts: Parts, _user: AnyStaff) -> s.OrderDetailOut:
    """The order and its timeline: every event in the order it was recorded."""
    order = parts.orders.get(order_id)
    timeline = parts.orders.timeline(order_id)
    return s.OrderDetailOut(order=order_out(order), timeline=[timeline_out(e) for e in timeline])


@router.get("/work-orders/{order_id}/suggestions", responses=error_responses(404))
def suggestions(order_id: OrderId, parts: Parts, _user: Dispatcher) -> s.SuggestionOut:
    """Every crew for this order: the best first with its ETA, the others with why not."""
    return suggestion_out(parts.planner.suggest(order_id))


@router.post("/work-orders/{order_id}/dispatch", responses=_CHANGE)
def dispatch(order_id: OrderId, body: s.DispatchIn, parts: Parts, user: Dispatcher) -> s.ChangeOut:
    """Give the order to a crew (pinned: plans leave it); ``overridden`` lists rules set aside."""
    assigned = parts.planner.assign(
        order_id, body.crew_id, who(user), expected_version=body.expected_version
    )
    return change_out(assigned.change, assigned.overridden)


def _command(
    parts: Parts,
    order_id: OrderId,
    command: Command,
    user: Dispatcher,
    version: int | None,
    key: str | None,
) -> s.ChangeOut:
    change = parts.orders.command(
        order_id,
        command,
        who(user),
        expected_version=version,
        key=f"{user.staff_no}:{key}" if key else None,
    )
    return change_out(change)


@router.post("/work-orders/{order_id}/resolve", responses=_CHANGE)
def resolve(
    order_id: OrderId, body: s.ResolveIn, parts: Parts, user: Dispatcher, key: IdempotencyKey = None
) -> s.ChangeOut:
    """The field's result, when the crew phones it in."""
    command = Resolve(Result(body.result.value), body.note)
    return _command(parts, order_id, command, user, body.expected_version, key)


@router.post("/work-orders/{order_id}/close", responses=_CHANGE)
def close(
    order_id: OrderId, body: s.CloseIn, parts: Parts, user: Dispatcher, key: IdempotencyKey = None
) -> s.ChangeOut:
    """销账: close a resolved order with its final result."""
    return _command(
        parts, order_id, Close(Result(body.result.value)), user, body.expected_version, key
    )


@router.post("/work-orders/{order_id}/cancel", responses=_CHANGE)
def cancel(
    order_id: OrderId, body: s.CancelIn, parts: Parts, user: Dispatcher, key: IdempotencyKey = None
) -> s.ChangeOut:
    return _command(parts, order_id, Cancel(body.reason), user, body.expected_version, key)


@router.post("/work-orders/{order_id}/reopen", responses=_CHANGE)
def reopen(
    order_id: OrderId, body: s.ReopenIn, parts: Parts, user: Dispatcher, key: IdempotencyKey = None
) -> s.ChangeOut:
    """Back to new, or straight to a crew; the SLA clocks restart."""
    command = Reopen(body.reason, body.crew_id)
    return _command(parts, order_id, command, user, body.expected_version, key)


@router.post("/work-orders/{order_id}/priority", responses=_CHANGE)
def raise_priority(
    order_id: OrderId,
    body: s.PriorityIn,
    parts: Parts,
    user: Dispatcher,
    key: IdempotencyKey = None,
) -> s.ChangeOut:
    """More urgent only; the SLA deadlines stay as set at intake."""
    command = RaisePriority(body.priority, body.reason)
    return _command(parts, order_id, command, user, body.expected_version, key)


@router.post("/work-orders/{order_id}/follow-up", responses=_CHANGE)
def follow_up(
    order_id: OrderId, body: s.FollowUpIn, parts: Parts, user: CallTaker, key: IdempotencyKey = None
) -> s.ChangeOut:
    """回访: the customer's satisfaction with a closed order, 1–5."""
    command = FollowUp(body.score, body.note)
    return _command(parts, order_id, command, user, body.expected_version, key)


@router.post("/dispatch/plan")
def plan(parts: Parts, _user: Dispatcher) -> s.PlanOut:
    """A plan for the backlog, to look at; nothing is recorded until it is applied."""
    return plan_out(parts.planner.plan())


@router.post("/dispatch/plan/apply")
def apply_plan(body: s.PlanIn, parts: Parts, user: Dispatcher) -> s.PlanOut:
    """Carry out a plan where nothing changed since it was made; the rest comes back as conflicts."""
    crews = {c.crew.id: c.crew for c in parts.planner.crews()}
    lines = tuple(
        PlanLine(
            order_id=line.order_id,
            number=line.number,
            priority=line.priority,
            version=line.version,
            outcome=line.outcome,
            crew=crews.get(line.crew_id) if line.crew_id else None,
            crew_holds=tuple(line.crew_holds),
            eta_s=line.eta_s,
            reason=line.reason,
        )
        for line in body.lines
    )
    applied = parts.planner.apply(Plan(body.made_at, lines), who(user))
    return plan_out(applied)
