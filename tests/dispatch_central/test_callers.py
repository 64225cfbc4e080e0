"""来电弹屏 on a real database: a number in, the customer, accounts, bills, payments, orders, outages out."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from domain.callers import CallerLookup, NotAPhone, normalise_phone
from domain.work_orders import Intake, Who, WorkOrders
from field_dispatch.vocabulary import Actor, Category
from tests.dispatch_central.builders import CENTRAL, PHONE, Clock, build_city, listening_units

AGENT = Who(Actor.DISPATCHER, "A001")


@pytest.fixture
def lookup(sqlite_db: Engine) -> CallerLookup:
    build_city(sqlite_db)
    units, _heard = listening_units(sqlite_db)
    return CallerLookup(WorkOrders(units, CENTRAL, clock=Clock()))


@pytest.mark.integration
def test_a_known_caller_with_two_accounts_bills_payments_orders_and_an_outage(
    lookup: CallerLookup,
) -> None:
    orders = lookup.orders
    by_phone = orders.open(
        Intake(
            Category.LOW_PRESSURE, "水压低", "phone", lon=116.37, lat=39.92, contact_phone=PHONE
        ),
        AGENT,
    )
    by_account = orders.open(
        Intake(Category.METER_FAULT, "水表停走", "phone", account_no="XC000000002"), AGENT
    )
    orders.open(Intake(Category.LEAK, "别人的报修", "phone", lon=116.35, lat=39.90), AGENT)

    card = lookup.lookup("+86 138-0013-8000")
    assert card.phone == PHONE and card.known and card.more_accounts == 0
    (customer,) = card.customers
    assert customer.name == "王伟"
    home, shop = customer.accounts
    assert (home.account_no, shop.account_no) == ("XC000000001", "XC000000002")
    # Twelve bills of 30.00; the eleventh part-paid (10.00), the twelfth not paid and overdue
    # (due 10 November, today is 23 November): 50.00 in arrears, the newest six shown.
    assert home.arrears_fen == 5000 and shop.arrears_fen == 0
    assert [b.period_start for b in home.bills] == [
        date(2026, 10, 1), date(2026, 9, 1), date(2026, 8, 1),
        date(2026, 7, 1), date(2026, 6, 1), date(2026, 5, 1),
    ]  # fmt: skip
    assert [(b.paid_fen, b.state.value) for b in home.bills[:3]] == [
        (0, "overdue"), (1000, "part_paid"), (3000, "paid"),
    ]  # fmt: skip
    assert [p.amount_fen for p in home.payments] == [1000, 3000, 3000, 3000, 3000, 3000]
    assert home.payments[0].card_masked == "622202******1234"
    assert home.zone_code == "Z01" and shop.bills == ()
    assert {o.id for o in card.orders} == {by_phone.id, by_account.id}
    (outage,) = card.outages
    assert outage.title_zh == "阜成门内大街爆管抢修" and outage.affects == ("XC000000001",)


@pytest.mark.integration
def test_an_unknown_caller_is_said_to_be_unknown(lookup: CallerLookup) -> None:
    card = lookup.lookup("13900001111")
    assert not card.known and card.customers == () and card.orders == () and card.outages == ()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("(010) 6611-2233", "01066112233"),
        ("6611 2233", "01066112233"),
        ("+86 10 6611 2233", "01066112233"),
        ("0755-8888 1234", "075588881234"),
        ("0571-8765432", "05718765432"),
    ],
)
def test_what_caller_id_and_people_give_becomes_the_stored_form(raw: str, canonical: str) -> None:
    assert normalise_phone(raw) == canonical


@pytest.mark.unit
@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12345",
        "12800138000",
        "138001380001",
        "+1 415 555 0100",
        "1380013800O",
        "１３８００１３８０００",
        "110",
        "x" * 40,
    ],
)
def test_anything_else_is_refused_with_a_reason(raw: str) -> None:
    with pytest.raises(NotAPhone) as caught:
        normalise_phone(raw)
    assert caught.value.detail


CANONICAL = re.compile(r"1[3-9]\d{9}|0(?:10|2\d)\d{8}|0[3-9]\d{9,10}")


@pytest.mark.unit
@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("0123456789 +-().（）x１"), max_size=24) | st.text(max_size=24)
)
def test_any_text_is_a_canonical_number_or_refused(raw: str) -> None:
    try:
        phone = normalise_phone(raw)
    except NotAPhone:
        return
    assert CANONICAL.fullmatch(phone), phone
    digits = re.sub(r"\D", "", raw)
    assert phone.lstrip("0") in digits or digits.endswith(phone[-8:])  # nothing invented


@pytest.mark.unit
@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.sampled_from(["{}", "+86 {}", "0086{}", "86{}"]),
)
def test_every_way_of_writing_a_mobile_finds_it(mobile: str, form: str) -> None:
    spaced = f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    assert normalise_phone(form.format(mobile)) == mobile
    assert normalise_phone(form.format(spaced)) == mobile
