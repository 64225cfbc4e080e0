"""An in-process MQTT broker (amqtt) for the demo and for tests on a machine without Mosquitto."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from typing import Any

from servicehall.errors import UserFacingError

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedBroker:
    """amqtt running on its own event loop in a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        try:
            import amqtt.broker  # noqa: F401 - fail early with an install hint
        except ImportError as err:
            raise UserFacingError(
                "the embedded MQTT broker needs amqtt: pip install 'servicehall[embedded]'"
            ) from err
        self._thread = threading.Thread(target=self._run, name="embedded-mqtt", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s) or self._error:
            raise UserFacingError(
                f"embedded MQTT broker did not start on {self.host}:{self.port}: {self._error}"
            )
        log.info("embedded MQTT broker on %s:%d", self.host, self.port)

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread:
            self._thread.join(10)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as err:  # reported to start(), never lost in the thread
            self._error = err
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        from amqtt.broker import Broker

        config: dict[str, Any] = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
            },
        }
        broker = Broker(config)
        await broker.start()
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await broker.shutdown()
