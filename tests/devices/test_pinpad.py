"""ISO 9564 format-0 PIN blocks and the simulated encrypting PIN pad."""

from __future__ import annotations

import pytest
from Crypto.Cipher import DES3
from hypothesis import given
from hypothesis import strategies as st

from devices.acquirer.keys import DEMO_KEYS
from devices.pinpad.pinblock import (
    decrypt_block,
    encrypt_block,
    format0_block,
    pan_field_digits,
    pin_from_format0,
)
from devices.pinpad.pinpad import PinEntryCancelled, PinEntryTimedOut, PinPad, PinPrompt
from devices.pinpad.simulator import SimulatedPinPad

pytestmark = pytest.mark.unit


def test_format0_matches_the_standard_example() -> None:
    # ISO 9564-1 format 0 worked example: PIN 1234, PAN 43219876543210987.
    pan = "43219876543210987"
    assert pan_field_digits(pan) == "987654321098"
    block = format0_block("1234", pan_field_digits(pan))
    assert block == bytes.fromhex("0412AC89ABCDEF67")
    assert pin_from_format0(block, "987654321098") == "1234"


def test_the_block_is_encrypted_with_two_key_triple_des() -> None:
    clear = bytes.fromhex("0412AC89ABCDEF67")
    encrypted = encrypt_block(clear, DEMO_KEYS.pin_key)
    # Checked with an independently built cipher: keying option 2 is K1, K2, K1.
    three_key = DEMO_KEYS.pin_key + DEMO_KEYS.pin_key[:8]
    assert encrypted == DES3.new(three_key, DES3.MODE_ECB).encrypt(clear)
    assert encrypted != clear
    assert decrypt_block(encrypted, DEMO_KEYS.pin_key) == clear


@given(
    st.text(alphabet="0123456789", min_size=4, max_size=12),
    st.text(alphabet="0123456789", min_size=13, max_size=19),
)
def test_any_pin_comes_back_from_its_block(pin: str, pan: str) -> None:
    digits = pan_field_digits(pan)
    assert pin_from_format0(format0_block(pin, digits), digits) == pin


def test_a_block_for_another_card_or_key_does_not_read_as_a_pin() -> None:
    block = format0_block("123456", "100000000001")
    with pytest.raises(ValueError):
        pin_from_format0(
            decrypt_block(encrypt_block(block, DEMO_KEYS.pin_key), DEMO_KEYS.mac_key),
            "100000000001",
        )
    with pytest.raises(ValueError):
        pin_from_format0(bytes.fromhex("1412AC89ABCDEF67"), "987654321098")  # format 1, not 0


@pytest.mark.parametrize("pin", ["123", "1234567890123", "12a4"])
def test_pins_outside_the_standard_are_refused(pin: str) -> None:
    with pytest.raises(ValueError):
        format0_block(pin, "987654321098")


def test_the_simulated_pad_returns_only_an_encrypted_block() -> None:
    pad: PinPad = SimulatedPinPad(DEMO_KEYS.pin_key)
    assert isinstance(pad, SimulatedPinPad)
    pad.will_type("654321")
    prompt = PinPrompt(amount_fen=12345)
    block = pad.request_pin("100000000001", prompt)
    assert len(block) == 8
    assert b"654321" not in block and "654321" not in block.hex()
    clear = decrypt_block(block, DEMO_KEYS.pin_key)
    assert pin_from_format0(clear, "100000000001") == "654321"
    assert pad.prompts == [prompt]
    assert "654321" not in repr(pad)


def test_cancel_and_walking_away_are_typed() -> None:
    pad = SimulatedPinPad(DEMO_KEYS.pin_key)
    pad.will_cancel()
    pad.will_walk_away()
    with pytest.raises(PinEntryCancelled) as cancelled:
        pad.request_pin("100000000001", PinPrompt(100))
    assert "取消" in cancelled.value.message_zh
    with pytest.raises(PinEntryTimedOut) as timed_out:
        pad.request_pin("100000000001", PinPrompt(100), timeout_s=5)
    assert "超时" in timed_out.value.message_zh
    with pytest.raises(PinEntryTimedOut):
        pad.request_pin("100000000001", PinPrompt(100))  # nobody at the pad
