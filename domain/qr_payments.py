"""Paying by QR (扫码支付): the hall asks the wallet provider for an order, the kiosk shows its
QR, the provider tells the hall when the customer paid (a signed notify), and the hall can
also ask (when a notify is lost). Whichever comes first books the payment; the other finds
it booked. The ledger, idempotency and receipt rules are the card payment's
(``domain.payments``), with the order's idempotency key.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.accounts import find_account
from domain.kiosk_errors import (
    AccountNotPayable,
    AmountMismatch,
    KeyReused,
    UnknownOrder,
    WalletUnavailable,
)
from domain.kiosk_events import QrOrderCreated
from domain.kiosk_site import KioskSite, request_digest
from domain.payments import PaymentLedger, RecordedPayment, allocate
from servicedb.models import Account, QrOrder, QrOrderState
from servicedb.models.customers import AccountStatus

log = logging.getLogger(__name__)

ORDER_LIFE = timedelta(minutes=5)


class WalletDown(Exception):
    """The provider could not be reached or failed; the caller may try again later."""


@dataclass(frozen=True)
class WalletPayment:
    """What the provider says about one of our orders."""

    order_id: str
    state: str  # pending | paid | closed
    amount_fen: int
    txn_id: str | None = None
    paid_at: datetime | None = None


class WalletPort(Protocol):
    def create_order(
        self, order_id: str, amount_fen: int, description: str, expires_at: datetime
    ) -> str:
        """Open an order at the provider; returns what the QR encodes. Raises ``WalletDown``."""
        ...

    def query(self, order_id: str) -> WalletPayment:
        """The order's state at the provider. Raises ``WalletDown``."""
        ...


@dataclass(frozen=True)
class QrOrderView:
    order_id: str
    qr_content: str
    amount_fen: int
    expires_at: datetime
    state: str
    payment: RecordedPayment | None = None


class QrPayments:
    def __init__(self, site: KioskSite, ledger: PaymentLedger, wallet: WalletPort) -> None:
        self._site = site
        self._ledger = ledger
        self._wallet = wallet

    def start(
        self, *, key: str, kiosk: str, account_no: str, bill_ids: list[uuid.UUID], amount_fen: int
    ) -> QrOrderView:
        digest = request_digest(
            {
                "account_no": account_no,
                "bill_ids": sorted(str(b) for b in bill_ids),
                "amount_fen": amount_fen,
            }
        )
        with self._site.units() as uow:
            session = uow.session
            existing = _order_by_key(session, key)
            if existing is not None:
                if existing.request_sha256 != digest:
                    raise KeyReused("the key was used for another QR order")
                return self._view(existing)
            account = find_account(session, account_no)
            if account.status is AccountStatus.CLOSED:
                raise AccountNotPayable(f"{account_no} is closed")
            owed = allocate(session, account, bill_ids)
            if sum(due for _, due in owed) != amount_fen:
                raise AmountMismatch("the amount is not what the bills owe")
            allocation = [[str(bill.id), due] for bill, due in owed]
            account_id = account.id
        now = self._site.clock()
        order_id = "QR" + uuid.uuid4().hex[:30].upper()
        expires = now + ORDER_LIFE
        try:
            qr = self._wallet.create_order(
                order_id, amount_fen, f"水费 {account_no} Water bill", expires
            )
        except WalletDown as err:
            raise WalletUnavailable(str(err)) from None
        try:
            with self._site.work() as uow:
                uow.session.add(
                    QrOrder(
                        order_id=order_id,
                        idempotency_key=key,
                        request_sha256=digest,
                        account_id=account_id,
                        bill_ids=json.dumps(allocation),
                        amount_fen=amount_fen,
                        qr_content=qr,
                        state=QrOrderState.PENDING,
                        device_name=kiosk,
                        created_at=now,
                        expires_at=expires,
                    )
                )
                uow.record(QrOrderCreated(now, order_id, amount_fen))
        except IntegrityError:
            # The same key raced in: the order that won is the one the kiosk shows.
            return self.start(
                key=key,
                kiosk=kiosk,
                account_no=account_no,
                bill_ids=bill_ids,
                amount_fen=amount_fen,
            )
        return QrOrderView(order_id, qr, amount_fen, expires, QrOrderState.PENDING.value)

    def order(self, order_id: str) -> QrOrderView:
        """The order's state; a pending one is asked of the provider (the notify may be lost)."""
        row = self._load(order_id)
        if row.state is QrOrderState.PENDING:
            try:
                answer = self._wallet.query(order_id)
            except WalletDown:
                log.warning("wallet provider unreachable while asking about %s", order_id)
                return self._view(row)
            if answer.state == "paid":
                self.settle(answer)
            elif row.expires_at <= self._site.clock():
                self._set_state(order_id, QrOrderState.EXPIRED)
            row = self._load(order_id)
        return self._view(row)

    def settle(self, paid: WalletPayment) -> RecordedPayment:
        """Book a payment the provider reports as paid (from a verified notify or a query)."""
        row = self._load(paid.order_id)
        if paid.state != "paid" or paid.txn_id is None or paid.paid_at is None:
            raise AmountMismatch("the provider did not report this order as paid")
        if paid.amount_fen != row.amount_fen:
            # Never book money we did not ask for; staff must look at it.
            log.error(
                "wallet order %s paid %d fen, asked %d",
                row.order_id,
                paid.amount_fen,
                row.amount_fen,
            )
            self._set_state(row.order_id, QrOrderState.FAILED)
            raise AmountMismatch("the provider reports another amount")
        account_no = self._account_no(row)
        allocation = [(uuid.UUID(b), int(fen)) for b, fen in json.loads(row.bill_ids)]
        recorded = self._ledger.record_wallet(
            key=row.idempotency_key,
            kiosk=row.device_name,
            account_no=account_no,
            allocation=allocation,
            order_id=row.order_id,
            txn_id=paid.txn_id,
            paid_at=paid.paid_at,
        )
        self._set_state(row.order_id, QrOrderState.PAID)
        return recorded

    # --- plumbing -----------------------------------------------------------------------
    def _load(self, order_id: str) -> QrOrder:
        with self._site.read() as session:
            row = session.scalars(select(QrOrder).where(QrOrder.order_id == order_id)).first()
            if row is None:
                raise UnknownOrder("no such QR order")
            session.expunge(row)
            return row

    def _account_no(self, row: QrOrder) -> str:
        with self._site.read() as session:
            account = session.get(Account, row.account_id)
            assert account is not None  # noqa: S101 - a foreign key
            return account.account_no

    def _set_state(self, order_id: str, state: QrOrderState) -> None:
        with self._site.work() as uow:
            row = uow.session.scalars(select(QrOrder).where(QrOrder.order_id == order_id)).one()
            if row.state is not QrOrderState.PAID:  # paid is final
                row.state = state

    def _view(self, row: QrOrder) -> QrOrderView:
        payment = None
        if row.state is QrOrderState.PAID:
            payment = self._ledger.by_key(row.idempotency_key)
        return QrOrderView(
            row.order_id, row.qr_content, row.amount_fen, row.expires_at, row.state.value, payment
        )


def _order_by_key(session: Session, key: str) -> QrOrder | None:
    return session.scalars(select(QrOrder).where(QrOrder.idempotency_key == key)).first()
