"""Sending text messages: the seam between our notifications and an SMS gateway.

Chinese SMS gateways (carrier or cloud) take a phone number, a template or text, and answer
with a message id; they throttle per number and refuse some content. ``SmsGateway`` is what
our code depends on; an HTTP adapter and a simulator that speaks the same HTTP implement it.
Texts are never logged whole (they can carry one-time codes): only the phone, masked, and ids.
"""

from __future__ import annotations

from typing import Protocol


class SmsError(Exception):
    pass


class SmsUnavailable(SmsError):
    """The gateway could not be reached or failed: try again later."""


class SmsRefused(SmsError):
    """The gateway refused this message (bad number, throttled, content): do not retry as is."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


class SmsGateway(Protocol):
    def send(self, phone: str, text: str, *, key: str) -> str:
        """Send ``text`` to ``phone`` (11-digit mainland mobile). ``key`` makes a retry harmless
        (the gateway sends once per key). Returns the gateway's message id."""
        ...


def mask_phone(phone: str) -> str:
    """138****8000: what logs and screens show of a phone number."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"
