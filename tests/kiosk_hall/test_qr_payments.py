"""QR payments against the wallet simulator over real HTTP: notify, query, forgery, fuzzing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicedb.models import PaymentReceipt
from servicehall.hall.api.kiosk_schemas import QrOrderState, QrPaymentIn
from servicehall.hall.client import HallApiError
from servicehall.hall.kiosk_client import new_idempotency_key
from servicehall.hall.wallet import (
    NotifyProblem,
    NotifyRefused,
    WalletSimulator,
    parse_notify,
    sign,
)
from tests.kiosk_hall.conftest import Rig
from tests.kiosk_hall.town import DUE_FEN

pytestmark = pytest.mark.integration


def wallet(rig: Rig) -> WalletSimulator:
    sim = rig.kiosk.wallet_simulator
    assert sim is not None
    return sim


def order(rig: Rig, key: str | None = None) -> QrPaymentIn:
    return QrPaymentIn(
        idempotency_key=key or new_idempotency_key(),
        account_no="XC000000001",
        bill_ids=rig.town[0].due_bills,
        amount_fen=DUE_FEN,
    )


def receipts(rig: Rig) -> int:
    with Session(rig.engine) as session:
        return session.scalar(select(func.count()).select_from(PaymentReceipt)) or 0


def test_a_qr_paid_by_the_customer_is_booked_once_by_the_provider_s_notify(rig: Rig) -> None:
    kiosk = rig.client()
    body = order(rig)
    started = kiosk.start_qr_payment(body)
    assert started.state is QrOrderState.PENDING and started.qr_content.startswith("http")
    assert kiosk.start_qr_payment(body).order_id == started.order_id  # a retried start
    wallet(rig).pay(started.order_id)
    assert wallet(rig).wait_notified(1)
    done = kiosk.qr_order(started.order_id)
    assert done.state is QrOrderState.PAID and done.payment is not None
    assert done.payment.amount_fen == DUE_FEN and done.payment.method.value == "qr"
    assert kiosk.payment(body.idempotency_key).receipt_no == done.payment.receipt_no
    assert kiosk.account("XC000000001").due_fen == 0
    wallet(rig).pay(started.order_id)  # the provider notifies again (at least once)
    assert wallet(rig).wait_notified(2)
    assert receipts(rig) == 1


def test_a_lost_notify_is_made_good_by_asking_the_provider(rig: Rig) -> None:
    kiosk = rig.client()
    started = kiosk.start_qr_payment(order(rig))
    wallet(rig).drop_notifies = True
    wallet(rig).pay(started.order_id)
    assert wallet(rig).notified == 0
    done = kiosk.qr_order(started.order_id)  # the kiosk polls; the hall asks the provider
    assert done.state is QrOrderState.PAID and receipts(rig) == 1


def test_a_forged_notify_is_refused_and_books_nothing(rig: Rig) -> None:
    started = rig.client().start_qr_payment(order(rig))
    body = json.dumps(
        {
            "out_trade_no": started.order_id,
            "transaction_id": "4200000000000001",
            "trade_state": "SUCCESS",
            "amount_fen": DUE_FEN,
            "success_time": datetime.now(UTC).isoformat(),
        }
    ).encode()
    stamp = str(int(datetime.now(UTC).timestamp()))
    forged = sign(b"not the provider's key", stamp, "n0nce", body)
    answer = httpx.post(
        f"{rig.url}/wallet/notify",
        content=body,
        headers={"X-Timestamp": stamp, "X-Nonce": "n0nce", "X-Signature": forged},
        timeout=10,
    )
    assert answer.status_code == 401 and answer.json()["code"] == "Unauthorized"
    assert receipts(rig) == 0
    assert rig.client().qr_order(started.order_id).state is QrOrderState.PENDING
    with pytest.raises(HallApiError) as caught:
        rig.client().start_qr_payment(order(rig).model_copy(update={"amount_fen": 1}))
    assert caught.value.status == 409


KEY = b"k" * 32
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
STAMP = str(int(NOW.timestamp()))


def signed(body: bytes, stamp: str = STAMP) -> dict[str, str]:
    return {"X-Timestamp": stamp, "X-Nonce": "abc", "X-Signature": sign(KEY, stamp, "abc", body)}


@given(
    headers=st.dictionaries(
        st.sampled_from(["X-Timestamp", "X-Nonce", "X-Signature", "X"]), st.text(max_size=80)
    ),
    body=st.binary(max_size=300),
)
@settings(max_examples=100, deadline=None)
def test_any_notify_is_parsed_or_refused_with_a_reason(
    headers: dict[str, str], body: bytes
) -> None:
    try:
        parse_notify(headers, body, KEY, NOW)
    except NotifyRefused as err:
        assert isinstance(err.problem, NotifyProblem)


notify_fields = st.fixed_dictionaries(
    {
        "out_trade_no": st.one_of(
            st.from_regex(r"QR[A-F0-9]{10}", fullmatch=True), st.text(max_size=5), st.integers()
        ),
        "transaction_id": st.one_of(
            st.from_regex(r"42[0-9]{10}", fullmatch=True), st.none(), st.integers()
        ),
        "trade_state": st.sampled_from(["SUCCESS", "NOTPAY", "CLOSED", "PAID", 1]),
        "amount_fen": st.one_of(
            st.integers(-5, 10**13), st.booleans(), st.floats(), st.text(max_size=3)
        ),
        "success_time": st.one_of(
            st.just("2026-11-23T02:00:00+00:00"),
            st.just("2026-11-23T02:00:00"),
            st.text(max_size=8),
        ),
    }
)


@given(fields=notify_fields)
@settings(max_examples=150, deadline=None)
def test_a_signed_notify_is_read_field_by_field_never_misread(fields: dict[str, object]) -> None:
    body = json.dumps(fields).encode()
    try:
        paid = parse_notify(signed(body), body, KEY, NOW)
    except NotifyRefused as err:
        assert err.problem is NotifyProblem.BAD_FIELD
        return
    # Accepted: exactly what was sent, nothing guessed.
    assert fields["trade_state"] == "SUCCESS"
    assert (paid.order_id, paid.amount_fen, paid.txn_id) == (
        fields["out_trade_no"],
        fields["amount_fen"],
        fields["transaction_id"],
    )
    assert type(fields["amount_fen"]) is int and paid.state == "paid"
    assert paid.paid_at == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_a_stale_or_tampered_notify_is_refused() -> None:
    body = b'{"trade_state": "SUCCESS"}'
    old = str(int(NOW.timestamp()) - 301)
    with pytest.raises(NotifyRefused) as stale:
        parse_notify(signed(body, old), body, KEY, NOW)
    assert stale.value.problem is NotifyProblem.STALE
    with pytest.raises(NotifyRefused) as tampered:
        parse_notify(signed(body), body.replace(b"SUCCESS", b"SUCCES "), KEY, NOW)
    assert tampered.value.problem is NotifyProblem.BAD_SIGNATURE
