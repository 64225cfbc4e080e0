"""``servicehall gps-bridge``: a van's NMEA GPS unit as one more OwnTracks device.

Many service vans carry a GPS unit on a serial port (NMEA 0183: GGA + RMC once a second;
``devices.gps``). The bridge runs on the van's computer and publishes the OwnTracks
booklet's ``location`` JSON on ``owntracks/<user>/<device>`` at QoS 1 — the same messages a
technician's phone sends — so central's GPS ingest needs nothing special for vans. ``<user>``
is the technician's ``tracker_user`` (the driver's, or the crew leader's) and is also the
MQTT user name: the broker's ACL lets a user write only its own ``owntracks/<user>/…``.

Field by field: ``lat``/``lon`` from RMC (WGS-84, as GPS reports it); ``tst`` the RMC's UTC
date and time, whole seconds; ``vel`` RMC speed over ground, knots → km/h; ``cog`` RMC course;
``t`` = ``t`` (timer: a fix published on the bridge's schedule) or ``r`` (answering central's
``reportLocation`` command). ``acc`` is left out: NMEA gives HDOP, a ratio, not metres, and a
made-up accuracy would be worse than none. Like the OwnTracks apps, the bridge sets a Last
Will (``_type: lwt``) so central sees the van vanish.

While the broker is unreachable paho keeps up to ``MAX_QUEUED`` fixes and sends them on
reconnect (central stores the track, and keeps the live position on the newest).

Exit codes: 0 done (``--count`` reached, or Ctrl-C); 3 the GPS unit or the broker cannot
be reached at start.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from servicehall.cli.root import settings_of

if TYPE_CHECKING:
    from devices.gps.unit import Fix as GpsFix

log = logging.getLogger(__name__)

MAX_QUEUED = 10_000  # about 14 hours at one fix per 5 s
UNREACHABLE = 3


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool


def parse_broker(url: str) -> BrokerAddress:
    """``mqtt://host[:1883]`` or ``mqtts://host[:8883]``; a bare ``host[:port]`` is mqtt://."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise click.BadParameter(f"{url!r}: expected mqtt://host:port or mqtts://host:port")
    if parts.path not in ("", "/") or parts.query or parts.username:
        raise click.BadParameter(f"{url!r}: give only the scheme, host and port")
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as err:
        raise click.BadParameter(f"{url!r}: {err}") from err
    return BrokerAddress(parts.hostname, port, tls)


@dataclass
class Throttle:
    """Passes one fix per ``every`` of GPS time (the unit's clock, not ours)."""

    every: timedelta
    _last: datetime | None = None

    def passes(self, when: datetime) -> bool:
        if self._last is not None and when - self._last < self.every and when >= self._last:
            return False
        self._last = when
        return True


def bridge(
    fixes: Iterable[GpsFix],
    publish: Callable[[bytes], None],
    *,
    user: str,
    device: str,
    every: timedelta,
    count: int = 0,
    asked: threading.Event | None = None,
) -> int:
    """Publish the unit's fixes as OwnTracks locations; returns how many went out.

    ``asked`` is set when central asked for a
    position now (``reportLocation``): the next fix goes out at once, marked ``t: r``.
    """
    from field_dispatch import owntracks

    throttle = Throttle(every)
    sent = 0
    for fix in fixes:
        answering = asked is not None and asked.is_set()
        if not (answering or throttle.passes(fix.when)):
            continue
        if asked is not None:
            asked.clear()
        publish(
            owntracks.to_owntracks(
                owntracks.Fix(
                    user=user,
                    device=device,
                    at=fix.when,
                    lon=fix.lon,
                    lat=fix.lat,
                    vel_kmh=fix.speed_kmh,
                    cog_deg=fix.course_deg,
                    trigger="r" if answering else "t",
                )
            )
        )
        sent += 1
        if count and sent >= count:
            break
    return sent


def _fail(message: str) -> None:
    click.echo(f"servicehall gps-bridge: {message}", err=True)
    sys.exit(UNREACHABLE)


