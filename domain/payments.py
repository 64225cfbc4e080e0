"""Recording kiosk payments in the ledger: exactly once per attempt, never against the wrong bill.

One attempt = one idempotency key (made by the kiosk before its first try, kept across
retries and restarts). Recording it writes one ``PaymentReceipt`` (the attempt as asked and
as authorised) and one append-only ledger row per bill it pays, each with
``reference = receipt_no``, all in one transaction. The same key again with the same body
answers the first result with ``duplicate=True``; with another body it is refused
(``KeyReused``). The same acquirer authorisation (terminal + STAN + RRN) under another key
is refused too, so a kiosk that lost its key still cannot charge a bill twice.

Card payments must pay the listed bills exactly: the amount must equal what they still owe
(no partial payments at a kiosk — a counter takes those). A refusal after the acquirer
approved tells the kiosk to reverse the authorisation (0400), which nets to zero in the
settlement file. A wallet (QR) payment is settled when the provider says it was paid, so the
money is already taken: it is booked against the bills as they were when the QR was shown,
even if that now overpays (the arrears screen shows no negative due; a counter refunds).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.accounts import find_account, paid_by_bill
from domain.kiosk_errors import (
    AccountNotPayable,
    AmountMismatch,
    AuthorisationReused,
    InvalidApproval,
    KeyReused,
    NothingDue,
    UnknownBill,
    UnknownPayment,
)
from domain.kiosk_events import PaymentRecorded
from domain.kiosk_site import KioskSite, mask_name, next_number, request_digest
from servicedb.models import Account, Bill, Payment, PaymentKind, PaymentReceipt, ReceiptMethod
from servicedb.models.billing import BillStatus, PaymentMethod
from servicedb.models.customers import AccountStatus
from servicedb.types import utcnow

APPROVAL_MAX_AGE = timedelta(days=7)
APPROVAL_MAX_SKEW = timedelta(minutes=10)
RETRIES = 5  # racing inserts (PostgreSQL) meet a unique constraint and try again


@dataclass(frozen=True)
class CardApproval:
    """The acquirer's answer to the kiosk: masked card and the keys the settlement file uses."""

    card_masked: str
    terminal_id: str
    merchant_id: str
    stan: str
    rrn: str
    auth_code: str
    approved_at: datetime


@dataclass(frozen=True)
class RecordedPayment:
    payment_id: uuid.UUID  # the receipt's id
    idempotency_key: str
    receipt_no: str
    account_no: str
    holder_masked: str
    amount_fen: int
    method: str
    card_masked: str | None
    paid_at: datetime
    bills_paid: list[uuid.UUID]
    duplicate: bool = False


@dataclass(frozen=True)
class ReceiptView:
    """What a receipt's QR shows anyone: no name beyond 王*, no full account number."""

    receipt_no: str
    account_masked: str
    holder_masked: str
    method: str
    card_masked: str | None
    amount_fen: int
    ledger_net_fen: int  # below amount_fen once reversed or refunded
    paid_at: datetime
    periods: list[tuple[str, str]]  # (start, end) of the bills paid


def mask_account(account_no: str) -> str:
    return account_no[:2] + "*****" + account_no[-4:]


def allocate(
    session: Session, account: Account, bill_ids: Sequence[uuid.UUID]
) -> list[tuple[Bill, int]]:
    """The listed bills of the account with what each still owes, oldest first; or a refusal."""
    if len(set(bill_ids)) != len(bill_ids):
        raise AmountMismatch("a bill is listed twice")
    bills = session.scalars(
        select(Bill)
        .where(Bill.id.in_(bill_ids))
        .order_by(Bill.period_start)
        .with_for_update()  # PostgreSQL: a concurrent payment of the same bill waits
    ).all()
    if len(bills) != len(bill_ids) or any(b.account_id != account.id for b in bills):
        raise UnknownBill("a listed bill is not one of this account's")
    if any(b.status is not BillStatus.ISSUED for b in bills):
        raise UnknownBill("a listed bill was cancelled")
    paid = paid_by_bill(session, [b.id for b in bills])
    owed = [(b, b.amount_fen - paid.get(b.id, 0)) for b in bills]
    if any(due <= 0 for _, due in owed):
        raise NothingDue("a listed bill owes nothing")
    return owed


