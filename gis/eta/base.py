"""What every travel-time back end promises, and how it may fail.

A matrix is ``sources × targets`` seconds as float64. ``inf`` means "no route" (an
island, a closed road network, a point the router cannot reach); a back end never
returns ``nan`` and never a negative time. ``inf`` rather than ``nan`` so that the
obvious reductions (``min`` over crews, ``argmin``, comparisons with a deadline) keep
working and simply never pick an unroutable pair.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

Point = tuple[float, float]
"""WGS-84 ``(lon, lat)`` in degrees, GeoJSON order."""

UNROUTABLE = math.inf


@runtime_checkable
class TravelTimes(Protocol):
    def matrix(
        self,
        sources: Sequence[Point] | ArrayLike,
        targets: Sequence[Point] | ArrayLike,
        at: datetime,
    ) -> NDArray[np.float64]:
        """Seconds from each source to each target when leaving at ``at`` (timezone-aware).

        Shape ``(len(sources), len(targets))``; ``inf`` where there is no route.
        """
        ...


class RoutingError(Exception):
    """A routing service did not give a usable matrix."""

    kind = "error"


class RoutingUnavailable(RoutingError):
    """The service could not be reached, timed out, or failed on its side (HTTP 5xx)."""

    kind = "unavailable"


class RoutingTimeout(RoutingUnavailable):
    kind = "timeout"


class RoutingRefused(RoutingError):
    """The service answered and refused the request (OSRM ``code`` ≠ ``Ok``, HTTP 4xx).

    ``code`` is the service's own: OSRM's string (``NoSegment``, ``TooBig`` …) or
    Valhalla's ``error_code`` as a string (``171``, ``150`` …).
    """

    kind = "refused"

    def __init__(self, code: str, message: str, *, http_status: int | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.http_status = http_status


class RoutingBadResponse(RoutingError):
    """The answer is not what the service's documented format says: not trusted, not guessed at."""

    kind = "bad_response"


def as_points(points: Sequence[Point] | ArrayLike, what: str) -> NDArray[np.float64]:
    """An ``(n, 2)`` float array of plausible ``(lon, lat)``; a wrong shape or range is refused."""
    array = np.asarray(points, dtype=np.float64)
    if array.size == 0:
        return np.empty((0, 2), dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(
            f"{what}: expected a sequence of (lon, lat) pairs, got shape {array.shape}"
        )
    lon, lat = array[:, 0], array[:, 1]
    if not (np.isfinite(array).all() and (np.abs(lon) <= 180).all() and (np.abs(lat) <= 90).all()):
        raise ValueError(f"{what}: coordinates out of range; points are (lon, lat) in degrees")
    return array


def require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("travel times need a timezone-aware departure time")
