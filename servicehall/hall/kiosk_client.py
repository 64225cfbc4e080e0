"""The kiosk's typed client: the hall API's ticket calls plus ``/api/v1/kiosk``.

Imports only httpx, pydantic and the schemas (an import contract holds it). Every call
raises ``HallApiError`` (the hall refused, with words for the customer) or
``HallUnreachable`` (the kiosk shows its out-of-service screen and retries by itself).
"""

from __future__ import annotations

import uuid

from servicehall.hall.api.kiosk_schemas import (
    AccountLookupIn,
    AccountSummaryOut,
    BillsOut,
    CardPaymentIn,
    CustomerSessionOut,
    HeartbeatIn,
    KiosksOut,
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
from servicehall.hall.client import HallClient

KIOSK = "/kiosk"


class KioskClient(HallClient):
    # --- accounts -----------------------------------------------------------------------
    def account(self, account_no: str) -> AccountSummaryOut:
        """The account's masked summary and what is due (no proof of identity needed)."""
        body = AccountLookupIn(account_no=account_no)
        return self._call("POST", f"{KIOSK}/accounts/lookup", AccountSummaryOut, body)

    def request_code(self, account_no: str) -> OtpRequestOut:
        """Send a one-time code by SMS to the account's linked phone."""
        return self._call("POST", f"{KIOSK}/accounts/{account_no}/otp", OtpRequestOut)

    def verify(self, account_no: str, proof: VerifyIn) -> CustomerSessionOut:
        return self._call(
            "POST", f"{KIOSK}/accounts/{account_no}/verify", CustomerSessionOut, proof
        )

    def bills(self, account_no: str, session: str, months: int = 12) -> BillsOut:
        return self._call(
            "GET",
            f"{KIOSK}/accounts/{account_no}/bills?months={months}",
            BillsOut,
            headers={"X-Customer-Session": session},
        )

    def payments(self, account_no: str, session: str) -> PaymentsOut:
        return self._call(
            "GET",
            f"{KIOSK}/accounts/{account_no}/payments",
            PaymentsOut,
            headers={"X-Customer-Session": session},
        )

    # --- payments -----------------------------------------------------------------------
    def record_card_payment(self, payment: CardPaymentIn) -> PaymentOut:
        """Record an approved card payment; the same idempotency key never records twice."""
        return self._call("POST", f"{KIOSK}/payments/card", PaymentOut, payment)

    def payment(self, idempotency_key: str) -> PaymentOut:
        """Was this attempt recorded? (404 → ``HallApiError`` with status 404: it was not.)"""
        return self._call("GET", f"{KIOSK}/payments/{idempotency_key}", PaymentOut)

    def start_qr_payment(self, order: QrPaymentIn) -> QrOrderOut:
        return self._call("POST", f"{KIOSK}/payments/qr", QrOrderOut, order)

    def qr_order(self, order_id: str) -> QrOrderOut:
        return self._call("GET", f"{KIOSK}/payments/qr/{order_id}", QrOrderOut)

    # --- reports and outages --------------------------------------------------------------
    def places(self) -> PlacesOut:
        return self._call("GET", f"{KIOSK}/places", PlacesOut)

    def report(self, report: ReportIn) -> ReportOut:
        return self._call("POST", f"{KIOSK}/reports", ReportOut, report)

    def outages(
        self, *, account_no: str | None = None, street_code: str | None = None
    ) -> OutagesOut:
        if (account_no is None) == (street_code is None):
            raise ValueError("outages near an account or a street, one of them")
        where = f"account_no={account_no}" if account_no else f"street_code={street_code}"
        return self._call("GET", f"{KIOSK}/outages?{where}", OutagesOut)

    # --- the kiosk itself ---------------------------------------------------------------
    def heartbeat(self, beat: HeartbeatIn) -> None:
        self._send("POST", f"{KIOSK}/heartbeat", beat)

    def fleet(self) -> KiosksOut:
        """The hall's kiosks with their alarms (for counter terminals and hall screens)."""
        return self._call("GET", f"{KIOSK}/fleet", KiosksOut)


def new_idempotency_key() -> str:
    """One per payment or report attempt, made before the first try and kept across retries."""
    return uuid.uuid4().hex