class PaymentLedger:
    def __init__(self, site: KioskSite) -> None:
        self._site = site

    def record_card(
        self,
        *,
        key: str,
        kiosk: str,
        account_no: str,
        bill_ids: Sequence[uuid.UUID],
        amount_fen: int,
        approval: CardApproval,
    ) -> RecordedPayment:
        _check_approval_time(approval.approved_at, self._site.clock(), utcnow())
        digest = request_digest(
            {
                "method": "bank_card",
                "account_no": account_no,
                "bill_ids": sorted(str(b) for b in bill_ids),
                "amount_fen": amount_fen,
                "approval": asdict(approval),
            }
        )
        return self._record(
            key=key,
            digest=digest,
            kiosk=kiosk,
            account_no=account_no,
            bill_ids=bill_ids,
            amount_fen=amount_fen,
            approval=approval,
            wallet=None,
            allocation=None,
            paid_at=approval.approved_at,
        )

    def record_wallet(
        self,
        *,
        key: str,
        kiosk: str,
        account_no: str,
        allocation: Sequence[tuple[uuid.UUID, int]],
        order_id: str,
        txn_id: str,
        paid_at: datetime,
    ) -> RecordedPayment:
        digest = request_digest(
            {"method": "qr", "order_id": order_id, "allocation": sorted(map(str, allocation))}
        )
        return self._record(
            key=key,
            digest=digest,
            kiosk=kiosk,
            account_no=account_no,
            bill_ids=[b for b, _ in allocation],
            amount_fen=sum(fen for _, fen in allocation),
            approval=None,
            wallet=(order_id, txn_id),
            allocation=dict(allocation),
            paid_at=paid_at,
        )

    def by_key(self, key: str) -> RecordedPayment:
        with self._site.read() as session:
            receipt = session.scalars(
                select(PaymentReceipt).where(PaymentReceipt.idempotency_key == key)
            ).first()
            if receipt is None:
                raise UnknownPayment("no payment with this key")
            return _view(session, receipt, duplicate=False)

    def receipt(self, receipt_no: str) -> ReceiptView:
        with self._site.read() as session:
            receipt = session.scalars(
                select(PaymentReceipt).where(PaymentReceipt.receipt_no == receipt_no)
            ).first()
            if receipt is None:
                raise UnknownPayment("no such receipt")
            account = session.get(Account, receipt.account_id)
            assert account is not None  # noqa: S101 - a foreign key
            rows = session.scalars(
                select(Payment).where(Payment.reference == receipt.receipt_no)
            ).all()
            bills = session.scalars(
                select(Bill)
                .where(Bill.id.in_([r.bill_id for r in rows if r.bill_id]))
                .order_by(Bill.period_start)
            ).all()
            return ReceiptView(
                receipt.receipt_no,
                mask_account(account.account_no),
                mask_name(account.customer.name),
                receipt.method.value,
                receipt.card_masked,
                receipt.amount_fen,
                sum(r.amount_fen for r in rows),
                receipt.paid_at,
                [(b.period_start.isoformat(), b.period_end.isoformat()) for b in bills],
            )

    # --- the one write path -------------------------------------------------------------
    def _record(
        self,
        *,
        key: str,
        digest: str,
        kiosk: str,
        account_no: str,
        bill_ids: Sequence[uuid.UUID],
        amount_fen: int,
        approval: CardApproval | None,
        wallet: tuple[str, str] | None,
        allocation: dict[uuid.UUID, int] | None,
        paid_at: datetime,
    ) -> RecordedPayment:
        site = self._site
        for attempt in range(RETRIES):
            try:
                with site.units() as uow:
                    session = uow.session
                    done = session.scalars(
                        select(PaymentReceipt).where(PaymentReceipt.idempotency_key == key)
                    ).first()
                    if done is not None:
                        if done.request_sha256 != digest:
                            raise KeyReused("the key was used for another payment")
                        return _view(session, done, duplicate=True)
                    if (
                        approval is not None
                        and session.scalars(
                            select(PaymentReceipt.id).where(
                                PaymentReceipt.terminal_id == approval.terminal_id,
                                PaymentReceipt.stan == approval.stan,
                                PaymentReceipt.rrn == approval.rrn,
                            )
                        ).first()
                    ):
                        raise AuthorisationReused("terminal+STAN+RRN already recorded")
                    account = find_account(session, account_no)
                    if account.status is AccountStatus.CLOSED:
                        raise AccountNotPayable(f"{account_no} is closed")
                    if allocation is None:
                        owed = allocate(session, account, bill_ids)
                        if sum(due for _, due in owed) != amount_fen:
                            raise AmountMismatch("the amount is not what the bills owe")
                        lines = [(bill.id, due) for bill, due in owed]
                    else:
                        lines = list(allocation.items())
                    now = site.clock()
                    day = site.local_day(paid_at).strftime("%Y%m%d")
                    receipt_no = next_number(
                        session, PaymentReceipt.receipt_no, f"{site.tag}-{day}-", 6
                    )
                    receipt = PaymentReceipt(
                        origin_site_id=site.site_id,
                        created_at=now,
                        idempotency_key=key,
                        request_sha256=digest,
                        receipt_no=receipt_no,
                        account_id=account.id,
                        method=ReceiptMethod.BANK_CARD if approval else ReceiptMethod.QR,
                        amount_fen=amount_fen,
                        card_masked=approval.card_masked if approval else None,
                        terminal_id=approval.terminal_id if approval else None,
                        merchant_id=approval.merchant_id if approval else None,
                        stan=approval.stan if approval else None,
                        rrn=approval.rrn if approval else None,
                        auth_code=approval.auth_code if approval else None,
                        wallet_order_id=wallet[0] if wallet else None,
                        wallet_txn_id=wallet[1] if wallet else None,
                        device_name=kiosk,
                        paid_at=paid_at,
                    )
                    session.add(receipt)
                    ledger = [
                        Payment(
                            origin_site_id=site.site_id,
                            created_at=now,
                            idempotency_key=f"{receipt_no}/{n}",
                            account_id=account.id,
                            bill_id=bill_id,
                            kind=PaymentKind.PAYMENT,
                            method=PaymentMethod.BANK_CARD if approval else PaymentMethod.ONLINE,
                            amount_fen=fen,
                            card_masked=approval.card_masked if approval else None,
                            reference=receipt_no,
                            paid_at=paid_at,
                        )
                        for n, (bill_id, fen) in enumerate(lines, start=1)
                    ]
                    session.add_all(ledger)
                    session.flush()
                    uow.record(
                        PaymentRecorded(
                            now,
                            receipt.id,
                            receipt_no,
                            account.account_no,
                            amount_fen,
                            receipt.method.value,
                            tuple(row.id for row in ledger),
                        )
                    )
                    view = _view(session, receipt, duplicate=False)
                    uow.commit()
                    return view
            except IntegrityError:
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover


