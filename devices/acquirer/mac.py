"""ISO/IEC 9797-1 MAC algorithm 3 (the ANSI X9.19 "retail MAC") with padding method 1.

CBC-DES under the left key half over every block, then the last result is decrypted under the
right half and encrypted under the left again. Padding method 1 appends zero bytes up to a
whole block (an empty message gets one zero block), as X9.19 does.
"""

from __future__ import annotations

import hmac

from Crypto.Cipher import DES

BLOCK = 8
MAC_LENGTH = 8


def retail_mac(key: bytes, data: bytes) -> bytes:
    """The 8-byte MAC of ``data`` under a 16-byte key K || K'."""
    if len(key) != 16:
        raise ValueError("the retail MAC needs a double-length key (16 bytes)")
    # Single DES is what the standard specifies; the double-length key and the final
    # decrypt/encrypt step are what make the retail MAC stronger than plain CBC-MAC.
    left = DES.new(key[:8], DES.MODE_ECB)  # noqa: S304
    right = DES.new(key[8:], DES.MODE_ECB)  # noqa: S304
    padded = data + b"\x00" * (-len(data) % BLOCK) if data else b"\x00" * BLOCK
    chain = bytes(BLOCK)
    for start in range(0, len(padded), BLOCK):
        block = padded[start : start + BLOCK]
        chain = left.encrypt(bytes(a ^ b for a, b in zip(chain, block, strict=True)))
    return left.encrypt(right.decrypt(chain))


def mac_matches(key: bytes, data: bytes, mac: bytes) -> bool:
    """Compare in constant time, so a forger learns nothing from how long a refusal takes."""
    return hmac.compare_digest(retail_mac(key, data), mac)
