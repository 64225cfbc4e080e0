"""The process's MQTT connection: presence with Last Will, reconnects, health.

paho-mqtt 2 with ``CallbackAPIVersion.VERSION2``. Subscriptions are (re)made in
``on_connect`` so that a reconnect never leaves the process deaf.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from servicedb.types import utcnow
from servicehall.config import MqttConfig
from servicehall.errors import ServiceUnreachable
from servicehall.platform.health import HealthBoard

log = logging.getLogger(__name__)

TOPIC_ROOT = "servicehall/v1"

MessageHandler = Callable[[str, bytes], None]


def presence_topic(site: str) -> str:
    return f"{TOPIC_ROOT}/sites/{site}/presence"


def _presence(online: bool) -> bytes:
    return json.dumps({"online": online, "tst": int(utcnow().timestamp())}).encode()


class MqttLink:
    """One paho client per process. ``start`` fails fast if the broker cannot be reached."""

    def __init__(
        self, config: MqttConfig, *, client_id: str, site: str, health: HealthBoard
    ) -> None:
        self._config = config
        self._site = site
        self._health = health
        self._subscriptions: dict[str, tuple[int, MessageHandler]] = {}
        self._connected = threading.Event()
        self._connect_error: str | None = None
        self._stopping = False
        # Subscriptions are live only once the broker acknowledges them (SUBACK).
        self._subscribed = threading.Event()
        self._pending_subacks: set[int] = set()
        self._pending_lock = threading.Lock()
        # A persistent session (clean_session False) keeps QoS 1 messages for us while away.
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False
        )
        if config.username:
            self._client.username_pw_set(config.username, config.password or None)
        if config.tls:
            self._client.tls_set()
        self._client.will_set(presence_topic(site), _presence(False), qos=1, retain=True)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe

    @property
    def where(self) -> str:
        return f"{self._config.host}:{self._config.port}"

    def subscribe(self, topic: str, handler: MessageHandler, qos: int = 1) -> None:
        self._subscriptions[topic] = (qos, handler)
        if self._connected.is_set():
            self._client.subscribe(topic, qos)

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=qos, retain=retain)

    def start(self, timeout_s: float = 5.0) -> None:
        try:
            self._client.connect(self._config.host, self._config.port, self._config.keepalive_s)
        except OSError as err:
            raise ServiceUnreachable(
                f"cannot reach the MQTT broker at {self.where}: {err.strerror or err}"
            ) from err
        self._client.loop_start()
        # Connected, and every subscription acknowledged: nothing published after start() is missed.
        if not (self._connected.wait(timeout_s) and self._subscribed.wait(timeout_s)):
            self._client.loop_stop()
            reason = self._connect_error or f"no answer within {timeout_s:g} s"
            raise ServiceUnreachable(f"cannot connect to the MQTT broker at {self.where}: {reason}")

    def stop(self) -> None:
        self._stopping = True
        if self._connected.is_set():
            # Say goodbye ourselves: the Last Will is only for when we vanish.
            self._client.publish(
                presence_topic(self._site), _presence(False), qos=1, retain=True
            ).wait_for_publish(2)
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason: ReasonCode,
        _props: object,
    ) -> None:
        if reason.is_failure:
            self._connect_error = str(reason)
            self._health.set("mqtt", "disconnected", f"{self.where}: {reason}")
            return
        with self._pending_lock:
            for topic, (qos, _handler) in self._subscriptions.items():
                _result, mid = client.subscribe(topic, qos)
                if mid is not None:
                    self._pending_subacks.add(mid)
            if not self._pending_subacks:
                self._subscribed.set()
        client.publish(presence_topic(self._site), _presence(True), qos=1, retain=True)
        self._health.set("mqtt", "connected", self.where)
        self._connected.set()

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: object, mid: int, _codes: object, _props: object
    ) -> None:
        with self._pending_lock:
            self._pending_subacks.discard(mid)
            if not self._pending_subacks:
                self._subscribed.set()

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason: ReasonCode,
        _props: object,
    ) -> None:
        self._connected.clear()
        if self._stopping:
            self._health.set("mqtt", "stopped", self.where)
        else:
            self._health.set("mqtt", "disconnected", f"{self.where}: {reason}")

    def _on_message(
        self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        for pattern, (_qos, handler) in self._subscriptions.items():
            if mqtt.topic_matches_sub(pattern, message.topic):
                try:
                    handler(message.topic, bytes(message.payload))
                except Exception:
                    # A bad payload must not kill the network thread; it is logged and dropped.
                    log.exception("handler for %s failed on a message", pattern)
