"""The hall API's contract: request and response models, and the one error shape.

Imports only pydantic and the standard library, so the typed client (``servicehall.hall.client``)
and the kiosk can depend on it without pulling in the server.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

API_PREFIX = "/api/v1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")  # a newer hall may send more fields


# --- errors -------------------------------------------------------------------------------
class ErrorOut(_Out):
    """Every refusal: a stable code for programs, a message in Chinese and English for people."""

    code: str = Field(examples=["WrongState"])
    message_zh: str = Field(examples=["此号票当前不能这样操作"])
    message_en: str = Field(examples=["This ticket cannot do that now"])
    detail: str | None = None


# --- enumerations -------------------------------------------------------------------------
class PriorityReason(enum.StrEnum):
    APPOINTMENT = "appointment"
    VIP = "vip"
    ELDERLY = "elderly"
    DISABLED = "disabled"


class FinishOutcome(enum.StrEnum):
    SERVED = "served"  # 已办结
    REFERRED = "referred"  # 转办 / needs follow-up elsewhere
    UNRESOLVED = "unresolved"  # 未办结
    LEFT = "left"  # the customer left during service


# --- requests -----------------------------------------------------------------------------
class PauseReason(enum.StrEnum):
    BREAK = "break"  # 休息
    MEAL = "meal"  # 用餐
    MEETING = "meeting"  # 会议
    TRAINING = "training"  # 培训
    SYSTEM = "system"  # 系统故障
    OTHER = "other"  # 其他


class CounterState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"


TicketNumber = Field(pattern=r"^[A-Za-z]{1,2}[0-9]{3,4}$", examples=["A023"])


# --- requests -----------------------------------------------------------------------------
class TakeTicketIn(_Model):
    category: str = Field(min_length=1, max_length=40)
    priority_reason: PriorityReason | None = None
    # Proof of priority: an appointment needs its code, VIP service a VIP card.
    appointment_code: str | None = Field(default=None, min_length=4, max_length=16)
    vip_card: str | None = Field(default=None, min_length=4, max_length=32)


class RatingIn(_Model):
    score: int = Field(ge=1, le=5)


class SignInIn(_Model):
    staff_no: str = Field(pattern=r"^[A-Za-z0-9]{1,16}$", examples=["S001"])
    pin: str = Field(min_length=4, max_length=32)
    # Default: the categories the counter serves by default.
    categories: list[str] | None = Field(default=None, min_length=1, max_length=20)


class PauseIn(_Model):
    reason: PauseReason


class CallNumberIn(_Model):
    number: str = TicketNumber


class FinishIn(_Model):
    outcome: FinishOutcome = FinishOutcome.SERVED


class TransferIn(_Model):
    category: str | None = Field(default=None, min_length=1, max_length=40)
    counter: int | None = Field(default=None, ge=1, le=999)
    front: bool = False


class ReturnParkedIn(_Model):
    number: str = TicketNumber


class WalkInIn(_Model):
    category: str = Field(min_length=1, max_length=40)


# --- responses ----------------------------------------------------------------------------
class TicketOut(_Out):
    ticket_id: uuid.UUID
    number: str
    category: str
    status: str
    counter: int | None
    people_ahead: int
    estimate_s: float | None
    estimate_minutes: int | None
    # no_counter (nobody serves it now: say so, never "0 min"), no_wait (无需等候), estimated
    estimate_state: str | None = None
    linear_estimate_s: float | None
    issued_at: datetime
    called_at: datetime | None


class CounterActionOut(_Out):
    counter: int
    ticket: TicketOut | None


class CategoryOut(_Out):
    code: str
    prefix: str
    name_zh: str
    name_en: str
    waiting: int
    counters_open: float
    estimate_s: float | None
    estimate_minutes: int | None
    estimate_state: str | None = None
    # Whether a ticket can be taken now; if not, why (closed_today, not_yet_open, cut_off,
    # quota_reached) with the words for the screen.
    issuing: bool = True
    not_issuing: str | None = None
    not_issuing_zh: str | None = None
    not_issuing_en: str | None = None


class TicketListOut(_Out):
    tickets: list[TicketOut]


class CounterStatusOut(_Out):
    counter: int
    name_zh: str
    name_en: str
    state: CounterState
    staff_no: str | None
    categories: list[str]
    pause_reason: PauseReason | None
    since: datetime | None
    ticket: TicketOut | None


class CategoryInfo(_Out):
    code: str
    prefix: str
    name_zh: str
    name_en: str


class CounterInfo(_Out):
    number: int
    name_zh: str
    name_en: str
    default_categories: list[str]


class LayoutOut(_Out):
    """The hall's services and counters: what transfer targets and sign-in choices come from."""

    site: str
    name_zh: str
    name_en: str
    categories: list[CategoryInfo]
    counters: list[CounterInfo]


class CallOut(_Out):
    number: str
    counter: int
    at: datetime
    recalls: int


class QueueOut(_Out):
    site: str
    name_zh: str
    name_en: str
    service_day: date
    categories: list[CategoryOut]
    now_serving: list[CallOut]
    recent_calls: list[CallOut]
