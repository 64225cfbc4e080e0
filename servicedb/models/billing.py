"""Tariffs (with tiers), bills and the append-only payment ledger."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from servicedb.base import Base, GlobalRow, str_enum
from servicedb.ids import new_id
from servicedb.models.customers import ServiceKind
from servicedb.types import UTCDateTime


class TierPeriod(enum.StrEnum):
    """Over which span consumption accumulates before moving to the next tier."""

    ANNUAL = "annual"  # Beijing residential water: tiers over the calendar year
    MONTHLY = "monthly"


class Tariff(Base):
    __tablename__ = "tariffs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    service_kind: Mapped[ServiceKind] = mapped_column(str_enum(ServiceKind, "service_kind"))
    tier_period: Mapped[TierPeriod] = mapped_column(str_enum(TierPeriod, "tier_period"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    tiers: Mapped[list[TariffTier]] = relationship(
        order_by="TariffTier.seq", cascade="all, delete-orphan"
    )


class TariffTier(Base):
    """One step of a tiered price: up to ``upper_litres`` (None = no limit) at this price."""

    __tablename__ = "tariff_tiers"
    __table_args__ = (
        UniqueConstraint("tariff_id", "seq"),
        CheckConstraint("price_fen_per_m3 >= 0", name="price_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tariff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tariffs.id", ondelete="CASCADE"))
    seq: Mapped[int]
    upper_litres: Mapped[int | None] = mapped_column(BigInteger)
    price_fen_per_m3: Mapped[int] = mapped_column(BigInteger)


class BillStatus(enum.StrEnum):
    ISSUED = "issued"
    CANCELLED = "cancelled"


class Bill(GlobalRow, Base):
    __tablename__ = "bills"
    __table_args__ = (UniqueConstraint("account_id", "period_start"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    consumption_litres: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[BillStatus] = mapped_column(
        str_enum(BillStatus, "bill_status"), default=BillStatus.ISSUED
    )

    lines: Mapped[list[BillLine]] = relationship(order_by="BillLine.seq")


class BillLine(GlobalRow, Base):
    """One priced part of a bill, e.g. the litres that fell in tier 2."""

    __tablename__ = "bill_lines"
    __table_args__ = (UniqueConstraint("bill_id", "seq"),)

    bill_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bills.id"))
    seq: Mapped[int]
    description_zh: Mapped[str] = mapped_column(String(100))
    description_en: Mapped[str] = mapped_column(String(100))
    quantity_litres: Mapped[int] = mapped_column(BigInteger)
    unit_price_fen_per_m3: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class PaymentKind(enum.StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    REVERSAL = "reversal"  # undoes an entry that should not have been made


class PaymentMethod(enum.StrEnum):
    BANK_CARD = "bank_card"
    CASH = "cash"
    COUNTER = "counter"
    ONLINE = "online"


class Payment(GlobalRow, Base):
    """An entry of the append-only payment ledger.

    Rows are never updated or deleted (the database refuses it, see the migration's triggers):
    a mistake is corrected by a REVERSAL entry. ``idempotency_key`` makes a retried request
    land once. Card data is at most BIN + last four (``card_masked``).
    """

    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount_fen <> 0", name="amount_not_zero"),)

    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    bill_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bills.id"), index=True)
    kind: Mapped[PaymentKind] = mapped_column(str_enum(PaymentKind, "payment_kind"))
    method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod, "payment_method"))
    # Positive money in; refunds and reversals are negative.
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    card_masked: Mapped[str | None] = mapped_column(String(19))
    reference: Mapped[str | None] = mapped_column(String(64))
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payments.id"))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
