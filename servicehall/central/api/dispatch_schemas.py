"""Central's dispatch API in and out: work orders, caller lookup, the console. Pydantic only,
so the typed client (``servicehall.central.dispatch_client``) and other processes can use
them without the server's code. Enums mirror the domain's by value.

Times are timezone-aware ISO 8601 (UTC); coordinates WGS-84; money integer fen.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from servicehall.central.api.shapes import ErrorOut

__all__ = ["ErrorOut"]

Text500 = Annotated[str, StringConstraints(max_length=500)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Category(enum.StrEnum):
    BURST_MAIN = "burst_main"
    NO_WATER = "no_water"
    LOW_PRESSURE = "low_pressure"
    LEAK = "leak"
    METER_FAULT = "meter_fault"
    LINE_FAULT = "line_fault"
    COMPLAINT = "complaint"
    ENQUIRY = "enquiry"
    HELP = "help"
    MISCONDUCT = "misconduct"


class Result(enum.StrEnum):
    FIXED = "fixed"
    TEMPORARY_FIX = "temporary_fix"
    NO_FAULT_FOUND = "no_fault_found"
    CUSTOMER_SIDE = "customer_side"
    REFERRED = "referred"
    ANSWERED = "answered"
    CUSTOMER_ABSENT = "customer_absent"


class Role(enum.StrEnum):
    AGENT = "agent"
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"


class IntakeSource(enum.StrEnum):
    """Channels that open orders at central (halls and kiosks open theirs at the hall)."""

    PHONE = "phone"
    WEB = "web"
    DISPATCHER = "dispatcher"


# --- sign-in -------------------------------------------------------------------------------


class SignInIn(_In):
    staff_no: Annotated[
        str, StringConstraints(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")
    ]
    pin: Annotated[str, StringConstraints(min_length=4, max_length=32)]


class StaffOut(BaseModel):
    staff_no: str
    name: str
    roles: list[Role]


class SessionOut(BaseModel):
    token: str = Field(description="Send as 'Authorization: Bearer <token>'; shown once.")
    expires_at: datetime
    staff: StaffOut


# --- work orders ---------------------------------------------------------------------------


class OrderIn(_In):
    category: Category
    description: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    source: IntakeSource = IntakeSource.PHONE
    priority: Annotated[int, Field(ge=1, le=5)] | None = Field(
        default=None, description="1 most urgent; empty: the category's default"
    )
    lon: Annotated[float, Field(ge=73, le=136)] | None = None
    lat: Annotated[float, Field(ge=3, le=54)] | None = None
    account_no: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    contact_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    contact_phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    address: Annotated[str, StringConstraints(max_length=200)] | None = None


class CrewOut(BaseModel):
    id: uuid.UUID
    code: str
    name_zh: str
    name_en: str


class SlaClockOut(BaseModel):
    milestone: str
    due_at: datetime
    level: str
    share_used: float
    met: bool


class OrderOut(BaseModel):
    id: uuid.UUID
    number: str
    category: Category
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
    crew: CrewOut | None
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
    version: int = Field(description="Send back as expected_version to refuse a stale change")
    sla_level: str = Field(description="ok, at_risk, breached; pending before central takes it in")
    sla_clocks: list[SlaClockOut]


class OrderListOut(BaseModel):
    orders: list[OrderOut]


class TimelineEntryOut(BaseModel):
    seq: int
    kind: str
    at: datetime
    recorded_at: datetime
    actor: str
    actor_name: str
    status_after: str | None
    crew: CrewOut | None
    priority: int | None
    result: str | None
    score: int | None
    note: str | None
    implied: list[str]


class OrderDetailOut(BaseModel):
    order: OrderOut
    timeline: list[TimelineEntryOut]


class ChangeOut(BaseModel):
    order: OrderOut
    applied: bool = Field(description="false: nothing changed (a repeated request)")
    ignored: str | None = None
    implied: list[str] = []
    overridden: list[str] = Field(
        default=[], description="Rules a dispatcher's pick set aside (no_skill, busy, …)"
    )


class _Versioned(_In):
    expected_version: int | None = Field(
        default=None, ge=0, le=2**31, description="Refuse with 409 if the order changed since"
    )


class DispatchIn(_Versioned):
    crew_id: uuid.UUID


class ResolveIn(_Versioned):
    result: Result
    note: Text500 = ""


class CloseIn(_Versioned):
    result: Result


class CancelIn(_Versioned):
    reason: Reason


class ReopenIn(_Versioned):
    reason: Reason
    crew_id: uuid.UUID | None = None


class FollowUpIn(_Versioned):
    score: int = Field(ge=1, le=5, description="1 very dissatisfied … 5 very satisfied")
    note: Text500 = ""


class PriorityIn(_Versioned):
    priority: int = Field(ge=1, le=5)
    reason: Reason


class CrewOptionOut(BaseModel):
    crew: CrewOut
    eta_s: float | None
    fits: bool
    unfit: str | None
    score: float | None


class SuggestionOut(BaseModel):
    order: OrderOut
    best: CrewOut | None
    options: list[CrewOptionOut]
    no_crew_reason: str | None


class PlanLineOut(BaseModel):
    order_id: uuid.UUID
    number: str
    priority: int
    version: int
    outcome: str = Field(
        description="assign, keep, unassigned; after apply: assigned, conflict, flagged"
    )
    crew: CrewOut | None
    crew_holds: list[str]
    eta_s: float | None
    reason: str | None


class PlanOut(BaseModel):
    made_at: datetime
    lines: list[PlanLineOut]


class PlanLineIn(_In):
    order_id: uuid.UUID
    number: Annotated[str, StringConstraints(max_length=32)]
    priority: int = Field(ge=1, le=5)
    version: int = Field(ge=0, le=2**31)
    outcome: Annotated[str, StringConstraints(max_length=16)]
    crew_id: uuid.UUID | None = None
    crew_holds: list[Annotated[str, StringConstraints(max_length=40)]] = Field(
        default=[], max_length=50
    )
    eta_s: float | None = None
    reason: Annotated[str, StringConstraints(max_length=32)] | None = None


class PlanIn(_In):
    made_at: datetime
    lines: list[PlanLineIn] = Field(max_length=500)


# --- callers -------------------------------------------------------------------------------


class BillOut(BaseModel):
    period_start: date
    period_end: date
    consumption_litres: int
    amount_fen: int
    paid_fen: int
    due_date: date
    state: str = Field(description="paid, part_paid, unpaid (not yet due), overdue")


class PaymentOut(BaseModel):
    paid_at: datetime
    amount_fen: int
    kind: str
    method: str
    card_masked: str | None


class AccountOut(BaseModel):
    account_no: str
    service_kind: str
    status: str
    address_zh: str
    address_en: str
    lon: float
    lat: float
    zone_code: str | None
    zone_name_zh: str | None
    arrears_fen: int
    bills: list[BillOut]
    payments: list[PaymentOut]


class CustomerOut(BaseModel):
    name: str
    is_vip: bool
    accounts: list[AccountOut]


class OutageNoteOut(BaseModel):
    id: uuid.UUID
    kind: str
    status: str
    title_zh: str
    title_en: str
    starts_at: datetime
    estimated_restore_at: datetime | None
    affects: list[str]


class CallerOut(BaseModel):
    phone: str = Field(description="The number as stored (normalised)")
    known: bool
    customers: list[CustomerOut]
    more_accounts: int
    orders: list[OrderOut]
    outages: list[OutageNoteOut]


# --- the console ---------------------------------------------------------------------------


class TechnicianOut(BaseModel):
    tracker_user: str
    lon: float
    lat: float
    fix_at: datetime
    age_s: float
    stale: bool
    speed_kmh: float | None
    accuracy_m: float | None


class CrewStateOut(BaseModel):
    crew: CrewOut
    lon: float
    lat: float
    located_by: str = Field(description="gps (a live phone) or depot")
    fix_at: datetime | None
    stale: bool
    on_duty: bool
    activity: str
    skills: list[str]
    holds: list[str]
    technicians: list[TechnicianOut]


class OutageOut(BaseModel):
    id: uuid.UUID
    kind: str
    status: str
    title_zh: str
    title_en: str
    area: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon, [lon, lat]")
    affected_count: int | None
    starts_at: datetime
    estimated_restore_at: datetime | None


class AlertOut(BaseModel):
    order_id: uuid.UUID
    number: str
    kind: str
    at: datetime
    note: str | None
    priority: int
    status: str


class ConsoleStateOut(BaseModel):
    now: datetime
    orders: list[OrderOut]
    crews: list[CrewStateOut]
    outages: list[OutageOut]
    alerts: list[AlertOut]


class HallOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    lon: float
    lat: float


class BaseMapOut(BaseModel):
    zones: dict[str, Any] = Field(
        description="GeoJSON FeatureCollection of the district metered areas"
    )
    halls: list[HallOut]
    bounds: list[list[float]] = Field(description="[[west, south], [east, north]]")


class KpiRowOut(BaseModel):
    day: date
    crew: CrewOut | None = Field(description="null: all crews")
    orders: int
    responded: int
    mean_response_s: float | None
    restored: int
    mean_restore_s: float | None
    sla_judged: int
    sla_met: int
    sla_share: float | None
    first_fix_judged: int
    first_time_fixes: int
    first_time_fix_share: float | None


class KpisOut(BaseModel):
    first: date
    last: date
    rows: list[KpiRowOut]
