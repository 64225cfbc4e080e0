"""The escalation sweep: what the SLA clocks of the orders on the board call for now.

``field_dispatch.sla.escalate`` decides — a warning to the dispatcher once a running clock
has used its warn share (75 % by default), and at a breach one priority step up (never past
P1) and the supervisor notified. Each decision becomes a history row keyed by the decision's
key, so a second sweep, or a second central process sweeping at the same moment (the
unique key refuses the second row), decides nothing twice. Clocks already met, even late,
decide nothing: a late arrival is for the KPIs, not for a reminder.

Run it periodically (``servicehall.central.dispatch`` does, every ``sweep_interval_s``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domain.dispatch_events import WorkOrderEscalated
from domain.work_order_store import append, history, order_policy, project, replayed, state_from_row
from domain.work_order_views import ACTIVE_STATUSES
from domain.work_orders import SLA_SWEEP, WorkOrders
from field_dispatch.orders import Applied, transition
from field_dispatch.sla import (
    NotifySupervisor,
    RaisePriority,
    SlaLevel,
    WarnDispatcher,
    escalate,
    sla_state,
)
from field_dispatch.vocabulary import Actor
from servicedb.models import WorkOrder, WorkOrderEvent, WorkOrderEventKind

Kind = WorkOrderEventKind
_DECISIONS = (Kind.SLA_WARNED, Kind.SUPERVISOR_NOTIFIED, Kind.PRIORITY_RAISED)


def sweep(orders: WorkOrders, now: datetime | None = None) -> list[WorkOrderEscalated]:
    """Warn, escalate, notify: each decision made once; returns what was announced."""
    now = now or orders.now()
    with orders.reading() as session:
        rows = session.scalars(
            select(WorkOrder).where(
                WorkOrder.status.in_(ACTIVE_STATUSES), WorkOrder.opened_at.is_not(None)
            )
        ).all()
        # The projection says cheaply which orders have a running clock past its warn share…
        running = [
            row
            for row in rows
            if any(
                not clock.met and clock.level is not SlaLevel.OK
                for clock in sla_state(
                    state_from_row(row), now, order_policy(row, orders.policy)
                ).clocks
            )
        ]
        # …and the decisions already made say which of those need one now: only these are
        # locked and replayed, so a sweep with nothing new to say costs two reads.
        done: dict[uuid.UUID, set[str]] = {}
        for order_id, key in session.execute(
            select(WorkOrderEvent.order_id, WorkOrderEvent.event_key)
            .join(WorkOrder, WorkOrder.id == WorkOrderEvent.order_id)
            .where(WorkOrderEvent.kind.in_(_DECISIONS), WorkOrder.status.in_(ACTIVE_STATUSES))
        ):
            done.setdefault(order_id, set()).add(key)
        due = [
            row.id
            for row in running
            if escalate(
                state_from_row(row), now, order_policy(row, orders.policy), done.get(row.id, ())
            )
        ]
    escalated: list[WorkOrderEscalated] = []
    for order_id in due:
        try:
            escalated.extend(_escalate(orders, order_id, now))
        except IntegrityError:
            continue  # another sweep made the same decision first: its key is taken
    return escalated


def _escalate(orders: WorkOrders, order_id: uuid.UUID, now: datetime) -> list[WorkOrderEscalated]:
    with orders.units() as work:
        session = work.session
        row = orders.locked(session, order_id)
        events = history(session, row.id)
        state = replayed(row, events)
        decisions = escalate(
            state, now, order_policy(row, orders.policy), {e.event_key for e in events}
        )
        if not decisions:
            return []
        seq = len(events)
        raised: set[str] = set()
        told: dict[str, tuple[str, datetime]] = {}
        for decision in decisions:
            milestone = decision.milestone.value
            if isinstance(decision, RaisePriority):
                event = decision.event(now)
                outcome = transition(state, event)
                if not isinstance(outcome, Applied):
                    continue
                state = outcome.state
                seq += 1
                append(
                    session,
                    row,
                    seq,
                    Kind.PRIORITY_RAISED,
                    decision.key,
                    now,
                    Actor.SYSTEM,
                    SLA_SWEEP.name,
                    status_after=state.status,
                    priority=decision.priority,
                    note=event.reason,
                    origin_site_id=orders.site_id,
                )
                raised.add(milestone)
            elif isinstance(decision, WarnDispatcher | NotifySupervisor):
                at_risk = isinstance(decision, WarnDispatcher)
                seq += 1
                append(
                    session,
                    row,
                    seq,
                    Kind.SLA_WARNED if at_risk else Kind.SUPERVISOR_NOTIFIED,
                    decision.key,
                    now,
                    Actor.SYSTEM,
                    SLA_SWEEP.name,
                    note=f"{milestone} due {decision.due_at.isoformat()}",
                    origin_site_id=orders.site_id,
                )
                told[milestone] = ("at_risk" if at_risk else "breached", decision.due_at)
        project(row, state, orders.policy, now)
        session.flush()
        announced = [
            WorkOrderEscalated(
                at=now,
                order_id=row.id,
                number=row.number,
                milestone=milestone,
                level=level,
                due_at=due_at,
                priority=row.priority,
                priority_raised=milestone in raised,
                supervisor_notified=level == "breached",
            )
            for milestone, (level, due_at) in told.items()
        ]
        for escalation in announced:
            work.record(escalation)
        work.commit()
    return announced
