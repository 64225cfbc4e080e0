"""The device libraries' exceptions. Callers translate them at their own boundary."""

from __future__ import annotations


class DeviceError(Exception):
    """Anything that went wrong with a device."""


class DeviceConnectionError(DeviceError):
    """The port cannot be opened or went away (unplugged, powered off, wrong path)."""


class DeviceTimeout(DeviceError):
    """The device did not answer in time."""


class ProtocolError(DeviceError):
    """Bytes that do not follow the device's protocol."""
