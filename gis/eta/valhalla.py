"""Travel times from a Valhalla server's matrix service.

``POST /sources_to_targets`` with ``{"sources": [{"lat", "lon"}…], "targets": […],
"costing": "auto", "verbose": false}``. Valhalla answers ``sources_to_targets`` in one of
two documented shapes (Valhalla's matrix API reference; ``tyr/matrix_serializer.cc``):

- concise (``verbose: false``, Valhalla 3.4+): ``{"durations": [[s | null …] …],
  "distances": …}``, row-major;
- verbose (the default, and what older servers send whatever we ask): a row per source of
  ``{"from_index", "to_index", "time": s | null, "distance"}`` objects.

Both are read. ``time`` is whole seconds; ``null`` means no route. When *no* pair has a
route Valhalla answers HTTP 400 with ``error_code`` 442 ("No path could be found for
input") instead of a matrix of nulls; that is read as an all-``inf`` block, not an error.
Other errors are HTTP 4xx with ``{"error_code": n, "error": "…", "status_code": …}``.

A request may hold at most ``max_matrix_location_pairs`` source × target pairs (2,500 in
Valhalla's default service limits for ``auto``), so large matrices go in blocks. ``at`` is
not sent: Valhalla refuses time-dependent matrices for many source/target shapes.
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

NO_PATH = 442  # Valhalla's error_code when no pair of the request has a route
_COSTING = re.compile(r"^[a-z_]+$")


def parse_sources_to_targets(
    payload: object, n_sources: int, n_targets: int
) -> NDArray[np.float64]:
    """Seconds from either answer shape (``inf`` for ``null``), or a typed error."""
    if not isinstance(payload, dict):
        raise RoutingBadResponse("a matrix answer is a JSON object")
    if "error_code" in payload:
        raise _error(payload, None)
    body = payload.get("sources_to_targets")
    if isinstance(body, dict):
        if "durations" not in body:
            raise RoutingBadResponse("concise answer without 'durations'")
        return seconds_grid(body["durations"], n_sources, n_targets, lambda _i, _j, item: item)
    if isinstance(body, list):
        return seconds_grid(body, n_sources, n_targets, _verbose_time)
    raise RoutingBadResponse("'sources_to_targets' missing or neither a list nor an object")


def _verbose_time(i: int, j: int, item: object) -> object:
    if not isinstance(item, dict) or "time" not in item:
        raise RoutingBadResponse(f"[{i}][{j}]: expected an object with 'time'")
    # The indices, when present, must say the cell is where we put it.
    for key, want in (("from_index", i), ("to_index", j)):
        if key in item and (isinstance(item[key], bool) or item[key] != want):
            raise RoutingBadResponse(f"[{i}][{j}]: {key} is {item[key]!r}")
    return item["time"]


def _error(payload: dict[str, object], http_status: int | None) -> RoutingRefused:
    code = payload.get("error_code")
    message = payload.get("error")
    return RoutingRefused(
        str(code)
        if isinstance(code, int) and not isinstance(code, bool)
        else f"HTTP {http_status}",
        message if isinstance(message, str) else "",
        http_status=http_status,
    )


class ValhallaTravelTimes:
    def __init__(
        self,
        base_url: str,
        costing: str = "auto",
        *,
        max_pairs: int = 2500,
        timeout_s: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        if not _COSTING.match(costing):
            raise ValueError(f"not a Valhalla costing: {costing!r}")
        if max_pairs < 1:
            raise ValueError("max_pairs: at least one pair per request")
        self.base_url = base_url.rstrip("/")
        self.costing = costing
        self.max_pairs = max_pairs
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
        for rows, cols in chunks(len(src), len(dst), lambda s: self.max_pairs // s):
            out[rows, cols] = self._block(src[rows], dst[cols])
        return out

    def _block(self, src: NDArray[np.float64], dst: NDArray[np.float64]) -> NDArray[np.float64]:
        body = {
            "sources": [{"lat": float(lat), "lon": float(lon)} for lon, lat in src],
            "targets": [{"lat": float(lat), "lon": float(lon)} for lon, lat in dst],
            "costing": self.costing,
            "verbose": False,
        }
        request = self._client.build_request(
            "POST", f"{self.base_url}/sources_to_targets", json=body
        )
        response = send(self._client, request)
        if response.status_code != 200:
            try:
                payload = load_json(response.content)
            except RoutingBadResponse:
                payload = None
            if not isinstance(payload, dict):
                raise RoutingRefused(
                    f"HTTP {response.status_code}", "", http_status=response.status_code
                )
            refusal = _error(payload, response.status_code)
            if refusal.code == str(NO_PATH):
                return np.full((len(src), len(dst)), np.inf)
            raise refusal
        return parse_sources_to_targets(load_json(response.content), len(src), len(dst))
