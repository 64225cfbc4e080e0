"""Central's dispatch, wired: the work-order service, the planner, caller lookup, console
sessions, and the periodic job that keeps the board honest.

The job, every ``interval_s``: take in orders halls and kiosks opened (they arrive by
sync), sweep the SLA clocks (warn, escalate, notify), and plan the backlog — carrying out
assignments for orders of priority ``auto_dispatch_priority`` or more urgent, flagging
orders no crew can take. A failing round is logged and the next one tries again; the job
never takes central down.

This is the one module of the central site that needs the ``dispatch`` extra (scipy):
``servicehall.bootstrap`` imports it only when it builds central.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from domain.bus import EventBus
from domain.callers import CallerLookup
from domain.console_staff import ConsoleSessions
from domain.crew_positions import CrewPositions, DbCrewPositions
from domain.dispatch_planning import DispatchPlanner
from domain.uow import UnitsOfWork
from domain.work_order_sla import sweep
from domain.work_orders import WorkOrders
from field_dispatch.sla import SlaPolicy
from gis.eta import HaversineTravelTimes, TravelTimes
from servicedb.types import utcnow
from servicehall.central.parts import DispatchParts

log = logging.getLogger(__name__)


class DispatchJob:
    """Adopt, sweep, auto-dispatch — on a daemon thread, one round every ``interval_s``."""

    def __init__(
        self, orders: WorkOrders, planner: DispatchPlanner, *, interval_s: float, auto_priority: int
    ) -> None:
        self.orders = orders
        self.planner = planner
        self.interval_s = interval_s
        self.auto_priority = auto_priority
        self.rounds = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> None:
        self.orders.adopt()
        sweep(self.orders)
        self.planner.apply(self.planner.plan(), most_urgent_first=self.auto_priority)
        self.rounds += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except Exception:
                log.exception("dispatch round failed; the next one will try again")

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="dispatch-job", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None


def build_dispatch(
    engine: Engine,
    site_code: str,
    bus: EventBus,
    *,
    policy: SlaPolicy | None = None,
    auto_dispatch_priority: int = 2,
    sweep_interval_s: float = 30.0,
    crew_stale_after_s: float = 300.0,
    positions: CrewPositions | None = None,
    travel: TravelTimes | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> DispatchParts:
    orders = WorkOrders(UnitsOfWork(engine, bus), site_code, policy=policy, clock=clock)
    positions = positions or DbCrewPositions(
        engine, stale_after=timedelta(seconds=crew_stale_after_s), clock=clock
    )
    planner = DispatchPlanner(orders, positions, travel or HaversineTravelTimes())
    job = DispatchJob(
        orders, planner, interval_s=sweep_interval_s, auto_priority=auto_dispatch_priority
    )
    return DispatchParts(
        orders=orders,
        planner=planner,
        callers=CallerLookup(orders),
        sessions=ConsoleSessions(engine, site_code, clock=clock),
        positions=positions,
        bus=bus,
        job=job,
    )
