"""The hall's day for the sync tests: the same workload the fault lab and the soak drive."""

from __future__ import annotations

from servicehall.synclab.workload import HallWork as HallDay
from servicehall.synclab.workload import opening_hours_clock

__all__ = ["HallDay", "opening_hours_clock"]
