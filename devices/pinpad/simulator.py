"""A PIN pad for tests and the demo: the "customer's fingers" are a queue of scripted entries.

Each entry is a PIN to type, a cancel, or walking away (a timeout). The pad encrypts a typed
PIN into a real format-0 block under the terminal's PIN key, exactly as an EPP would, so the
acquirer simulator can check it the way an issuer's HSM does.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from devices.health import DeviceHealth, HealthState, HealthTracker
from devices.pinpad.pinblock import encrypt_block, format0_block
from devices.pinpad.pinpad import PinEntryCancelled, PinEntryTimedOut, PinPrompt


@dataclass(frozen=True)
class _Entry:
    pin: str | None  # None: the customer pressed cancel
    timeout: bool = False


class SimulatedPinPad:
    def __init__(self, pin_key: bytes, *, default_pin: str | None = None) -> None:
        self._pin_key = pin_key
        self._default_pin = default_pin
        self._entries: deque[_Entry] = deque()
        self._lock = threading.Lock()
        self.prompts: list[PinPrompt] = []  # what the pad was asked to show
        self._health = HealthTracker("PIN pad (simulated)")
        self._health.set(HealthState.CONNECTED, "simulated")

    def __repr__(self) -> str:
        return "SimulatedPinPad()"  # never the scripted PINs

    # --- what the customer will do --------------------------------------------------------
    def will_type(self, pin: str) -> None:
        with self._lock:
            self._entries.append(_Entry(pin))

    def will_cancel(self) -> None:
        with self._lock:
            self._entries.append(_Entry(None))

    def will_walk_away(self) -> None:
        with self._lock:
            self._entries.append(_Entry(None, timeout=True))

    # --- the PinPad interface -------------------------------------------------------------
    @property
    def health(self) -> DeviceHealth:
        return self._health.current

    def request_pin(self, pan_last12: str, prompt: PinPrompt, *, timeout_s: float = 30.0) -> bytes:
        with self._lock:
            self.prompts.append(prompt)
            if self._entries:
                entry = self._entries.popleft()
            elif self._default_pin is not None:
                entry = _Entry(self._default_pin)
            else:
                entry = _Entry(None, timeout=True)  # nobody at the pad
        if entry.timeout:
            raise PinEntryTimedOut(f"no PIN within {timeout_s:g} s")
        if entry.pin is None:
            raise PinEntryCancelled("the customer pressed cancel")
        return encrypt_block(format0_block(entry.pin, pan_last12), self._pin_key)

    def close(self) -> None:
        self._health.set(HealthState.FAULT, "closed")
