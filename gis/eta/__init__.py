"""Travel-time matrices for dispatch: one interface, a straight-line model and routing services.

``TravelTimes.matrix(sources, targets, at)`` → seconds, ``inf`` where there is no route.
``HaversineTravelTimes`` needs nothing; ``OsrmTravelTimes`` and ``ValhallaTravelTimes``
ask a routing server; ``FallbackTravelTimes`` puts the first behind one of the others.
"""

from gis.eta.base import (
    UNROUTABLE,
    Point,
    RoutingBadResponse,
    RoutingError,
    RoutingRefused,
    RoutingTimeout,
    RoutingUnavailable,
    TravelTimes,
)
from gis.eta.fallback import FallbackTravelTimes, RoutingReport
from gis.eta.haversine import HaversineTravelTimes, SpeedProfile, haversine_m
from gis.eta.osrm import OsrmTravelTimes
from gis.eta.valhalla import ValhallaTravelTimes

__all__ = [
    "UNROUTABLE",
    "FallbackTravelTimes",
    "HaversineTravelTimes",
    "OsrmTravelTimes",
    "Point",
    "RoutingBadResponse",
    "RoutingError",
    "RoutingRefused",
    "RoutingReport",
    "RoutingTimeout",
    "RoutingUnavailable",
    "SpeedProfile",
    "TravelTimes",
    "ValhallaTravelTimes",
    "haversine_m",
]
