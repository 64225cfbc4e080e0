"""来电弹屏: who is calling — the customer, their accounts, recent bills and payments, open
orders and outages at their premises — from a phone number, for a call-centre agent's screen.

**Numbers.** Stored numbers are canonical: an 11-digit mobile (``1[3-9]`` + 9 digits) or a
landline with its area code and leading 0 (``010`` + 8 digits, ``0xxx`` + 7–8 digits).
``normalise_phone`` turns what caller ID or a person gives into that form — separators
(space, ``-``, ``.``, brackets), a ``+86`` / ``0086`` / ``86`` country prefix, a landline
dialled without its area code (the centre's own, ``010`` by default) — and refuses anything
else with the reason. A number is never guessed at: a wrong match shows a stranger's bills.

**One query path.** ``lookup`` answers in a fixed handful of queries whatever the number
of accounts (accounts with their customer and premises; the last bills per account with
what the ledger paid on each; arrears from the ledger; the last payments; orders; outages),
never one query per account. A bill's paid amount is the sum of its ledger rows (payments,
refunds and reversals), never a stored flag.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import shapely
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from domain.work_order_views import ACTIVE_STATUSES, OrderView, views
from domain.work_orders import WorkOrders
from gis.geojson import GeoJSONError, from_geojson
from servicedb.models import (
    Account,
    AccountPhone,
    Bill,
    Customer,
    Outage,
    OutageStatus,
    Payment,
    Premises,
    WorkOrder,
    Zone,
)
from servicedb.models.billing import BillStatus

MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0(?:10|2\d)\d{8}|0[3-9]\d{2}\d{7,8}")
_SEPARATORS = re.compile(r"[\s\-.()（）]")
MAX_ACCOUNTS = 20  # a property company may hold hundreds; the agent sees these and a count
BILLS_PER_ACCOUNT = 6
PAYMENTS_PER_ACCOUNT = 6
RECENT_ORDERS = timedelta(days=30)


class NotAPhone(ValueError):
    """Not a Chinese phone number; ``reason`` says why, for the agent."""

    message_zh = "电话号码无效"
    message_en = "That is not a phone number"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.detail = reason


def normalise_phone(raw: str, *, area_code: str = "010") -> str:
    """The canonical form of a Chinese phone number, or ``NotAPhone``."""
    if len(raw) > 32:
        raise NotAPhone("too long for a phone number")
    text = _SEPARATORS.sub("", raw)
    international = False
    if text.startswith("+"):
        text, international = text[1:], True
        if not text.startswith("86"):
            raise NotAPhone("only numbers in China (+86) are known here")
    elif text.startswith("0086"):
        text, international = text[2:], True
    if not text.isascii() or not text.isdigit():
        raise NotAPhone("a phone number has digits only")
    if international or (text.startswith("86") and len(text) in (12, 13)):
        rest = text[2:]
        if MOBILE.fullmatch(rest):
            return rest
        if LANDLINE.fullmatch("0" + rest):
            return "0" + rest
        raise NotAPhone("not a mobile or landline number after the country code")
    if MOBILE.fullmatch(text) or LANDLINE.fullmatch(text):
        return text
    if len(text) == 8 and text[0] in "2345678":
        return area_code + text  # a local landline, dialled without the area code
    raise NotAPhone("not an 11-digit mobile or a landline with its area code")


class BillState(enum.StrEnum):
    PAID = "paid"
    PART_PAID = "part_paid"
    UNPAID = "unpaid"  # not yet due
    OVERDUE = "overdue"  # 欠费


@dataclass(frozen=True)
class BillLine:
    bill_id: uuid.UUID
    period_start: date
    period_end: date
    consumption_litres: int
    amount_fen: int
    paid_fen: int
    due_date: date
    state: BillState


@dataclass(frozen=True)
class PaymentLine:
    paid_at: datetime
    amount_fen: int  # negative for refunds and reversals
    kind: str
    method: str
    card_masked: str | None  # BIN + last four at most


@dataclass(frozen=True)
class OutageNote:
    id: uuid.UUID
    kind: str
    status: str
    title_zh: str
    title_en: str
    starts_at: datetime
    estimated_restore_at: datetime | None
    affects: tuple[str, ...]  # the caller's account numbers whose premises are inside


@dataclass(frozen=True)
class AccountCard:
    id: uuid.UUID
    account_no: str
    service_kind: str
    status: str
    address_zh: str
    address_en: str
    lon: float
    lat: float
    zone_code: str | None
    zone_name_zh: str | None
    arrears_fen: int  # issued bills minus everything the ledger holds for the account, ≥ 0
    bills: tuple[BillLine, ...]  # newest first
    payments: tuple[PaymentLine, ...]  # newest first


@dataclass(frozen=True)
class CustomerCard:
    id: uuid.UUID
    name: str
    is_vip: bool
    accounts: tuple[AccountCard, ...]


@dataclass(frozen=True)
class CallerCard:
    phone: str
    known: bool
    customers: tuple[CustomerCard, ...]
    more_accounts: int  # accounts on this number beyond the ones shown
    orders: tuple[OrderView, ...]  # on the board or closed in the last 30 days, newest first
    outages: tuple[OutageNote, ...]


class CallerLookup:
    def __init__(self, orders: WorkOrders, *, area_code: str = "010") -> None:
        self.orders = orders
        self.area_code = area_code

    def lookup(self, raw_phone: str) -> CallerCard:
        phone = normalise_phone(raw_phone, area_code=self.area_code)
        today = self.orders.now().date()
        with self.orders.reading() as session:
            accounts = session.execute(
                select(Account, Customer, Premises, Zone.code, Zone.name_zh)
                .join(AccountPhone, AccountPhone.account_id == Account.id)
                .join(Customer, Customer.id == Account.customer_id)
                .join(Premises, Premises.id == Account.premises_id)
                .outerjoin(Zone, Zone.id == Premises.zone_id)
                .where(AccountPhone.phone == phone)
                .order_by(Customer.name, Account.account_no)
                .limit(MAX_ACCOUNTS + 1)
            ).all()
            more = 0
            if len(accounts) > MAX_ACCOUNTS:
                on_number = select(func.count()).where(AccountPhone.phone == phone)
                more = (session.scalar(on_number) or 0) - MAX_ACCOUNTS
                accounts = accounts[:MAX_ACCOUNTS]
            ids = [a.id for a, *_ in accounts]
            bills = _bills(session, ids, today)
            payments = _payments(session, ids)
            arrears = _arrears(session, ids)
            orders = self._orders(session, ids, phone)
            outages = _outages(session, [(a.account_no, p.lon, p.lat) for a, _c, p, *_ in accounts])
        customers: dict[uuid.UUID, CustomerCard] = {}
        for account, customer, premises, zone_code, zone_name in accounts:
            card = AccountCard(
                id=account.id,
                account_no=account.account_no,
                service_kind=account.service_kind.value,
                status=account.status.value,
                address_zh=premises.address_zh,
                address_en=premises.address_en,
                lon=premises.lon,
                lat=premises.lat,
                zone_code=zone_code,
                zone_name_zh=zone_name,
                arrears_fen=max(arrears.get(account.id, 0), 0),
                bills=tuple(bills.get(account.id, ())),
                payments=tuple(payments.get(account.id, ())),
            )
            known = customers.get(customer.id)
            customers[customer.id] = CustomerCard(
                customer.id,
                customer.name,
                customer.is_vip,
                (*(known.accounts if known else ()), card),
            )
        return CallerCard(
            phone, bool(accounts), tuple(customers.values()), more, tuple(orders), tuple(outages)
        )

    def _orders(
        self, session: Session, account_ids: Sequence[uuid.UUID], phone: str
    ) -> list[OrderView]:
        now = self.orders.now()
        mine = or_(WorkOrder.contact_phone == phone, WorkOrder.account_id.in_(list(account_ids)))
        recent = or_(
            WorkOrder.status.in_(ACTIVE_STATUSES), WorkOrder.created_at >= now - RECENT_ORDERS
        )
        rows = session.scalars(
            select(WorkOrder).where(mine, recent).order_by(WorkOrder.created_at.desc()).limit(20)
        ).all()
        return views(session, rows, now, self.orders.policy)


def _bills(
    session: Session, ids: Sequence[uuid.UUID], today: date
) -> dict[uuid.UUID, list[BillLine]]:
    if not ids:
        return {}
    newest = (
        select(
            Bill,
            func.row_number()
            .over(partition_by=Bill.account_id, order_by=Bill.period_start.desc())
            .label("n"),
        )
        .where(Bill.account_id.in_(ids), Bill.status == BillStatus.ISSUED)
        .subquery()
    )
    paid = (
        select(Payment.bill_id, func.sum(Payment.amount_fen).label("paid"))
        .where(Payment.account_id.in_(ids), Payment.bill_id.is_not(None))
        .group_by(Payment.bill_id)
        .subquery()
    )
    rows = session.execute(
        select(newest, func.coalesce(paid.c.paid, 0).label("paid_fen"))
        .outerjoin(paid, paid.c.bill_id == newest.c.id)
        .where(newest.c.n <= BILLS_PER_ACCOUNT)
        .order_by(newest.c.account_id, newest.c.period_start.desc())
    ).mappings()
    out: dict[uuid.UUID, list[BillLine]] = {}
    for row in rows:
        amount, got = int(row["amount_fen"]), int(row["paid_fen"])
        if got >= amount:
            state = BillState.PAID
        elif got > 0:
            state = BillState.PART_PAID
        else:
            state = BillState.OVERDUE if row["due_date"] < today else BillState.UNPAID
        out.setdefault(row["account_id"], []).append(
            BillLine(
                row["id"],
                row["period_start"],
                row["period_end"],
                int(row["consumption_litres"]),
                amount,
                got,
                row["due_date"],
                state,
            )
        )
    return out


def _payments(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[PaymentLine]]:
    if not ids:
        return {}
    newest = (
        select(
            Payment,
            func.row_number()
            .over(partition_by=Payment.account_id, order_by=Payment.paid_at.desc())
            .label("n"),
        )
        .where(Payment.account_id.in_(ids))
        .subquery()
    )
    out: dict[uuid.UUID, list[PaymentLine]] = {}
    for row in session.execute(
        select(newest).where(newest.c.n <= PAYMENTS_PER_ACCOUNT).order_by(newest.c.paid_at.desc())
    ).mappings():
        out.setdefault(row["account_id"], []).append(
            PaymentLine(
                row["paid_at"],
                int(row["amount_fen"]),
                str(row["kind"]),
                str(row["method"]),
                row["card_masked"],
            )
        )
    return out


def _arrears(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not ids:
        return {}
    billed = dict(
        session.execute(
            select(Bill.account_id, func.sum(Bill.amount_fen))
            .where(Bill.account_id.in_(ids), Bill.status == BillStatus.ISSUED)
            .group_by(Bill.account_id)
        ).all()
    )
    paid = dict(
        session.execute(
            select(Payment.account_id, func.sum(Payment.amount_fen))
            .where(Payment.account_id.in_(ids))
            .group_by(Payment.account_id)
        ).all()
    )
    return {i: int(billed.get(i) or 0) - int(paid.get(i) or 0) for i in ids}


def _outages(session: Session, places: Sequence[tuple[str, float, float]]) -> list[OutageNote]:
    if not places:
        return []
    notes = []
    for outage in session.scalars(
        select(Outage)
        .where(Outage.status.in_((OutageStatus.ACTIVE, OutageStatus.PLANNED)))
        .order_by(Outage.starts_at)
    ):
        try:
            area = from_geojson(outage.area_geojson)
        except GeoJSONError:
            continue  # a broken drawing tells the agent nothing; the console shows it
        inside = shapely.contains_xy(area, [p[1] for p in places], [p[2] for p in places])
        affects = tuple(p[0] for p, hit in zip(places, inside, strict=True) if hit)
        if affects:
            notes.append(
                OutageNote(
                    outage.id,
                    outage.kind.value,
                    outage.status.value,
                    outage.title_zh,
                    outage.title_en,
                    outage.starts_at,
                    outage.estimated_restore_at,
                    affects,
                )
            )
    return notes
