"""A vehicle GPS unit on a serial line: a stream of typed fixes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from devices.errors import DeviceTimeout
from devices.gps.nmea import Gga, NmeaError, Rmc, parse
from devices.health import DeviceHealth, HealthState
from devices.serial_link import SerialLink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fix:
    when: datetime
    lon: float
    lat: float
    speed_kmh: float | None
    course_deg: float | None
    quality: int | None
    satellites: int | None
    hdop: float | None
    talker: str


class GpsUnit:
    """Reads NMEA lines; yields a ``Fix`` for each valid RMC (enriched by the last GGA)."""

    def __init__(self, port: str, *, baudrate: int = 9600, min_backoff_s: float = 0.5) -> None:
        self._link = SerialLink(
            port, name=f"GPS {port}", baudrate=baudrate, min_backoff_s=min_backoff_s
        )
        self._last_gga: Gga | None = None
        self.bad_sentences = 0  # refused ones; proprietary and other types are not bad
        self.last_refusal: str | None = None

    @property
    def health(self) -> DeviceHealth:
        return self._link.health.current

    def open(self) -> None:
        self._link.open()

    def fixes(self, *, silence_timeout_s: float = 5.0) -> Iterator[Fix]:
        """Fixes as they come. Silence longer than the timeout raises ``DeviceTimeout``."""
        while True:
            line = self._link.read_until(b"\n", timeout_s=silence_timeout_s, max_bytes=512)
            try:
                sentence = parse(line)
            except NmeaError as err:
                self.bad_sentences += 1
                self.last_refusal = err.reason
                log.debug("GPS: ignoring a bad sentence: %s", err.reason)
                continue
            if isinstance(sentence, Gga):
                self._last_gga = sentence
                if not sentence.has_fix:
                    self._link.health.set(HealthState.DEGRADED, "no satellite fix")
            elif isinstance(sentence, Rmc):
                fix = self._fix(sentence)
                if fix is not None:
                    self._link.health.set(HealthState.CONNECTED, f"fix from {fix.talker}")
                    yield fix
                else:
                    self._link.health.set(HealthState.DEGRADED, "no satellite fix")

    def _fix(self, rmc: Rmc) -> Fix | None:
        if not rmc.valid or rmc.lat is None or rmc.lon is None or rmc.when is None:
            return None
        gga = self._last_gga if self._last_gga and self._last_gga.utc_time == rmc.utc_time else None
        return Fix(
            rmc.when,
            rmc.lon,
            rmc.lat,
            rmc.speed_kmh,
            rmc.course_deg,
            gga.quality if gga else None,
            gga.satellites if gga else None,
            gga.hdop if gga else None,
            rmc.talker,
        )

    def close(self) -> None:
        self._link.close()

    def read_one(self, timeout_s: float = 5.0) -> Fix:
        for fix in self.fixes(silence_timeout_s=timeout_s):
            return fix
        raise DeviceTimeout("no fix")  # pragma: no cover - fixes() only ends by raising
