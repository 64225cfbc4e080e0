"""The kiosk's part of the hall API (``/api/v1/kiosk``): accounts, bills, payments, reports,
outages, and the kiosk's own health.

Imports only pydantic and the standard library (the kiosk depends on it through the client).
Money is integer fen. Names and addresses reach a kiosk masked (王*, 西城区阜成门内大街***)
until the customer has proved who they are; after that (a one-time code by SMS to the
account's phone, or the utility's customer card) the kiosk holds a short-lived customer
session token for that account and sends it as ``X-Customer-Session``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

AccountNo = Field(pattern=r"^[A-Z]{2}[0-9]{9}$", examples=["XC000000001"])
IdempotencyKey = Field(
    min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="One per attempt"
)
Phone = Field(pattern=r"^1[3-9][0-9]{9}$", examples=["13800138000"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


# --- accounts and proof of identity -------------------------------------------------------
class AccountLookupIn(_In):
    account_no: str = AccountNo


class BillDue(_Out):
    bill_id: uuid.UUID
    period_start: date
    period_end: date
    amount_fen: int
    paid_fen: int  # from the ledger: payments against this bill so far
    due_fen: int  # amount_fen - paid_fen, never below 0
    due_date: date


class AccountSummaryOut(_Out):
    """What anyone at the kiosk may see with the account number alone."""

    account_no: str
    service_kind: str  # water | telecom
    holder_masked: str  # 王*
    address_masked: str  # 北京市西城区阜成门内大街***
    status: str  # active | suspended | closed
    due_fen: int  # all unpaid bills
    bills_due: list[BillDue]
    phone_masked: str | None  # 138****8000: where a one-time code would go


class ProofMethod(enum.StrEnum):
    SMS = "sms"
    CUSTOMER_CARD = "customer_card"


class OtpRequestOut(_Out):
    phone_masked: str
    expires_in_s: int
    resend_after_s: int


class VerifyIn(_In):
    method: ProofMethod
    code: str | None = Field(default=None, pattern=r"^[0-9]{6}$")  # method = sms
    card_number: str | None = Field(default=None, pattern=r"^[0-9]{12,19}$")  # customer_card


class CustomerSessionOut(_Out):
    session: str  # send as X-Customer-Session; bound to this account and this kiosk
    expires_at: datetime


class TierLine(_Out):
    tier: int
    litres: int
    price_fen_per_m3: int
    amount_fen: int
    description_zh: str
    description_en: str


class BillDetail(_Out):
    bill_id: uuid.UUID
    period_start: date
    period_end: date
    consumption_litres: int
    amount_fen: int
    paid_fen: int
    due_date: date
    lines: list[TierLine]


class TierBand(_Out):
    tier: int
    upper_litres: int | None  # None: no upper limit
    price_fen_per_m3: int


class BillsOut(_Out):
    """The last months' bills with usage, and where this year's water sits on the tiers."""

    account_no: str
    holder_name: str  # unmasked: the customer proved who they are
    address: str
    bills: list[BillDetail]  # newest first
    tiers: list[TierBand]
    tier_period: str  # annual | monthly
    used_this_period_litres: int
    current_tier: int
    due_fen: int


class PaymentMethod(enum.StrEnum):
    BANK_CARD = "bank_card"
    QR = "qr"


class PaymentLine(_Out):
    payment_id: uuid.UUID
    paid_at: datetime
    amount_fen: int
    method: str
    kind: str  # payment | refund | reversal
    card_masked: str | None
    reference: str | None


class PaymentsOut(_Out):
    account_no: str
    payments: list[PaymentLine]


# --- payments -----------------------------------------------------------------------------
class CardAuthorisation(_In):
    """What the acquirer answered (ISO 8583 0210): never the card number beyond BIN + last four."""

    card_masked: str = Field(pattern=r"^[0-9]{6}\*{3,9}[0-9]{4}$")
    terminal_id: str = Field(min_length=8, max_length=8)
    merchant_id: str = Field(min_length=15, max_length=15)
    stan: str = Field(pattern=r"^[0-9]{6}$")
    rrn: str = Field(min_length=12, max_length=12)
    auth_code: str = Field(min_length=6, max_length=6)
    approved_at: datetime


class CardPaymentIn(_In):
    idempotency_key: str = IdempotencyKey
    account_no: str = AccountNo
    bill_ids: list[uuid.UUID] = Field(min_length=1, max_length=24)
    amount_fen: int = Field(gt=0, le=10_000_000_00)
    authorisation: CardAuthorisation


class PaymentOut(_Out):
    payment_id: uuid.UUID
    idempotency_key: str
    receipt_no: str
    account_no: str
    holder_masked: str
    amount_fen: int
    method: PaymentMethod
    card_masked: str | None
    paid_at: datetime
    bills_paid: list[uuid.UUID]
    duplicate: bool = False  # True when this key was already recorded: nothing new was charged
    track_url: str  # the receipt's QR: the payment's page at the hall


class QrPaymentIn(_In):
    idempotency_key: str = IdempotencyKey
    account_no: str = AccountNo
    bill_ids: list[uuid.UUID] = Field(min_length=1, max_length=24)
    amount_fen: int = Field(gt=0, le=10_000_000_00)


class QrOrderState(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    EXPIRED = "expired"
    FAILED = "failed"


class QrOrderOut(_Out):
    order_id: str
    qr_content: str  # what the kiosk draws as a QR for the customer's wallet app
    amount_fen: int
    expires_at: datetime
    state: QrOrderState
    payment: PaymentOut | None = None  # once paid


# --- fault reports and complaints ---------------------------------------------------------
class ReportKind(enum.StrEnum):
    REPAIR = "repair"  # 报修
    COMPLAINT = "complaint"  # 投诉


class ReportCategory(enum.StrEnum):
    BURST_MAIN = "burst_main"  # 爆管
    NO_WATER = "no_water"  # 停水 / 无水
    LOW_PRESSURE = "low_pressure"  # 水压低
    LEAK = "leak"  # 漏水
    METER_FAULT = "meter_fault"  # 水表故障
    WATER_QUALITY = "water_quality"  # 水质
    BILLING = "billing"  # 账单疑问 (complaint)
    SERVICE = "service"  # 服务态度 (complaint)
    OTHER = "other"


class Street(_Out):
    code: str
    name_zh: str
    name_en: str
    district_code: str
    lon: float
    lat: float


class District(_Out):
    code: str  # the district metered area (DMA)
    name_zh: str
    name_en: str
    streets: list[Street]


class PlacesOut(_Out):
    """The street/district picker: no free Chinese text entry is needed on a kiosk."""

    districts: list[District]


class ReportIn(_In):
    idempotency_key: str = IdempotencyKey
    kind: ReportKind
    category: ReportCategory
    account_no: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9]{9}$")
    street_code: str | None = Field(default=None, max_length=16)  # when not at the premises
    contact_phone: str = Phone
    details: list[str] = Field(default_factory=list, max_length=8)  # codes from a fixed list


class ReportOut(_Out):
    order_no: str  # the work order's number, printed on the receipt
    kind: ReportKind
    category: ReportCategory
    created_at: datetime
    track_url: str  # the receipt's QR: the order's page
    duplicate: bool = False


# --- outages near me ----------------------------------------------------------------------
class OutageOut(_Out):
    outage_id: uuid.UUID
    kind: str  # water_off | low_pressure | emergency_repair | line_fault
    status: str  # planned | active
    title_zh: str
    title_en: str
    detail_zh: str
    detail_en: str
    starts_at: datetime
    restore_at: datetime | None


class OutagesOut(_Out):
    where_zh: str  # 您的地址 / 金融大街
    where_en: str
    outages: list[OutageOut]


# --- the kiosk's own health (终端管理) ------------------------------------------------------
class DeviceState(enum.StrEnum):
    CONNECTED = "connected"
    DEGRADED = "degraded"  # e.g. paper near end
    FAULT = "fault"  # e.g. paper out, cover open, reader unplugged


class KioskDeviceHealth(_In):
    device: str = Field(pattern=r"^(printer|card_reader|pin_pad|acquirer|screen)$")
    state: DeviceState
    reason: str = Field(default="", max_length=200)
    since: datetime


class HeartbeatIn(_In):
    app_version: str = Field(max_length=32)
    screen: str = Field(max_length=32)  # which screen the kiosk shows now
    devices: list[KioskDeviceHealth] = Field(max_length=10)
    last_error: str | None = Field(default=None, max_length=300)


class KioskStatusOut(_Out):
    name: str
    last_seen: datetime | None
    online: bool  # a heartbeat within the last 90 s
    screen: str | None
    devices: list[KioskDeviceHealth]
    alarms: list[str]  # in words: "打印机缺纸 Printer out of paper"
    last_error: str | None


class KiosksOut(_Out):
    kiosks: list[KioskStatusOut]
