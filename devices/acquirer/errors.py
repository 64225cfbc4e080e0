"""Why talking to the acquirer failed, below the level of a decline."""

from __future__ import annotations

from devices.errors import DeviceConnectionError, DeviceTimeout


class AcquirerUnreachable(DeviceConnectionError):
    """No TCP connection to the acquirer could be opened."""


class ConnectionCut(DeviceConnectionError):
    """The acquirer closed the connection (or it broke) before a whole answer arrived."""


class AnswerTimeout(DeviceTimeout):
    """No whole answer arrived before the deadline."""
