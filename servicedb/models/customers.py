"""Customers, premises, accounts, meters and readings."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, String, UniqueConstraint, Uuid, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from servicedb.base import Base, GlobalRow, str_enum
from servicedb.ids import new_id
from servicedb.types import UTCDateTime


class ServiceKind(enum.StrEnum):
    WATER = "water"
    TELECOM = "telecom"


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class ReadingSource(enum.StrEnum):
    MANUAL = "manual"  # 抄表员 on site
    AMR = "amr"  # automatic meter reading
    ESTIMATED = "estimated"
    CUSTOMER = "customer"  # reported by the customer


class Customer(GlobalRow, Base):
    __tablename__ = "customers"

    name: Mapped[str] = mapped_column(String(100))
    is_vip: Mapped[bool] = mapped_column(default=False)
    preferred_language: Mapped[str] = mapped_column(String(8), default="zh-CN")


class Premises(GlobalRow, Base):
    """A supplied address: a flat, a shop, a building."""

    __tablename__ = "premises"

    address_zh: Mapped[str] = mapped_column(String(200))
    address_en: Mapped[str] = mapped_column(String(200))
    lon: Mapped[float]
    lat: Mapped[float]
    zone_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("zones.id"), index=True)


class Account(GlobalRow, Base):
    __tablename__ = "accounts"

    account_no: Mapped[str] = mapped_column(String(32), unique=True)
    service_kind: Mapped[ServiceKind] = mapped_column(str_enum(ServiceKind, "service_kind"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    premises_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("premises.id"), index=True)
    tariff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tariffs.id"))
    status: Mapped[AccountStatus] = mapped_column(
        str_enum(AccountStatus, "account_status"), default=AccountStatus.ACTIVE
    )
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship()
    premises: Mapped[Premises] = relationship()
    phones: Mapped[list[AccountPhone]] = relationship(back_populates="account")


class AccountPhone(GlobalRow, Base):
    """A phone number linked to an account, for caller recognition (来电识别)."""

    __tablename__ = "account_phones"
    __table_args__ = (UniqueConstraint("account_id", "phone"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    # 退订: the person asked for no more notices by SMS (replied TD, or said so at a counter).
    sms_opt_out: Mapped[bool] = mapped_column(default=False, server_default=false())

    account: Mapped[Account] = relationship(back_populates="phones")


class Meter(GlobalRow, Base):
    __tablename__ = "meters"

    serial_no: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MeterReading(GlobalRow, Base):
    """A cumulative register reading. Water in litres, so volumes stay integers."""

    __tablename__ = "meter_readings"
    # The unique constraint's index also serves "readings of this meter in time order".
    __table_args__ = (UniqueConstraint("meter_id", "read_at"),)

    meter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meters.id"))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)
    register_litres: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[ReadingSource] = mapped_column(str_enum(ReadingSource, "reading_source"))


class VipCard(Base):
    """A key-account (贵宾 / 大客户) card: presented at the kiosk, it gives VIP priority."""

    __tablename__ = "vip_cards"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    card_no: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    valid_until: Mapped[date | None] = mapped_column(Date)
