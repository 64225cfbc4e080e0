"""The on-screen keypad's buffer and the idle rule: plain logic, no window."""

from __future__ import annotations

import pytest

from kiosk.idle import IdleState, IdleWatch
from kiosk.keypad import BACK, CLEAR, account_digits, appointment_code, phone_number, sms_code
from kiosk.text import T, cubic_metres, yuan

pytestmark = pytest.mark.unit


def test_account_keypad_takes_nine_digits_only() -> None:
    buffer = account_digits()
    for key in "12345678901":
        buffer.press(key)
    assert buffer.value == "123456789" and buffer.complete
    assert not buffer.press("A")
    buffer.press(BACK)
    assert buffer.value == "12345678" and not buffer.complete
    buffer.press(CLEAR)
    assert buffer.value == ""


def test_codes_are_shown_as_dots_and_phones_checked() -> None:
    code = sms_code()
    for key in "246810":
        code.press(key)
    assert code.shown == "••••••" and code.complete
    phone = phone_number()
    for key in "12800138000":
        phone.press(key)
    assert not phone.complete  # 12… is not a mobile number
    appointment = appointment_code()
    for key in "AP7K2Q":
        appointment.press(key)
    assert appointment.complete and appointment.value == "AP7K2Q"


def test_idle_warns_then_expires() -> None:
    watch = IdleWatch(idle_s=60, warn_s=15)
    watch.touch(100.0)
    assert watch.check(144.9).state is IdleState.ACTIVE
    warning = watch.check(146.0)
    assert warning.state is IdleState.WARNING and warning.seconds_left == 14
    assert watch.check(160.0).state is IdleState.EXPIRED
    watch.touch(160.0)
    assert watch.check(161.0).state is IdleState.ACTIVE
    watch.pause(True, 161.0)
    assert watch.check(1_000.0).state is IdleState.ACTIVE  # the kiosk is at the bank
    with pytest.raises(ValueError, match="warning"):
        IdleWatch(idle_s=10, warn_s=10)


def test_money_and_water_in_words() -> None:
    assert yuan(123456) == "¥1,234.56"
    assert yuan(5) == "¥0.05"
    assert yuan(-250) == "-¥2.50"
    assert cubic_metres(12_340) == "12.3 m³"
    assert cubic_metres(12_350) == "12.4 m³"
    assert T("缺纸", "Out of paper") + T("：请扫码", ": scan") == T(
        "缺纸：请扫码", "Out of paper: scan"
    )
    assert T("报修", "Repair").joined(T("爆管", "Burst pipe")) == T(
        "报修 · 爆管", "Repair · Burst pipe"
    )
