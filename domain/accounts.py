"""An account as the kiosk shows it: masked to anyone with the number, whole to its proven owner.

What a bill still owes is derived from the ledger every time (bill amount − the sum of its
ledger rows, reversals and refunds included), never from a stored "paid" flag, so a payment
that reaches the hall from central and one made at the kiosk can never be lost or counted
twice, whichever the hall learns first.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.kiosk_errors import UnknownAccount
from domain.kiosk_site import KioskSite, mask_address, mask_name, mask_phone
from servicedb.models import (
    Account,
    AccountPhone,
    Bill,
    BillLine,
    Payment,
    PaymentReceipt,
    Tariff,
)
from servicedb.models.billing import BillStatus


@dataclass(frozen=True)
class BillDue:
    bill_id: uuid.UUID
    period_start: date
    period_end: date
    amount_fen: int
    paid_fen: int
    due_fen: int
    due_date: date


@dataclass(frozen=True)
class AccountSummary:
    account_no: str
    service_kind: str
    holder_masked: str
    address_masked: str
    status: str
    due_fen: int
    bills_due: list[BillDue]
    phone_masked: str | None


@dataclass(frozen=True)
class TierLine:
    tier: int
    litres: int
    price_fen_per_m3: int
    amount_fen: int
    description_zh: str
    description_en: str


@dataclass(frozen=True)
class BillDetail:
    bill_id: uuid.UUID
    period_start: date
    period_end: date
    consumption_litres: int
    amount_fen: int
    paid_fen: int
    due_date: date
    lines: list[TierLine]


@dataclass(frozen=True)
class TierBand:
    tier: int
    upper_litres: int | None
    price_fen_per_m3: int


@dataclass(frozen=True)
class Bills:
    account_no: str
    holder_name: str
    address: str
    bills: list[BillDetail]
    tiers: list[TierBand]
    tier_period: str
    used_this_period_litres: int
    current_tier: int
    due_fen: int


@dataclass(frozen=True)
class PaymentLine:
    payment_id: uuid.UUID
    paid_at: datetime
    amount_fen: int
    method: str
    kind: str
    card_masked: str | None
    reference: str | None


def find_account(session: Session, account_no: str) -> Account:
    account = session.scalars(select(Account).where(Account.account_no == account_no)).first()
    if account is None:
        raise UnknownAccount(f"no account {account_no}")
    return account


def paid_by_bill(session: Session, bill_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The ledger's net for each bill: payments minus refunds and reversals."""
    if not bill_ids:
        return {}
    rows = session.execute(
        select(Payment.bill_id, func.sum(Payment.amount_fen))
        .where(Payment.bill_id.in_(bill_ids))
        .group_by(Payment.bill_id)
    ).all()
    return {bill_id: int(total) for bill_id, total in rows if bill_id is not None}


def bills_due(session: Session, account_id: uuid.UUID) -> list[BillDue]:
    """Issued bills that still owe something, oldest first (they are paid in that order)."""
    bills = session.scalars(
        select(Bill)
        .where(Bill.account_id == account_id, Bill.status == BillStatus.ISSUED)
        .order_by(Bill.period_start)
    ).all()
    paid = paid_by_bill(session, [b.id for b in bills])
    due = []
    for bill in bills:
        owed = max(0, bill.amount_fen - paid.get(bill.id, 0))
        if owed > 0:
            due.append(
                BillDue(
                    bill.id,
                    bill.period_start,
                    bill.period_end,
                    bill.amount_fen,
                    paid.get(bill.id, 0),
                    owed,
                    bill.due_date,
                )
            )
    return due


def first_phone(session: Session, account_id: uuid.UUID) -> str | None:
    return session.scalars(
        select(AccountPhone.phone)
        .where(AccountPhone.account_id == account_id)
        .order_by(AccountPhone.created_at, AccountPhone.phone)
    ).first()


