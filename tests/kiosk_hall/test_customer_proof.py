"""Proof of identity: one-time codes by SMS (through the simulated gateway's HTTP) and the
utility's customer card; sessions bound to the account and the kiosk."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.cardreader.errors import NotABankCard
from devices.cardreader.protocol import parse_swipe
from domain.customer_proof import customer_card_number, customer_card_track2, is_customer_card
from servicehall.hall.api.kiosk_schemas import ProofMethod, VerifyIn
from servicehall.hall.client import HallApiError
from tests.kiosk_hall.conftest import Rig

pytestmark = pytest.mark.integration
ACCOUNT = "XC000000001"
PHONE = "13800130001"


def code_sent(rig: Rig) -> str:
    sim = rig.kiosk.sms_simulator
    assert sim is not None
    texts = sim.inbox(PHONE)
    assert texts, "no SMS reached the phone"
    found = re.findall(r"\b([0-9]{6})\b", texts[-1])
    assert found
    return str(found[0])


def refused(call: object, *args: object) -> HallApiError:
    assert callable(call)
    with pytest.raises(HallApiError) as caught:
        call(*args)
    return caught.value


def sms(code: str) -> VerifyIn:
    return VerifyIn(method=ProofMethod.SMS, code=code)


def test_a_code_by_sms_opens_the_customer_s_own_bills(rig: Rig) -> None:
    kiosk = rig.client()
    sent = kiosk.request_code(ACCOUNT)
    assert (sent.phone_masked, sent.expires_in_s, sent.resend_after_s) == ("138****0001", 300, 60)
    session = kiosk.verify(ACCOUNT, sms(code_sent(rig))).session
    bills = kiosk.bills(ACCOUNT, session)
    assert bills.holder_name == "王小明" and bills.address.startswith("北京市西城区金融大街1号")
    assert [b.consumption_litres for b in bills.bills] == [30_000, 24_000, 21_000]
    assert bills.used_this_period_litres == 75_000 and bills.current_tier == 1
    assert [t.upper_litres for t in bills.tiers] == [180_000, 260_000, None]
    # The code was used: it opens nothing a second time.
    assert refused(kiosk.verify, ACCOUNT, sms(code_sent(rig))).status == 401


def test_the_session_is_bound_to_its_account_and_kiosk_and_expires(rig: Rig) -> None:
    kiosk = rig.client()
    kiosk.request_code(ACCOUNT)
    session = kiosk.verify(ACCOUNT, sms(code_sent(rig))).session
    assert refused(rig.client("kiosk-2").bills, ACCOUNT, session).status == 401
    assert refused(kiosk.bills, "XC000000002", session).status == 401
    rig.clock.advance(minutes=10, seconds=1)
    assert refused(kiosk.bills, ACCOUNT, session).status == 401


def test_codes_are_rate_limited_and_expire(rig: Rig) -> None:
    kiosk = rig.client()
    kiosk.request_code(ACCOUNT)
    too_soon = refused(kiosk.request_code, ACCOUNT)
    assert too_soon.status == 429 and too_soon.error.code == "TooManyCodes"
    for _ in range(4):
        rig.clock.advance(seconds=61)
        kiosk.request_code(ACCOUNT)
    rig.clock.advance(seconds=61)
    assert refused(kiosk.request_code, ACCOUNT).status == 429  # a sixth within the hour
    code = code_sent(rig)
    rig.clock.advance(minutes=5)
    assert refused(kiosk.verify, ACCOUNT, sms(code)).status == 401  # expired
    rig.clock.advance(hours=1)
    kiosk.request_code(ACCOUNT)  # a new hour
    assert kiosk.verify(ACCOUNT, sms(code_sent(rig))).session


def test_a_code_works_only_at_its_kiosk_and_five_wrong_tries_burn_it(rig: Rig) -> None:
    kiosk = rig.client()
    kiosk.request_code(ACCOUNT)
    code = code_sent(rig)
    assert refused(rig.client("kiosk-2").verify, ACCOUNT, sms(code)).status == 401
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(4):
        assert refused(kiosk.verify, ACCOUNT, sms(wrong)).error.code == "WrongProof"
    assert refused(kiosk.verify, ACCOUNT, sms(wrong)).error.code == "ProofLocked"
    assert refused(kiosk.verify, ACCOUNT, sms(code)).status == 401  # burned


def test_an_account_without_a_phone_or_a_failing_gateway_says_so(rig: Rig) -> None:
    assert refused(rig.client().request_code, "XC000000003").error.code == "NoPhoneOnAccount"
    sim = rig.kiosk.sms_simulator
    assert sim is not None
    sim.fail_next(503)
    error = refused(rig.client().request_code, ACCOUNT)
    assert error.status == 503 and error.error.code == "CodeNotSent"
    rig.client().request_code(ACCOUNT)  # the failed send was not counted against the limit


def test_the_customer_card_proves_its_own_account_only(rig: Rig) -> None:
    number = rig.kiosk.proof.issue_card(ACCOUNT)
    kiosk = rig.client()
    card = VerifyIn(method=ProofMethod.CUSTOMER_CARD, card_number=number)
    assert kiosk.verify(ACCOUNT, card).session
    assert refused(kiosk.verify, "XC000000002", card).status == 401
    forged = customer_card_number(ACCOUNT, (int(number[15:18]) + 1) % 1000)
    for _ in range(5):
        refused(
            kiosk.verify, ACCOUNT, VerifyIn(method=ProofMethod.CUSTOMER_CARD, card_number=forged)
        )
    assert refused(kiosk.verify, ACCOUNT, card).error.code == "ProofLocked"  # guessing locked out


def test_the_customer_card_is_never_taken_for_a_bank_card() -> None:
    number = customer_card_number("XC000000001", 123)
    assert number.startswith("990086000000001123") and len(number) == 19
    with pytest.raises(NotABankCard):
        parse_swipe(customer_card_track2(number).encode() + b"\r", today=date(2026, 11, 23))


@given(st.text(alphabet="0123456789", min_size=12, max_size=19))
def test_only_our_layout_is_a_customer_card(number: str) -> None:
    ours = (
        len(number) == 19
        and number.startswith("990086")
        and number == customer_card_number("XC" + number[6:15], int(number[15:18]))
    )
    assert is_customer_card(number) == ours
