"""What people see of work orders: an order with its SLA state, its timeline, open lists, alerts.

Reads only; the SLA level is computed at read time from the order's stored spans
(``work_order_store.order_policy``) so the map colours and the sweep agree.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.work_order_store import order_policy, state_from_row
from field_dispatch.sla import SlaLevel, SlaPolicy, sla_state
from servicedb.models import (
    Account,
    Crew,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderEventKind,
    WorkOrderStatus,
)

OPEN_STATUSES = (
    WorkOrderStatus.NEW,
    WorkOrderStatus.DISPATCHED,
    WorkOrderStatus.ACCEPTED,
    WorkOrderStatus.EN_ROUTE,
    WorkOrderStatus.ON_SITE,
)
# Still on the dispatcher's board: open, or resolved and waiting to be closed (销账).
ACTIVE_STATUSES = (*OPEN_STATUSES, WorkOrderStatus.RESOLVED)

SLA_LEVEL_NAMES = {SlaLevel.OK: "ok", SlaLevel.AT_RISK: "at_risk", SlaLevel.BREACHED: "breached"}


@dataclass(frozen=True)
class CrewRef:
    id: uuid.UUID
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class SlaClock:
    milestone: str
    due_at: datetime
    level: str
    share_used: float
    met: bool


@dataclass(frozen=True)
class OrderView:
    id: uuid.UUID
    number: str
    category: str
    priority: int
    sla_priority: int | None
    status: str
    source: str
    description: str
    lon: float
    lat: float
    address: str | None
    account_no: str | None
    contact_name: str | None
    contact_phone: str | None
    crew: CrewRef | None
    pinned: bool
    flag_reason: str | None
    opened_at: datetime | None
    arrive_by: datetime | None
    restore_by: datetime | None
    close_by: datetime | None
    dispatched_at: datetime | None
    arrived_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    result: str | None
    satisfaction: int | None
    reopen_count: int
    version: int
    sla_level: str  # ok, at_risk, breached; "pending" for a hall's order not yet taken in
    sla_clocks: tuple[SlaClock, ...]


@dataclass(frozen=True)
class TimelineEntry:
    seq: int
    kind: str
    at: datetime
    recorded_at: datetime
    actor: str
    actor_name: str
    status_after: str | None
    crew: CrewRef | None
    priority: int | None
    result: str | None
    score: int | None
    note: str | None
    implied: tuple[str, ...]


@dataclass(frozen=True)
class Alert:
    order_id: uuid.UUID
    number: str
    kind: str  # sla_warned, supervisor_notified, flagged
    at: datetime
    note: str | None
    priority: int
    status: str


def crews_by_id(session: Session) -> dict[uuid.UUID, CrewRef]:
    return {
        c.id: CrewRef(c.id, c.code, c.name_zh, c.name_en)
        for c in session.scalars(select(Crew).order_by(Crew.code))
    }


def order_view(
    row: WorkOrder,
    now: datetime,
    policy: SlaPolicy,
    crews: dict[uuid.UUID, CrewRef],
    account_no: str | None = None,
) -> OrderView:
    clocks: tuple[SlaClock, ...] = ()
    level = "pending"
    if row.opened_at is not None and row.sla_priority is not None:
        report = sla_state(state_from_row(row), now, order_policy(row, policy))
        level = SLA_LEVEL_NAMES[report.level]
        clocks = tuple(
            SlaClock(c.milestone.value, c.due_at, SLA_LEVEL_NAMES[c.level], c.share_used, c.met)
            for c in report.clocks
        )
    return OrderView(
        id=row.id,
        number=row.number,
        category=row.category.value,
        priority=row.priority,
        sla_priority=row.sla_priority,
        status=row.status.value,
        source=row.source,
        description=row.description,
        lon=row.lon,
        lat=row.lat,
        address=row.address,
        account_no=account_no,
        contact_name=row.contact_name,
        contact_phone=row.contact_phone,
        crew=None if row.crew_id is None else crews.get(row.crew_id),
        pinned=row.pinned,
        flag_reason=row.flag_reason,
        opened_at=row.opened_at,
        arrive_by=row.arrive_by,
        restore_by=row.restore_by,
        close_by=row.close_by,
        dispatched_at=row.dispatched_at,
        arrived_at=row.arrived_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        result=None if row.result is None else row.result.value,
        satisfaction=row.satisfaction,
        reopen_count=row.reopen_count,
        version=row.version,
        sla_level=level,
        sla_clocks=clocks,
    )


def views(
    session: Session, rows: Sequence[WorkOrder], now: datetime, policy: SlaPolicy
) -> list[OrderView]:
    crews = crews_by_id(session)
    account_ids = {r.account_id for r in rows if r.account_id is not None}
    numbers: dict[uuid.UUID, str] = {}
    if account_ids:
        query = select(Account.id, Account.account_no).where(Account.id.in_(account_ids))
        numbers = {account_id: number for account_id, number in session.execute(query)}
    return [
        order_view(
            r, now, policy, crews, None if r.account_id is None else numbers.get(r.account_id)
        )
        for r in rows
    ]


def timeline(session: Session, order_id: uuid.UUID) -> list[TimelineEntry]:
    crews = crews_by_id(session)
    rows = session.scalars(
        select(WorkOrderEvent)
        .where(WorkOrderEvent.order_id == order_id)
        .order_by(WorkOrderEvent.seq)
    )
    return [
        TimelineEntry(
            seq=e.seq,
            kind=e.kind.value,
            at=e.at,
            recorded_at=e.created_at,
            actor=e.actor.value,
            actor_name=e.actor_name,
            status_after=None if e.status_after is None else e.status_after.value,
            crew=None if e.crew_id is None else crews.get(e.crew_id),
            priority=e.priority,
            result=None if e.result is None else e.result.value,
            score=e.score,
            note=e.note,
            implied=tuple(e.implied.split(",")) if e.implied else (),
        )
        for e in rows
    ]


def active_orders(
    session: Session, statuses: Iterable[WorkOrderStatus] = ACTIVE_STATUSES
) -> list[WorkOrder]:
    return list(
        session.scalars(
            select(WorkOrder)
            .where(WorkOrder.status.in_(list(statuses)))
            .order_by(WorkOrder.priority, WorkOrder.opened_at, WorkOrder.created_at)
        )
    )


def alerts(session: Session, since: datetime, limit: int = 50) -> list[Alert]:
    """Escalations and flags since ``since`` on orders still on the board, newest first."""
    kinds = (
        WorkOrderEventKind.SLA_WARNED,
        WorkOrderEventKind.SUPERVISOR_NOTIFIED,
        WorkOrderEventKind.FLAGGED,
    )
    query = (
        select(WorkOrderEvent, WorkOrder)
        .join(WorkOrder, WorkOrder.id == WorkOrderEvent.order_id)
        .where(
            WorkOrderEvent.kind.in_(kinds),
            WorkOrderEvent.at >= since,
            WorkOrder.status.in_(ACTIVE_STATUSES),
        )
        .order_by(WorkOrderEvent.at.desc(), WorkOrderEvent.seq.desc())
        .limit(limit)
    )
    return [
        Alert(o.id, o.number, e.kind.value, e.at, e.note, o.priority, o.status.value)
        for e, o in session.execute(query)
    ]