class AccountDesk:
    """Read-only account queries for kiosks."""

    def __init__(self, site: KioskSite) -> None:
        self._site = site

    def summary(self, account_no: str) -> AccountSummary:
        with self._site.read() as session:
            account = find_account(session, account_no)
            due = bills_due(session, account.id)
            phone = first_phone(session, account.id)
            return AccountSummary(
                account_no=account.account_no,
                service_kind=account.service_kind.value,
                holder_masked=mask_name(account.customer.name),
                address_masked=mask_address(account.premises.address_zh),
                status=account.status.value,
                due_fen=sum(b.due_fen for b in due),
                bills_due=due,
                phone_masked=mask_phone(phone) if phone else None,
            )

    def bills(self, account_no: str, months: int = 12) -> Bills:
        with self._site.read() as session:
            account = find_account(session, account_no)
            rows = session.scalars(
                select(Bill)
                .where(Bill.account_id == account.id, Bill.status == BillStatus.ISSUED)
                .order_by(Bill.period_start.desc())
                .limit(max(1, min(months, 36)))
            ).all()
            paid = paid_by_bill(session, [b.id for b in rows])
            lines = _lines_by_bill(session, [b.id for b in rows])
            tariff = session.get(Tariff, account.tariff_id)
            assert tariff is not None  # noqa: S101 - a foreign key
            tiers = [
                TierBand(i + 1, t.upper_litres, t.price_fen_per_m3)
                for i, t in enumerate(tariff.tiers)
            ]
            used = _used_this_period(rows, tariff.tier_period.value)
            due = bills_due(session, account.id)
            return Bills(
                account_no=account.account_no,
                holder_name=account.customer.name,
                address=account.premises.address_zh,
                bills=[
                    BillDetail(
                        b.id,
                        b.period_start,
                        b.period_end,
                        b.consumption_litres,
                        b.amount_fen,
                        paid.get(b.id, 0),
                        b.due_date,
                        lines.get(b.id, []),
                    )
                    for b in rows
                ],
                tiers=tiers,
                tier_period=tariff.tier_period.value,
                used_this_period_litres=used,
                current_tier=current_tier(tiers, used),
                due_fen=sum(b.due_fen for b in due),
            )

    def payments(self, account_no: str, limit: int = 50) -> list[PaymentLine]:
        with self._site.read() as session:
            account = find_account(session, account_no)
            rows = session.scalars(
                select(Payment)
                .where(Payment.account_id == account.id)
                .order_by(Payment.paid_at.desc(), Payment.id)
                .limit(limit)
            ).all()
            qr_receipts = set(
                session.scalars(
                    select(PaymentReceipt.receipt_no).where(
                        PaymentReceipt.account_id == account.id,
                        PaymentReceipt.wallet_order_id.is_not(None),
                    )
                )
            )
            return [
                PaymentLine(
                    p.id,
                    p.paid_at,
                    p.amount_fen,
                    "qr" if p.reference in qr_receipts else p.method.value,
                    p.kind.value,
                    p.card_masked,
                    p.reference,
                )
                for p in rows
            ]


def _lines_by_bill(session: Session, bill_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[TierLine]]:
    out: dict[uuid.UUID, list[TierLine]] = {}
    if not bill_ids:
        return out
    for line in session.scalars(
        select(BillLine).where(BillLine.bill_id.in_(bill_ids)).order_by(BillLine.seq)
    ):
        out.setdefault(line.bill_id, []).append(
            TierLine(
                line.seq + 1,
                line.quantity_litres,
                line.unit_price_fen_per_m3,
                line.amount_fen,
                line.description_zh,
                line.description_en,
            )
        )
    return out


def _used_this_period(bills: Sequence[Bill], tier_period: str) -> int:
    """Litres billed so far in the tier period that holds the newest bill (a year or a month)."""
    if not bills:
        return 0
    newest = bills[0].period_start
    if tier_period == "monthly":
        return bills[0].consumption_litres
    return sum(b.consumption_litres for b in bills if b.period_start.year == newest.year)


def current_tier(tiers: Sequence[TierBand], used_litres: int) -> int:
    """The tier the next litre falls in, given what the period has used (1-based)."""
    for band in tiers:
        if band.upper_litres is None or used_litres < band.upper_litres:
            return band.tier
    return tiers[-1].tier if tiers else 1
