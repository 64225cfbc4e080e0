"""GET /health on a kept-alive connection and on fresh connections, as kiosks and screens ask.

    .venv/bin/python bench/http_latency.py [--requests N]

Served by the runner (uvicorn, the platform's protocol and middleware) on loopback, asked
with httpx. Two servers in the same run: the runner as it is (listening socket made with
IPPROTO_TCP, so accepted connections get TCP_NODELAY) and, as the baseline, a listening
socket made the way it used to be (protocol 0: asyncio leaves Nagle's algorithm on).
Reported: median and 95th percentile per case, and each case's ratio to the runner's
fresh-connection median.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from servicedb.engine import make_engine
from servicehall.platform.health import HealthBoard
from servicehall.platform.http import make_app
from servicehall.platform.runner import Endpoint, serving


def _legacy_socket() -> socket.socket:
    """The listening socket as the runner made it before: SOCK_STREAM, protocol 0."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def _timed(ask: Callable[[], httpx.Response], requests: int) -> list[float]:
    ask()  # warm: imports, the first database connection
    took = []
    for _ in range(requests):
        started = time.perf_counter()
        response = ask()
        took.append(time.perf_counter() - started)
        assert response.status_code == 200
    return took


def _measure(url: str, requests: int) -> dict[str, list[float]]:
    with httpx.Client(base_url=url) as kept:
        kept_alive = _timed(lambda: kept.get("/health"), requests)
    fresh_limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=url, limits=fresh_limits) as fresh_client:
        fresh = _timed(lambda: fresh_client.get("/health"), requests)
    return {"kept-alive": kept_alive, "fresh connection": fresh}


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'site.db'}")
        results: dict[str, dict[str, list[float]]] = {}
        for label, sockets in (
            ("runner (IPPROTO_TCP)", None),
            ("baseline (protocol 0)", [_legacy_socket()]),
        ):
            app = make_app("bench", engine, HealthBoard("bench", "bench"))
            endpoint = Endpoint("bench", app, "127.0.0.1", 0)
            with serving([endpoint], sockets=sockets) as urls:
                results[label] = _measure(urls[0], args.requests)
        engine.dispose()
    reference = statistics.median(results["runner (IPPROTO_TCP)"]["fresh connection"])
    print(f"GET /health, {args.requests} requests per case (ms)")
    print(f"{'server':<24}{'connection':<18}{'median':>9}{'p95':>9}{'÷ runner fresh':>16}")
    for label, cases in results.items():
        for case, took in cases.items():
            median = statistics.median(took)
            print(
                f"{label:<24}{case:<18}{median * 1000:>9.2f}{_p95(took) * 1000:>9.2f}"
                f"{median / reference:>16.2f}"
            )


if __name__ == "__main__":
    main()
