"""What the kiosk side of a hall can announce (see ``domain.events`` for the hall's queue).

Plain frozen dataclasses, past tense, recorded in a unit of work and handed on after the
commit (the sync outbox takes the ones central needs: payments, reports, alarms). They
carry no personal data beyond ids and numbers, and never card data or one-time codes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from domain.events import Event


@dataclass(frozen=True)
class PaymentRecorded(Event):
    receipt_id: uuid.UUID
    receipt_no: str
    account_no: str
    amount_fen: int
    method: str  # bank_card | qr
    ledger_ids: tuple[uuid.UUID, ...]  # one ledger row per bill paid


@dataclass(frozen=True)
class QrOrderCreated(Event):
    order_id: str
    amount_fen: int


@dataclass(frozen=True)
class FaultReported(Event):
    work_order_id: uuid.UUID
    order_no: str
    kind: str  # repair | complaint
    category: str
    priority: int


@dataclass(frozen=True)
class CustomerVerified(Event):
    account_no: str
    method: str  # sms | customer_card
    kiosk: str


@dataclass(frozen=True)
class KioskAlarmRaised(Event):
    kiosk: str
    code: str
    text: str


@dataclass(frozen=True)
class KioskAlarmCleared(Event):
    kiosk: str
    code: str


@dataclass(frozen=True)
class KioskHeartbeat(Event):
    kiosk: str
    online: bool
    alarms: tuple[str, ...]
