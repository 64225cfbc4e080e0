"""The MQTT link against the embedded broker and against Mosquitto."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from servicehall.config import MqttConfig
from servicehall.errors import ServiceUnreachable
from servicehall.platform.health import HealthBoard
from servicehall.platform.mqtt_link import MqttLink, presence_topic

pytestmark = pytest.mark.integration


class Watcher:
    """A plain paho client recording what arrives on one topic."""

    def __init__(self, host: str, port: int, topic: str) -> None:
        self.messages: list[dict[str, object]] = []
        self._arrived = threading.Condition()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"watch-{time.monotonic_ns()}"
        )
        self.client.on_connect = lambda c, *_: c.subscribe(topic, 1)
        self.client.on_message = self._on_message
        self.client.connect(host, port)
        self.client.loop_start()

    def _on_message(self, _c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        with self._arrived:
            self.messages.append(json.loads(message.payload))
            self._arrived.notify_all()

    def wait_for(self, online: bool, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not any(m.get("online") is online for m in self.messages):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._arrived.wait(left)
        return True

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_presence_online_then_offline_on_clean_stop(broker: tuple[str, int]) -> None:
    site = f"test-{time.monotonic_ns()}"
    health = HealthBoard(site, "central")
    link = MqttLink(
        MqttConfig(mode="external", host=broker[0], port=broker[1]),
        client_id=f"link-{site}",
        site=site,
        health=health,
    )
    link.start()
    watcher = Watcher(*broker, presence_topic(site))
    try:
        assert watcher.wait_for(True, 5)  # retained: seen even though the watcher came later
        state = health.get("mqtt")
        assert state is not None and state.state == "connected"
        link.stop()
        assert watcher.wait_for(False, 5)
    finally:
        watcher.close()


def test_last_will_reports_a_vanished_process(broker: tuple[str, int]) -> None:
    site = f"test-{time.monotonic_ns()}"
    watcher = Watcher(*broker, presence_topic(site))
    script = (
        "import time\n"
        "from servicehall.config import MqttConfig\n"
        "from servicehall.platform.health import HealthBoard\n"
        "from servicehall.platform.mqtt_link import MqttLink\n"
        f"link = MqttLink(MqttConfig(host={broker[0]!r}, port={broker[1]}, keepalive_s=5), "
        f"client_id='will-{site}', site={site!r}, health=HealthBoard({site!r}, 'central'))\n"
        "link.start()\nprint('up', flush=True)\ntime.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "up"
        assert watcher.wait_for(True, 5)
        child.kill()  # no DISCONNECT is sent: the broker must publish the Last Will
        assert watcher.wait_for(False, 15)
    finally:
        child.kill()
        child.wait()
        watcher.close()


def test_unreachable_broker_is_one_clear_error() -> None:
    link = MqttLink(
        MqttConfig(host="127.0.0.1", port=1),
        client_id="nobody",
        site="x",
        health=HealthBoard("x", "central"),
    )
    with pytest.raises(ServiceUnreachable, match=r"MQTT broker at 127\.0\.0\.1:1"):
        link.start(timeout_s=2)


def test_messages_reach_a_subscriber_after_the_link_subscribes(broker: tuple[str, int]) -> None:
    site = f"test-{time.monotonic_ns()}"
    got: list[bytes] = []
    arrived = threading.Event()
    link = MqttLink(
        MqttConfig(host=broker[0], port=broker[1]),
        client_id=f"sub-{site}",
        site=site,
        health=HealthBoard(site, "central"),
    )

    def handler(_topic: str, payload: bytes) -> None:
        got.append(payload)
        arrived.set()

    link.subscribe(f"servicehall/v1/test/{site}/#", handler)
    link.start()
    try:
        publisher = mqtt.Client(CallbackAPIVersion.VERSION2)
        publisher.connect(*broker)
        publisher.loop_start()
        publisher.publish(f"servicehall/v1/test/{site}/a", b"hello", qos=1).wait_for_publish(5)
        assert arrived.wait(5)
        assert got == [b"hello"]
        publisher.disconnect()
        publisher.loop_stop()
    finally:
        link.stop()
