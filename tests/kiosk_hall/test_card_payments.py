"""Card payments recorded at the hall over real HTTP: exactly once, against the right bills."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from servicedb.models import Payment, PaymentReceipt
from servicehall.hall.api.kiosk_schemas import CardAuthorisation, CardPaymentIn
from servicehall.hall.client import HallApiError, HallUnreachable
from servicehall.hall.kiosk_client import KioskClient, new_idempotency_key
from tests.kiosk_hall.conftest import Rig
from tests.kiosk_hall.town import BILL_FEN, DUE_FEN, PAID_FEN

pytestmark = pytest.mark.integration


def approval(at: datetime, stan: int = 1, terminal: str = "KIOSK001") -> CardAuthorisation:
    return CardAuthorisation(
        card_masked="411111******1111",
        terminal_id=terminal,
        merchant_id="898110000000001",
        stan=f"{stan:06d}",
        rrn=f"63270000{stan:04d}",
        auth_code="A1B2C3",
        approved_at=at,
    )


def pay(
    rig: Rig, n: int = 0, *, key: str | None = None, stan: int = 1, amount: int = DUE_FEN
) -> CardPaymentIn:
    account = rig.town[n]
    return CardPaymentIn(
        idempotency_key=key or new_idempotency_key(),
        account_no=account.account_no,
        bill_ids=account.due_bills,
        amount_fen=amount,
        authorisation=approval(rig.clock.now, stan),
    )


def refused(call: object, *args: object) -> HallApiError:
    assert callable(call)
    with pytest.raises(HallApiError) as caught:
        call(*args)
    return caught.value


def ledger_rows(rig: Rig) -> int:
    with Session(rig.engine) as session:
        return (
            session.scalar(
                select(func.count()).select_from(Payment).where(Payment.reference.is_not(None))
            )
            or 0
        )


def test_the_account_is_shown_masked_with_what_the_ledger_says_is_due(rig: Rig) -> None:
    summary = rig.client().account("XC000000001")
    assert summary.holder_masked == "王**"
    assert summary.address_masked == "北京市西城区金融大街***"
    assert summary.phone_masked == "138****0001"
    assert summary.due_fen == DUE_FEN
    assert [(b.amount_fen, b.paid_fen, b.due_fen) for b in summary.bills_due] == [
        (BILL_FEN[1], PAID_FEN[1], BILL_FEN[1] - PAID_FEN[1]),
        (BILL_FEN[2], 0, BILL_FEN[2]),
    ]
    assert rig.client().account("XC000000003").phone_masked is None


def test_a_keypad_entry_of_a_non_existent_account_is_a_404_in_words(rig: Rig) -> None:
    error = refused(rig.client().account, "XC999999999")
    assert error.status == 404 and error.error.code == "UnknownAccount"
    assert "户号" in error.error.message_zh


def test_a_payment_is_recorded_once_whatever_the_retries(rig: Rig) -> None:
    kiosk = rig.client()
    body = pay(rig)
    first = kiosk.record_card_payment(body)
    assert not first.duplicate and first.amount_fen == DUE_FEN
    assert first.holder_masked == "王**" and first.card_masked == "411111******1111"
    assert first.receipt_no == "TEST-20261123-000001"
    assert first.track_url.endswith("/p/TEST-20261123-000001")
    assert first.bills_paid == rig.town[0].due_bills
    again = kiosk.record_card_payment(body)  # a double tap, a retry after a timeout
    assert again.duplicate and again.receipt_no == first.receipt_no
    assert again.payment_id == first.payment_id
    assert kiosk.payment(body.idempotency_key).receipt_no == first.receipt_no
    # One ledger row per bill: the half-paid one gets its remaining half.
    with Session(rig.engine) as session:
        rows = session.execute(
            select(Payment.bill_id, Payment.amount_fen).where(Payment.reference == first.receipt_no)
        ).all()
    assert sorted(fen for _, fen in rows) == sorted([BILL_FEN[1] - PAID_FEN[1], BILL_FEN[2]])
    assert kiosk.account("XC000000001").due_fen == 0


def test_the_same_key_with_another_body_is_refused(rig: Rig) -> None:
    kiosk = rig.client()
    body = pay(rig)
    kiosk.record_card_payment(body)
    other = body.model_copy(update={"amount_fen": DUE_FEN - 1})
    error = refused(kiosk.record_card_payment, other)
    assert error.status == 409 and error.error.code == "KeyReused"


def test_one_authorisation_is_never_recorded_under_two_keys(rig: Rig) -> None:
    kiosk = rig.client()
    kiosk.record_card_payment(pay(rig, stan=7))
    # A kiosk that lost its key after a restart sends the same approval under a new one.
    error = refused(kiosk.record_card_payment, pay(rig, stan=7))
    assert error.status == 409 and error.error.code in ("AuthorisationReused", "NothingDue")
    assert ledger_rows(rig) == 2


def test_an_amount_that_is_not_what_is_due_is_refused(rig: Rig) -> None:
    error = refused(rig.client().record_card_payment, pay(rig, amount=DUE_FEN + 100))
    assert error.status == 409 and error.error.code == "AmountMismatch"
    fully_paid = pay(rig).model_copy(update={"bill_ids": rig.town[0].bill_ids[:1], "amount_fen": 1})
    error = refused(rig.client().record_card_payment, fully_paid)
    assert error.status == 409 and error.error.code == "NothingDue"
    others = pay(rig).model_copy(update={"bill_ids": rig.town[1].due_bills})
    error = refused(rig.client().record_card_payment, others)
    assert error.status == 404 and error.error.code == "UnknownBill"
    assert ledger_rows(rig) == 0
    naive = pay(rig)
    naive.authorisation.approved_at = rig.clock.now.replace(tzinfo=None)
    assert refused(rig.client().record_card_payment, naive).status == 422
    future = pay(rig, stan=2)
    future.authorisation.approved_at = rig.clock.now.replace(year=2027)
    assert refused(rig.client().record_card_payment, future).status == 422


class _LosesAnswers(httpx.BaseTransport):
    """The hall handles the request, then the answer is lost on the way back (hall died,
    cable pulled): what a kiosk sees as a timeout."""

    def __init__(self, lose: int) -> None:
        self._inner = httpx.HTTPTransport()
        self.lose = lose

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if self.lose:
            self.lose -= 1
            response.read()
            raise httpx.ReadTimeout("the answer never came", request=request)
        return response


def test_a_retry_after_the_hall_went_quiet_mid_payment_charges_once(rig: Rig) -> None:
    transport = _LosesAnswers(lose=2)
    kiosk = KioskClient(
        rig.url, rig.tokens["kiosk-1"], http=httpx.Client(base_url=rig.url, transport=transport)
    )
    kiosk._prefix = rig.url + "/api/v1"
    body = pay(rig)
    for _ in range(2):  # the kiosk's own retries with the same key
        with pytest.raises(HallUnreachable):
            kiosk.record_card_payment(body)
    answer = kiosk.record_card_payment(body)
    assert answer.duplicate  # the first try had landed: nothing new was charged
    with Session(rig.engine) as session:
        receipts = session.scalar(select(func.count()).select_from(PaymentReceipt))
    assert receipts == 1 and ledger_rows(rig) == 2


def test_the_receipt_page_shows_no_personal_data(rig: Rig) -> None:
    done = rig.client().record_card_payment(pay(rig))
    page = httpx.get(done.track_url, timeout=10)
    assert page.status_code == 200
    assert "王**" in page.text and "XC*****0001" in page.text and "411111******1111" in page.text
    assert (
        "王小明" not in page.text
        and "XC000000001" not in page.text
        and "13800130001" not in page.text
    )
    assert httpx.get(f"{rig.url}/p/NOPE-1", timeout=10).status_code == 404
    for table in ("payments", "payment_receipts"):
        with pytest.raises(Exception, match="append-only"), rig.engine.begin() as connection:
            connection.execute(text(f"UPDATE {table} SET amount_fen = 1"))  # noqa: S608


def test_payments_list_needs_proof_and_shows_the_kiosk_payment(rig: Rig) -> None:
    kiosk = rig.client()
    error = refused(kiosk.payments, "XC000000001", "made-up-session")
    assert error.status == 401 and error.error.code == "SessionRequired"
    done = kiosk.record_card_payment(pay(rig))
    session = rig.kiosk.proof.verify_card(
        "XC000000001", "kiosk-1", rig.kiosk.proof.issue_card("XC000000001")
    ).session
    lines = kiosk.payments("XC000000001", session).payments
    assert {line.reference for line in lines} >= {done.receipt_no}
    assert sum(line.amount_fen for line in lines if line.reference == done.receipt_no) == DUE_FEN
    assert uuid.UUID(str(lines[0].payment_id))
