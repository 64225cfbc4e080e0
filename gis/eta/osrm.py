"""Travel times from an OSRM server's ``table`` service.

``GET /table/v1/{profile}/{lon,lat;…}?sources=…&destinations=…&annotations=duration``
answers ``{"code": "Ok", "durations": [[seconds | null, …], …], …}`` with
``durations[i][j]`` from the i-th source to the j-th destination and ``null`` where no
route exists. Errors come as HTTP 400 with ``{"code": "NoSegment" | "TooBig" | …,
"message": …}`` (OSRM HTTP API, "General options" → "Responses", and "Table service").

osrm-routed refuses tables of more than ``--max-table-size`` coordinates (100 by
default), so a large matrix is asked for in blocks whose sources plus destinations fit.
OSRM's speeds come from its profile and do not vary with the hour: ``at`` is not sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

import httpx
import numpy as np
from numpy.typing import ArrayLike, NDArray

from gis.eta._http import chunks, load_json, seconds_grid, send
from gis.eta.base import (
    Point,
    RoutingBadResponse,
    RoutingRefused,
    as_points,
    require_aware,
)

_PROFILE = re.compile(r"^[A-Za-z0-9_-]+$")


def parse_table(payload: object, n_sources: int, n_targets: int) -> NDArray[np.float64]:
    """The ``durations`` of a table answer as seconds (``inf`` for ``null``), or a typed error."""
    if not isinstance(payload, dict):
        raise RoutingBadResponse("a table answer is a JSON object")
    code = payload.get("code")
    if not isinstance(code, str):
        raise RoutingBadResponse("a table answer carries a string 'code'")
    if code != "Ok":
        message = payload.get("message")
        raise RoutingRefused(code, message if isinstance(message, str) else "")
    if "durations" not in payload:
        raise RoutingBadResponse("'durations' missing (was annotations=duration sent?)")
    return seconds_grid(payload["durations"], n_sources, n_targets, lambda _i, _j, item: item)


class OsrmTravelTimes:
    def __init__(
        self,
        base_url: str,
        profile: str = "driving",
        *,
        max_table_size: int = 100,
        timeout_s: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        if not _PROFILE.match(profile):
            raise ValueError(f"not an OSRM profile name: {profile!r}")
        if max_table_size < 2:
            raise ValueError("max_table_size: at least one source and one destination")
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.max_table_size = max_table_size
        self._client = client or httpx.Client(timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def matrix(
        self,
        sources: Sequence[Point] | ArrayLike,
        targets: Sequence[Point] | ArrayLike,
        at: datetime,
    ) -> NDArray[np.float64]:
        require_aware(at)
        src = as_points(sources, "sources")
        dst = as_points(targets, "targets")
        out = np.empty((len(src), len(dst)), dtype=np.float64)
        for rows, cols in chunks(len(src), len(dst), lambda s: self.max_table_size - s):
            out[rows, cols] = self._table(src[rows], dst[cols])
        return out

    def _table(self, src: NDArray[np.float64], dst: NDArray[np.float64]) -> NDArray[np.float64]:
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lon, lat in np.vstack([src, dst]))
        n, m = len(src), len(dst)
        params = {
            "sources": ";".join(str(i) for i in range(n)),
            "destinations": ";".join(str(n + j) for j in range(m)),
            "annotations": "duration",
        }
        url = f"{self.base_url}/table/v1/{self.profile}/{coords}"
        response = send(self._client, self._client.build_request("GET", url, params=params))
        if response.status_code != 200:
            raise _refusal(response)
        return parse_table(load_json(response.content), n, m)


def _refusal(response: httpx.Response) -> RoutingRefused:
    """OSRM's own code and message when the error body has them, else the HTTP status."""
    try:
        payload = load_json(response.content)
    except RoutingBadResponse:
        payload = None
    code = f"HTTP {response.status_code}"
    message = ""
    if isinstance(payload, dict):
        if isinstance(payload.get("code"), str) and payload["code"] != "Ok":
            code = payload["code"]
        if isinstance(payload.get("message"), str):
            message = payload["message"]
    return RoutingRefused(code, message, http_status=response.status_code)
