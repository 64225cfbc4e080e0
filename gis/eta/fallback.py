"""A routing service with haversine behind it, so dispatch never waits on a dead router.

Any :class:`RoutingError` from the primary (down, timed out, refusing, or answering
garbage) serves that matrix from the fallback instead. A routing failure is logged once
when it starts and once when the primary is back, not on every call, and the current
state is always readable as :attr:`FallbackTravelTimes.report` (for ``/health``). After a
failure the primary is left alone for ``retry_after_s`` so that each dispatch decision
does not pay a timeout first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gis.eta.base import Point, RoutingError, TravelTimes
from gis.eta.haversine import HaversineTravelTimes

log = logging.getLogger("gis.eta")


@dataclass(frozen=True)
class RoutingReport:
    """Which back end serves matrices now, since when, and why."""

    serving: Literal["primary", "fallback"]
    since: datetime
    last_error: str | None = None  # "<kind>: <message>" of the failure that caused the fallback
    fallback_matrices: int = 0  # matrices served by the fallback since start


class FallbackTravelTimes:
    def __init__(
        self,
        primary: TravelTimes,
        fallback: TravelTimes | None = None,
        *,
        retry_after_s: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        on_change: Callable[[RoutingReport], None] | None = None,
    ) -> None:
        self.primary = primary
        self.fallback = fallback or HaversineTravelTimes()
        self.retry_after_s = retry_after_s
        self._monotonic = monotonic
        self._on_change = on_change
        self._lock = threading.Lock()
        self._report = RoutingReport("primary", datetime.now(UTC))
        self._retry_at = 0.0

    @property
    def report(self) -> RoutingReport:
        with self._lock:
            return self._report

    def matrix(
        self,
        sources: Sequence[Point] | ArrayLike,
        targets: Sequence[Point] | ArrayLike,
        at: datetime,
    ) -> NDArray[np.float64]:
        with self._lock:
            resting = self._report.serving == "fallback" and self._monotonic() < self._retry_at
        if not resting:
            try:
                result = self.primary.matrix(sources, targets, at)
            except RoutingError as err:
                self._failed(err)
            else:
                self._succeeded()
                return result
        result = self.fallback.matrix(sources, targets, at)
        with self._lock:
            self._report = replace(
                self._report, fallback_matrices=self._report.fallback_matrices + 1
            )
        return result

    def _failed(self, err: RoutingError) -> None:
        reason = f"{err.kind}: {err}"
        with self._lock:
            self._retry_at = self._monotonic() + self.retry_after_s
            changed = self._report.serving == "primary"
            if changed:
                self._report = replace(
                    self._report, serving="fallback", since=datetime.now(UTC), last_error=reason
                )
            else:
                self._report = replace(self._report, last_error=reason)
            report = self._report
        if changed:
            log.warning(
                "routing service failed (%s); straight-line travel times until it is back", reason
            )
            if self._on_change:
                self._on_change(report)

    def _succeeded(self) -> None:
        with self._lock:
            changed = self._report.serving == "fallback"
            if changed:
                self._report = replace(self._report, serving="primary", since=datetime.now(UTC))
            report = self._report
        if changed:
            log.info("routing service is back; travel times come from it again")
            if self._on_change:
                self._on_change(report)
