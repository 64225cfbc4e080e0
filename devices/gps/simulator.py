"""A GPS unit on a pty that drives along a route, talking RMC + GGA once a (simulated) second."""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from devices.gps.nmea import KNOTS_TO_KMH, sentence
from devices.pty_port import PtyPort

EARTH_RADIUS_M = 6_371_000.0


def _ddmm(value: float, degree_digits: int) -> str:
    value = abs(value)
    degrees = int(value)
    minutes = (value - degrees) * 60
    return f"{degrees:0{degree_digits}d}{minutes:07.4f}"


def nmea_for(
    when: datetime,
    lon: float,
    lat: float,
    speed_kmh: float,
    course: float,
    *,
    talker: str = "GN",
    fix: bool = True,
) -> bytes:
    hhmmss = when.strftime("%H%M%S") + f".{when.microsecond // 10_000:02d}"
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    lat_s, lon_s = _ddmm(lat, 2), _ddmm(lon, 3)
    knots = speed_kmh / KNOTS_TO_KMH
    rmc = (
        f"{talker}RMC,{hhmmss},{'A' if fix else 'V'},{lat_s},{ns},{lon_s},{ew},{knots:.2f},{course:.1f},"
        f"{when:%d%m%y},,,{'A' if fix else 'N'}"
    )
    gga = f"{talker}GGA,{hhmmss},{lat_s},{ns},{lon_s},{ew},{1 if fix else 0},{12 if fix else 0},0.9,48.0,M,-8.0,M,,"
    return sentence(gga) + sentence(rmc)


class GpsSimulator:
    """Drives ``route`` ([lon, lat] points) at ``speed_kmh``; ``time_scale`` speeds the clock up."""

    def __init__(
        self,
        route: Sequence[tuple[float, float]],
        *,
        speed_kmh: float = 40.0,
        time_scale: float = 1.0,
        link_dir: Path | None = None,
        talker: str = "GN",
        start: datetime | None = None,
    ) -> None:
        if len(route) < 2:
            raise ValueError("a route needs at least two points")
        self.route = list(route)
        self.speed_kmh = speed_kmh
        self.time_scale = time_scale
        self.talker = talker
        self.has_fix = True
        self.garbage = False
        self.garbage_sent = 0
        self._sent = threading.Condition()
        self._clock = start or datetime.now(UTC).replace(microsecond=0)
        self._port = PtyPort(link_dir, name="ttyGPS")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gps-sim", daemon=True)
        self._thread.start()

    @property
    def path(self) -> str:
        return str(self._port.path)

    def positions(self) -> list[tuple[datetime, float, float, float, float]]:
        """(time, lon, lat, speed, course) for each simulated second along the whole route."""
        step_m = self.speed_kmh / 3.6
        out = []
        when = self._clock
        for (lon1, lat1), (lon2, lat2) in zip(self.route, self.route[1:], strict=False):
            # A van's legs are short: a local flat-earth step is within centimetres here.
            metres_per_deg_lat = math.pi * EARTH_RADIUS_M / 180
            metres_per_deg_lon = metres_per_deg_lat * math.cos(math.radians((lat1 + lat2) / 2))
            east = (lon2 - lon1) * metres_per_deg_lon
            north = (lat2 - lat1) * metres_per_deg_lat
            length = math.hypot(east, north)
            course = math.degrees(math.atan2(east, north)) % 360
            travelled = 0.0
            while travelled < length:
                share = travelled / length
                out.append(
                    (
                        when,
                        lon1 + (lon2 - lon1) * share,
                        lat1 + (lat2 - lat1) * share,
                        self.speed_kmh,
                        course,
                    )
                )
                travelled += step_m
                when += timedelta(seconds=1)
        lon, lat = self.route[-1]
        out.append((when, lon, lat, 0.0, 0.0))
        return out

    def wait_for_garbage(self, count: int, timeout_s: float = 5.0) -> bool:
        """Block until ``count`` garbage lines have gone out (the ``garbage`` fault)."""
        with self._sent:
            return self._sent.wait_for(lambda: self.garbage_sent >= count, timeout_s)

    def unplug(self) -> None:
        self._port.unplug()

    def replug(self) -> None:
        self._port.replug()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._port.close()

    def _run(self) -> None:
        for when, lon, lat, speed, course in self.positions():
            if self._stop.is_set():
                return
            garbage = self.garbage
            data = (
                b"$GPGGA,garbage*00\r\n\x00\xff"
                if garbage
                else nmea_for(when, lon, lat, speed, course, talker=self.talker, fix=self.has_fix)
            )
            with contextlib.suppress(OSError):
                if self._port.master_fd >= 0:
                    os.write(self._port.master_fd, data)
                    with self._sent:
                        self.garbage_sent += garbage
                        self._sent.notify_all()
            self._stop.wait(1.0 / self.time_scale)
