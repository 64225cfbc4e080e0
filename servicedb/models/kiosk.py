"""What a hall keeps for its kiosks: receipts of kiosk payments, QR orders, proof of identity,
fault reports, the street picker and the kiosks' health.

The payment ledger itself stays ``payments`` (append-only). A kiosk payment is one
``PaymentReceipt`` (the idempotency record of one attempt: what the kiosk asked, what the
acquirer or wallet answered) plus one ledger row per bill it paid, each with
``reference = receipt_no``. A bill's paid amount is always the sum of its ledger rows.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from servicedb.base import Base, GlobalRow, str_enum
from servicedb.ids import new_id
from servicedb.types import UTCDateTime


class Street(Base):
    """A street of the picker (no free Chinese text entry on a kiosk), placed in a zone."""

    __tablename__ = "streets"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    zone_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("zones.id"), index=True)
    # A representative point of the street, [lon, lat] WGS 84.
    lon: Mapped[float]
    lat: Mapped[float]


class ReceiptMethod(enum.StrEnum):
    BANK_CARD = "bank_card"
    QR = "qr"


class PaymentReceipt(GlobalRow, Base):
    """One kiosk payment attempt that was recorded: written once, never changed."""

    __tablename__ = "payment_receipts"
    __table_args__ = (UniqueConstraint("terminal_id", "stan", "rrn"),)

    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # SHA-256 of the request's canonical form: the same key with another body is refused.
    request_sha256: Mapped[str] = mapped_column(String(64))
    receipt_no: Mapped[str] = mapped_column(String(40), unique=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    method: Mapped[ReceiptMethod] = mapped_column(str_enum(ReceiptMethod, "receipt_method"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    card_masked: Mapped[str | None] = mapped_column(String(19))
    terminal_id: Mapped[str | None] = mapped_column(String(8))
    merchant_id: Mapped[str | None] = mapped_column(String(15))
    stan: Mapped[str | None] = mapped_column(String(6))
    rrn: Mapped[str | None] = mapped_column(String(12))
    auth_code: Mapped[str | None] = mapped_column(String(6))
    wallet_order_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    wallet_txn_id: Mapped[str | None] = mapped_column(String(64))
    device_name: Mapped[str] = mapped_column(String(64))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class QrOrderState(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    EXPIRED = "expired"
    FAILED = "failed"


class QrOrder(Base):
    """A QR payment asked of the wallet provider; becomes a receipt once the provider says paid."""

    __tablename__ = "qr_orders"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(String(40), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    bill_ids: Mapped[str] = mapped_column(Text)  # JSON list of bill ids, as asked
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    qr_content: Mapped[str] = mapped_column(String(300))
    state: Mapped[QrOrderState] = mapped_column(str_enum(QrOrderState, "qr_order_state"))
    device_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OneTimeCode(Base):
    """A code sent by SMS: only a salted hash is kept, never the code."""

    __tablename__ = "one_time_codes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    device_name: Mapped[str] = mapped_column(String(64))
    salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(128))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    wrong_tries: Mapped[int] = mapped_column(default=0)
    # Set when the code was used, burned by wrong tries, or replaced by a newer one.
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CustomerSession(Base):
    """A customer's proof of identity at one kiosk, for a few minutes. Only a digest is kept."""

    __tablename__ = "customer_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    device_name: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CustomerCard(Base):
    """The utility's own customer card (not a bank card). Only a digest of its number is kept."""

    __tablename__ = "customer_cards"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    card_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)


class ProofFailure(Base):
    """A failed proof of identity (a wrong customer card): counted to lock guessing out."""

    __tablename__ = "proof_failures"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class KioskReport(GlobalRow, Base):
    """A fault report or complaint made at a kiosk: the idempotency record of its work order."""

    __tablename__ = "kiosk_reports"

    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_orders.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    street_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("streets.id"))
    contact_phone: Mapped[str] = mapped_column(String(20))
    details: Mapped[str] = mapped_column(Text)  # JSON list of detail codes
    device_name: Mapped[str] = mapped_column(String(64))


class KioskStatus(Base):
    """The latest heartbeat of one kiosk: what the fleet list shows."""

    __tablename__ = "kiosk_status"

    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    app_version: Mapped[str] = mapped_column(String(32))
    screen: Mapped[str] = mapped_column(String(32))
    devices_json: Mapped[str] = mapped_column(Text)
    alarms_json: Mapped[str] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(String(300))


class KioskAlarm(GlobalRow, Base):
    """An alarm a kiosk raised (paper out, cover open …) and when it cleared: kept for central."""

    __tablename__ = "kiosk_alarms"

    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(String(200))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
