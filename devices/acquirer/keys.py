"""The terminal's working keys: one for the MAC, one for PIN blocks (double-length DES keys).

In production these come from key injection (a key-loading device puts the master key into
the PIN pad and the terminal; working keys arrive encrypted under it in a sign-on) and never
appear in a file of this project. The demo keys below are published test values, not secrets:
``DEMO_MAC_KEY`` is the key of the ISO/IEC 9797-1 Annex B examples and ``DEMO_PIN_KEY`` the
first two keys of the NIST SP 800-67 TDEA example.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TerminalKeys:
    """Keys held by one terminal and by its acquirer. ``repr`` never shows them."""

    mac_key: bytes = field(repr=False)
    pin_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        for name, key in (("mac_key", self.mac_key), ("pin_key", self.pin_key)):
            if len(key) != 16:
                raise ValueError(f"{name} must be a double-length DES key (16 bytes)")
            if key[:8] == key[8:]:
                # Two equal halves make triple DES collapse into single DES.
                raise ValueError(f"{name} halves must differ")


DEMO_MAC_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
DEMO_PIN_KEY = bytes.fromhex("0123456789ABCDEF23456789ABCDEF01")
DEMO_KEYS = TerminalKeys(mac_key=DEMO_MAC_KEY, pin_key=DEMO_PIN_KEY)
