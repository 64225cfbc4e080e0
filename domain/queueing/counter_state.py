"""What a counter is doing now: closed, open (staff signed in, serving some categories) or paused."""

from __future__ import annotations

import enum
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.queueing.layout import HallLayout
from servicedb.models import CounterSession


class CounterState(enum.StrEnum):
    CLOSED = "closed"  # nobody signed in
    OPEN = "open"
    PAUSED = "paused"  # 暂停服务


class PauseReason(enum.StrEnum):
    BREAK = "break"  # 休息
    MEAL = "meal"  # 用餐
    MEETING = "meeting"  # 会议
    TRAINING = "training"  # 培训
    SYSTEM = "system"  # 系统故障
    OTHER = "other"  # 其他


PAUSE_WORDS = {
    PauseReason.BREAK: ("休息", "On a break"),
    PauseReason.MEAL: ("用餐", "At a meal"),
    PauseReason.MEETING: ("会议", "In a meeting"),
    PauseReason.TRAINING: ("培训", "In training"),
    PauseReason.SYSTEM: ("系统故障", "System fault"),
    PauseReason.OTHER: ("暂停服务", "Paused"),
}


@dataclass(frozen=True)
class CounterStatus:
    state: CounterState
    staff: str | None
    categories: frozenset[uuid.UUID]
    since: datetime | None
    pause_reason: str | None = None


def open_session(session: Session, counter_id: uuid.UUID) -> CounterSession | None:
    return session.scalar(
        select(CounterSession)
        .where(CounterSession.counter_id == counter_id, CounterSession.closed_at.is_(None))
        .order_by(CounterSession.opened_at.desc())
        .limit(1)
    )


def counter_status(session: Session, counter_id: uuid.UUID) -> CounterStatus:
    current = open_session(session, counter_id)
    if current is None:
        return CounterStatus(CounterState.CLOSED, None, frozenset(), None)
    categories = frozenset(uuid.UUID(value) for value in json.loads(current.category_ids))
    if current.paused_at is not None:
        return CounterStatus(
            CounterState.PAUSED, current.staff, categories, current.paused_at, current.pause_reason
        )
    return CounterStatus(CounterState.OPEN, current.staff, categories, current.opened_at)


def served_categories(
    session: Session, layout: HallLayout, counter_id: uuid.UUID
) -> frozenset[uuid.UUID] | None:
    """Categories the counter calls now; None when nobody serves there (closed or paused).

    Staff must sign in before a counter calls anyone: an unattended counter never takes a
    ticket, and never counts towards a wait estimate.
    """
    status = counter_status(session, counter_id)
    return status.categories if status.state is CounterState.OPEN else None