@click.command("gps-bridge")
@click.option("--port", required=True, help="Serial port or pyserial URL of the van's GPS unit.")
@click.option(
    "--user",
    required=True,
    help="OwnTracks user: the technician's tracker_user; also the MQTT user name.",
)
@click.option("--device", default="van", show_default=True, help="OwnTracks device name.")
@click.option(
    "--broker",
    help="mqtt://host:port or mqtts://host:port (default: mqtt.host and mqtt.port from config).",
)
@click.option("--baud", default=9600, show_default=True)
@click.option(
    "--every",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    help="Seconds between published fixes (the unit reports every second).",
)
@click.option("--count", default=0, help="Stop after this many published fixes (0: run on).")
@click.pass_context
def gps_bridge(
    ctx: click.Context,
    port: str,
    user: str,
    device: str,
    broker: str | None,
    baud: int,
    every: float,
    count: int,
) -> None:
    """Publish a van's GPS unit (NMEA) as OwnTracks positions on owntracks/<user>/<device>.

    The MQTT password comes from SERVICEHALL_MQTT__PASSWORD (or the config file), never
    from the command line.
    """
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from devices.errors import DeviceConnectionError, DeviceTimeout
    from devices.gps.unit import GpsUnit
    from field_dispatch import owntracks

    settings = settings_of(ctx)
    where = (
        parse_broker(broker)
        if broker
        else BrokerAddress(settings.mqtt.host, settings.mqtt.port, settings.mqtt.tls)
    )
    try:
        topic = owntracks.topic_for(user, device)
    except ValueError as err:
        raise click.BadParameter(str(err)) from err

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"gps-bridge-{user}-{device}", clean_session=False
    )
    client.username_pw_set(user, settings.mqtt.password or None)
    if where.tls:
        client.tls_set()
    # As the OwnTracks apps do: the will's tst is when this connection was made.
    will = json.dumps({"_type": "lwt", "tst": int(time.time())}).encode()
    client.will_set(topic, will, qos=1, retain=False)
    client.max_queued_messages_set(MAX_QUEUED)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    asked = threading.Event()
    connected = threading.Event()
    refused: list[str] = []

    def on_connect(c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            refused.append(str(reason))
            return
        c.subscribe(f"{topic}/cmd", qos=1)  # central may ask for a position now
        connected.set()

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        try:
            command = json.loads(message.payload)
        except ValueError:
            return
        if isinstance(command, dict) and command.get("action") == "reportLocation":
            asked.set()

    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect(where.host, where.port, keepalive=60)
    except OSError as err:
        _fail(f"cannot reach the MQTT broker at {where.host}:{where.port}: {err}")
    client.loop_start()
    if not connected.wait(10):
        client.loop_stop()
        _fail(
            f"the MQTT broker at {where.host}:{where.port} did not accept us"
            f"{': ' + refused[0] if refused else ''}"
        )

    unit = GpsUnit(port, baudrate=baud)
    pending: list[mqtt.MQTTMessageInfo] = []

    def publish(payload: bytes) -> None:
        pending.append(client.publish(topic, payload, qos=1))
        del pending[:-MAX_QUEUED]

    try:
        unit.open()
        click.echo(f"bridging {port} to {topic} on {where.host}:{where.port}", err=True)
        while True:
            try:
                bridge(
                    unit.fixes(silence_timeout_s=10),
                    publish,
                    user=user,
                    device=device,
                    every=timedelta(seconds=every),
                    count=count,
                    asked=asked,
                )
                break  # --count reached
            except DeviceTimeout:
                log.warning("no NMEA from %s for 10 s; still waiting", port)
    except DeviceConnectionError as err:
        _fail(f"GPS unit not reachable: {err}")
    except KeyboardInterrupt:
        pass
    finally:
        unit.close()
        for info in pending[-100:]:  # the last few: out before we say goodbye
            try:
                info.wait_for_publish(2)
            except (ValueError, RuntimeError):
                break  # not connected any more: they stay unsent
        client.disconnect()
        client.loop_stop()


def register(cli: click.Group) -> None:
    cli.add_command(gps_bridge)
