"""ISO 9564-1 format 0 PIN blocks, and their encryption under a double-length DES key.

Format 0: the PIN field ``0 L P P P P (P…) F…`` (control 0, PIN length L, 4–12 digits, padded
with F to 16 nibbles) XOR the PAN field ``0000`` + the 12 rightmost PAN digits excluding the
check digit. The block is encrypted with triple DES (keying option 2) in ECB mode.

Only a PIN pad and the acquirer's HSM ever hold a PIN in the clear; the kiosk handles the
encrypted block. The reverse functions exist for the acquirer simulator, which plays the HSM.
"""

from __future__ import annotations

from Crypto.Cipher import DES3
from Crypto.Cipher._mode_ecb import EcbMode

BLOCK = 8


def pan_field_digits(pan: str) -> str:
    """The 12 PAN digits format 0 uses: the rightmost 12 before the check digit."""
    if not (pan.isascii() and pan.isdigit() and len(pan) >= 13):
        raise ValueError("a card number for a PIN block has at least 13 digits")
    return pan[-13:-1]


def format0_block(pin: str, pan_last12: str) -> bytes:
    """The clear format-0 block for ``pin`` and the 12 digits from ``pan_field_digits``."""
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        raise ValueError("a PIN is 4 to 12 digits")
    if not (pan_last12.isascii() and pan_last12.isdigit() and len(pan_last12) == 12):
        raise ValueError("the PAN part of a PIN block is 12 digits")
    pin_field = bytes.fromhex(f"0{len(pin):X}{pin}".ljust(16, "F"))
    pan_field = bytes.fromhex("0000" + pan_last12)
    return bytes(a ^ b for a, b in zip(pin_field, pan_field, strict=True))


def pin_from_format0(block: bytes, pan_last12: str) -> str:
    """The PIN in a clear format-0 block; ``ValueError`` when the block is not format 0."""
    if len(block) != BLOCK:
        raise ValueError("a PIN block is 8 bytes")
    pan_field = bytes.fromhex("0000" + pan_last12)
    nibbles = bytes(a ^ b for a, b in zip(block, pan_field, strict=True)).hex().upper()
    if nibbles[0] != "0":
        raise ValueError("not a format-0 PIN block")
    length = int(nibbles[1], 16)
    pin, padding = nibbles[2 : 2 + length], nibbles[2 + length :]
    if not 4 <= length <= 12 or not pin.isdigit() or padding != "F" * len(padding):
        raise ValueError("the PIN block does not decode to a PIN (wrong key or card?)")
    return pin


def encrypt_block(clear: bytes, pin_key: bytes) -> bytes:
    return _cipher(pin_key).encrypt(_check(clear))


def decrypt_block(encrypted: bytes, pin_key: bytes) -> bytes:
    return _cipher(pin_key).decrypt(_check(encrypted))


def _cipher(pin_key: bytes) -> EcbMode:
    if len(pin_key) != 16:
        raise ValueError("the PIN key is a double-length DES key (16 bytes)")
    cipher = DES3.new(pin_key, DES3.MODE_ECB)
    if not isinstance(cipher, EcbMode):  # pragma: no cover - new() returns the mode asked for
        raise TypeError("expected an ECB cipher")
    return cipher


def _check(block: bytes) -> bytes:
    if len(block) != BLOCK:
        raise ValueError("a PIN block is 8 bytes")
    return block
