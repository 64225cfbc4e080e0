"""A private Mosquitto that a test may stop and start again, and a plain paho client."""

from __future__ import annotations

import getpass
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine

from servicehall.central.gps_ingest import GpsIngest, Writer
from servicehall.config import MqttConfig
from servicehall.platform.embedded_broker import free_port
from servicehall.platform.health import HealthBoard
from servicehall.platform.mqtt_link import MqttLink
from tests.conftest import service_missing


def forget_session(
    port: int, client_id: str, user: str | None = None, password: str | None = None
) -> None:
    """End a persistent session on the broker (connect clean, leave): a test must not leave
    sessions behind on a shared Mosquitto that would queue messages for nobody."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    if user:
        client.username_pw_set(user, password)
    try:
        client.connect("127.0.0.1", port)
        client.loop_start()
        client.disconnect()
        client.loop_stop()
    except OSError:
        pass  # the broker is gone, and its sessions with it


class PrivateMosquitto:
    """Mosquitto on a free port with persistence, as production runs it (sessions and queued
    QoS 1 messages survive a restart)."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            service_missing("the mosquitto binary")
        self._binary = binary
        self.port = free_port()
        self._folder = folder
        self._conf = folder / "mosquitto.conf"
        self._conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {folder}/\n"
            "max_queued_messages 0\n"
            "max_queued_bytes 67108864\n"
            f"log_dest file {folder}/mosquitto.log\n"
            f"user {getpass.getuser()}\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen([self._binary, "-c", str(self._conf)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            probe = mqtt.Client(CallbackAPIVersion.VERSION2)
            try:
                probe.connect("127.0.0.1", self.port)
                probe.disconnect()
                return
            except OSError:
                time.sleep(0.05)  # polling the port: there is no event to wait for
        raise RuntimeError(
            f"mosquitto did not start: {(self._folder / 'mosquitto.log').read_text()}"
        )

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()  # SIGTERM: mosquitto writes its persistence file first
            self._process.wait(10)
            self._process = None


class Phone:
    """A technician's phone as the broker sees it: a paho client with a persistent session."""

    def __init__(
        self,
        port: int,
        user: str,
        *,
        client_id: str | None = None,
        password: str | None = None,
        subscribe: str | None = None,
    ) -> None:
        self.user = user
        self._port, self._password = port, password
        self.received: list[tuple[str, bytes]] = []
        self._arrived = threading.Condition()
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self.client_id = client_id or f"phone-{user}-{time.monotonic_ns()}"
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=False
        )
        self.client.username_pw_set(user, password)
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self._subscribe = subscribe

        def on_connect(client: mqtt.Client, _u: object, _f: object, rc: object, _p: object) -> None:
            if self._subscribe:
                client.subscribe(self._subscribe, qos=1)
            self._connected.set()

        self.client.on_connect = on_connect
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        if not self._connected.wait(5):
            raise RuntimeError("the phone could not connect")
        if subscribe and not self._subscribed.wait(5):
            raise RuntimeError("the broker did not acknowledge the subscription")

    def _on_message(self, _c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        with self._arrived:
            self.received.append((message.topic, bytes(message.payload)))
            self._arrived.notify_all()

    def wait_for(
        self, condition: Callable[[list[tuple[str, bytes]]], bool], timeout: float = 10
    ) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: condition(self.received), timeout)

    def publish(self, topic: str, payload: bytes) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=1)

    def close(self, *, keep_session: bool = False) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        if not keep_session:
            forget_session(self._port, self.client_id, self.user, self._password)


class Central:
    """Central's MQTT link and GPS ingest, as build_central wires them."""

    def __init__(self, engine: Engine, host: str, port: int, writer: Writer = "thread") -> None:
        site = f"central-{uuid.uuid4().hex[:8]}"
        self.health = HealthBoard(site, "central")
        self.link = MqttLink(
            MqttConfig(host=host, port=port, keepalive_s=5),
            client_id=f"servicehall-{site}",
            site=site,
            health=self.health,
        )
        self._port, self._client_id = port, f"servicehall-{site}"
        self.ingest = GpsIngest(engine, self.health, writer=writer)
        self.ingest.attach(self.link)
        self.link.start()
        self.ingest.start()

    def close(self) -> None:
        self.link.stop()
        self.ingest.stop()
        forget_session(self._port, self._client_id)
