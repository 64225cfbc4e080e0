"""The HTTP edge shared by the routing adapters: transport failures become typed errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import numpy as np
from numpy.typing import NDArray

from gis.eta.base import RoutingBadResponse, RoutingTimeout, RoutingUnavailable


def send(client: httpx.Client, request: httpx.Request) -> httpx.Response:
    """Send, read the whole body, and turn transport trouble and 5xx into RoutingUnavailable."""
    try:
        response = client.send(request)
    except httpx.TimeoutException as err:
        raise RoutingTimeout(
            f"{request.url.host}: no answer in time ({type(err).__name__})"
        ) from err
    except httpx.HTTPError as err:
        raise RoutingUnavailable(f"{request.url.host}: {type(err).__name__}: {err}") from err
    if response.status_code >= 500:
        raise RoutingUnavailable(f"{request.url.host}: HTTP {response.status_code}")
    return response


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_json(body: bytes) -> Any:
    """Strict JSON: Python's json takes NaN and Infinity by default; no service sends them."""
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as err:
        raise RoutingBadResponse(f"not JSON: {err}") from err


def seconds_grid(
    rows: object, n_rows: int, n_cols: int, cell: Callable[[int, int, object], object]
) -> NDArray[np.float64]:
    """A row-major list of lists of seconds (``None`` = no route) as a float matrix.

    ``cell(i, j, item)`` picks the seconds out of one item (the item itself for OSRM, its
    ``time`` for Valhalla's verbose form). Anything but a finite number ≥ 0 or None is refused.
    """
    if not isinstance(rows, list) or len(rows) != n_rows:
        raise RoutingBadResponse(f"expected {n_rows} rows of durations")
    out = np.empty((n_rows, n_cols), dtype=np.float64)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != n_cols:
            raise RoutingBadResponse(f"row {i}: expected {n_cols} durations")
        for j, item in enumerate(row):
            out[i, j] = _seconds(cell(i, j, item), i, j)
    return out


def _seconds(value: object, i: int, j: int) -> float:
    if value is None:
        return float("inf")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RoutingBadResponse(f"duration [{i}][{j}] is not a number: {value!r}")
    seconds = float(value)
    if not (0.0 <= seconds < float("inf")):
        raise RoutingBadResponse(f"duration [{i}][{j}] out of range: {value!r}")
    return seconds


def chunks(
    n_sources: int, n_targets: int, max_targets_for: Callable[[int], int]
) -> Iterator[tuple[slice, slice]]:
    """Blocks of the matrix small enough for one request, as few as possible.

    ``max_targets_for(s)`` is how many targets a request with ``s`` sources may carry (0 if
    none). Tries every source block size and keeps the one needing the fewest requests.
    """
    if n_sources == 0 or n_targets == 0:
        return
    best: tuple[int, int, int] | None = None
    for s in range(1, n_sources + 1):
        t = min(n_targets, max_targets_for(s))
        if t < 1:
            break
        requests = -(-n_sources // s) * -(-n_targets // t)
        if best is None or requests < best[0]:
            best = (requests, s, t)
    if best is None:
        raise ValueError("the service's limit leaves no room for even one pair")
    _, s, t = best
    for i in range(0, n_sources, s):
        for j in range(0, n_targets, t):
            yield slice(i, min(i + s, n_sources)), slice(j, min(j + t, n_targets))
