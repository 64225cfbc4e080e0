"""What a running central's dispatch is made of, as the HTTP layer sees it.

The planner and the job are typed for checkers only: their modules load the optimiser
(scipy), which the hall process — importing the central app's modules too — never needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from domain.bus import EventBus
from domain.callers import CallerLookup
from domain.console_staff import ConsoleSessions
from domain.crew_positions import CrewPositions
from domain.work_orders import WorkOrders

if TYPE_CHECKING:
    from domain.dispatch_planning import DispatchPlanner
    from servicehall.central.dispatch import DispatchJob


@dataclass
class DispatchParts:
    orders: WorkOrders
    planner: DispatchPlanner
    callers: CallerLookup
    sessions: ConsoleSessions
    positions: CrewPositions
    bus: EventBus
    job: DispatchJob

    def start(self) -> None:
        self.job.start()

    def stop(self) -> None:
        self.job.stop()