def _check_approval_time(approved_at: datetime, *nows: datetime) -> None:
    """An approval from the last week (a hall can be down for a while), not from the future.

    The approval's time is the acquirer's, in real time; the hall's business clock can be
    simulated (the demo runs a day at speed), so either clock being near it will do.
    """
    if approved_at.tzinfo is None or approved_at.utcoffset() is None:
        raise InvalidApproval("approved_at has no timezone")
    try:
        moment = approved_at.astimezone(UTC)
    except OverflowError:
        raise InvalidApproval("approved_at is out of range") from None
    if not any(now - APPROVAL_MAX_AGE <= moment <= now + APPROVAL_MAX_SKEW for now in nows):
        raise InvalidApproval("approved_at is not within the last week")


def _view(session: Session, receipt: PaymentReceipt, *, duplicate: bool) -> RecordedPayment:
    account = session.get(Account, receipt.account_id)
    assert account is not None  # noqa: S101 - a foreign key
    bills = session.scalars(
        select(Payment.bill_id)
        .where(Payment.reference == receipt.receipt_no, Payment.kind == PaymentKind.PAYMENT)
        .order_by(Payment.idempotency_key)
    ).all()
    return RecordedPayment(
        payment_id=receipt.id,
        idempotency_key=receipt.idempotency_key,
        receipt_no=receipt.receipt_no,
        account_no=account.account_no,
        holder_masked=mask_name(account.customer.name),
        amount_fen=receipt.amount_fen,
        method=receipt.method.value,
        card_masked=receipt.card_masked,
        paid_at=receipt.paid_at,
        bills_paid=[b for b in bills if b is not None],
        duplicate=duplicate,
    )
