"""What the kiosk's rules need from the world, as protocols: the hall and the devices.

``servicehall.hall.kiosk_client.KioskClient`` is the real ``Hall``; tests give small
in-memory fakes at this edge. Device protocols are the ``devices`` libraries' own
(``ReceiptPrinter``, ``Acquirer``, ``PinPad``) cut down to what the kiosk calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from devices.acquirer.client import Authorisation, PaymentCard, Recovered, ReversalState
from devices.health import DeviceHealth
from devices.printer.receipts import Receipt
from devices.printer.status import PrinterStatus
from servicehall.hall.api.kiosk_schemas import (
    AccountSummaryOut,
    BillsOut,
    CardPaymentIn,
    CustomerSessionOut,
    HeartbeatIn,
    OtpRequestOut,
    OutagesOut,
    PaymentOut,
    PaymentsOut,
    PlacesOut,
    QrOrderOut,
    QrPaymentIn,
    ReportIn,
    ReportOut,
    VerifyIn,
)
from servicehall.hall.api.schemas import PriorityReason, QueueOut, TicketOut


class Hall(Protocol):
    """The hall API as the kiosk uses it (``KioskClient``). Every call may raise
    ``HallApiError`` (a refusal, with words for the customer) or ``HallUnreachable``."""

    def queue(self) -> QueueOut: ...

    def take_ticket(
        self,
        category: str,
        priority_reason: PriorityReason | None = None,
        *,
        appointment_code: str | None = None,
        vip_card: str | None = None,
    ) -> TicketOut: ...

    def account(self, account_no: str) -> AccountSummaryOut: ...

    def request_code(self, account_no: str) -> OtpRequestOut: ...

    def verify(self, account_no: str, proof: VerifyIn) -> CustomerSessionOut: ...

    def bills(self, account_no: str, session: str, months: int = 12) -> BillsOut: ...

    def payments(self, account_no: str, session: str) -> PaymentsOut: ...

    def record_card_payment(self, payment: CardPaymentIn) -> PaymentOut: ...

    def payment(self, idempotency_key: str) -> PaymentOut: ...

    def start_qr_payment(self, order: QrPaymentIn) -> QrOrderOut: ...

    def qr_order(self, order_id: str) -> QrOrderOut: ...

    def places(self) -> PlacesOut: ...

    def report(self, report: ReportIn) -> ReportOut: ...

    def outages(
        self, *, account_no: str | None = None, street_code: str | None = None
    ) -> OutagesOut: ...

    def heartbeat(self, beat: HeartbeatIn) -> None: ...


class Printer(Protocol):
    """``devices.printer.printer.ReceiptPrinter``."""

    @property
    def health(self) -> DeviceHealth: ...

    def status(self) -> PrinterStatus | None: ...

    def print_receipt(self, receipt: Receipt) -> str: ...

    def retry(self, job_id: str) -> None: ...

    def close(self) -> None: ...


class Payer(Protocol):
    """``devices.acquirer.client.Acquirer``: authorise once per key, confirm or reverse."""

    terminal_id: str
    merchant_id: str

    @property
    def health(self) -> DeviceHealth: ...

    def authorise(
        self,
        card: PaymentCard,
        amount_fen: int,
        idempotency_key: str,
        pin_block: bytes | None = None,
    ) -> Authorisation: ...

    def confirm(self, idempotency_key: str) -> None: ...

    def reverse(self, idempotency_key: str) -> ReversalState: ...

    def recover(self, was_recorded: Callable[[str], bool]) -> list[Recovered]: ...

    def echo(self) -> DeviceHealth: ...

    def close(self) -> None: ...
