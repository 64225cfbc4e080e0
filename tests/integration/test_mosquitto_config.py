"""The shipped Mosquitto config: a real mosquitto starts with it and enforces its ACL."""

from __future__ import annotations

import getpass
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from servicehall.platform.embedded_broker import free_port
from tests.conftest import service_missing

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).parents[2] / "deploy" / "mosquitto"
USERS = {
    "central": "central-secret",
    "crew-north-1-1": "phone-secret",
    "crew-north-1-2": "other-secret",
}


@pytest.fixture
def shipped_broker(tmp_path: Path) -> Iterator[int]:
    if not (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()):
        service_missing("the mosquitto binary")
    if not shutil.which("mosquitto_passwd"):
        service_missing("mosquitto_passwd")
    port = free_port()
    passwd = tmp_path / "passwd"
    passwd.touch()
    for user, password in USERS.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True)
    shutil.copy(DEPLOY / "servicehall.acl", tmp_path / "acl")
    conf = (DEPLOY / "servicehall.conf").read_text()
    # Only what a test machine must change: paths, the port, no TLS certificates, log to a file.
    conf = conf.replace("/var/lib/mosquitto/", f"{tmp_path}/")
    conf = conf.replace("/etc/mosquitto/servicehall.passwd", str(passwd))
    conf = conf.replace("/etc/mosquitto/servicehall.acl", str(tmp_path / "acl"))
    conf = conf.replace("listener 1883 127.0.0.1", f"listener {port} 127.0.0.1")
    conf = re.sub(r"listener 8883\n(?:(?:certfile|keyfile|tls_version).*\n)+", "", conf)
    conf = conf.replace("log_dest syslog", f"log_dest file {tmp_path}/mosquitto.log")
    # Started as root, mosquitto would drop to the "mosquitto" user, who cannot read tmp_path.
    conf += f"\nuser {getpass.getuser()}\n"
    (tmp_path / "mosquitto.conf").write_text(conf)
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    process = subprocess.Popen([binary, "-c", str(tmp_path / "mosquitto.conf")])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        probe = mqtt.Client(CallbackAPIVersion.VERSION2)
        try:
            probe.connect("127.0.0.1", port)
            probe.disconnect()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(
            f"mosquitto did not start with the shipped config: {(tmp_path / 'mosquitto.log').read_text()}"
        )
    yield port
    process.terminate()
    process.wait(10)


def _client(
    port: int, user: str | None, password: str | None
) -> tuple[mqtt.Client, list[str], int]:
    received: list[str] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{user}-{time.monotonic_ns()}")
    if user:
        client.username_pw_set(user, password)
    client.on_message = lambda _c, _u, m: received.append(m.topic)
    result: list[int] = []
    client.on_connect = lambda _c, _u, _f, rc, _p: result.append(rc.value)
    client.connect("127.0.0.1", port)
    client.loop_start()
    deadline = time.monotonic() + 5
    while not result and time.monotonic() < deadline:
        time.sleep(0.02)
    return client, received, result[0] if result else -1


def test_anonymous_clients_are_refused(shipped_broker: int) -> None:
    client, _, code = _client(shipped_broker, None, None)
    client.loop_stop()
    assert code != 0


def test_a_technician_sees_only_their_own_orders(shipped_broker: int) -> None:
    central, _, code = _client(shipped_broker, "central", USERS["central"])
    assert code == 0
    mine, mine_got, code = _client(shipped_broker, "crew-north-1-1", USERS["crew-north-1-1"])
    assert code == 0
    mine.subscribe("servicehall/v1/technicians/#", qos=1)
    time.sleep(0.3)
    for tech in ("crew-north-1-1", "crew-north-1-2"):
        central.publish(
            f"servicehall/v1/technicians/{tech}/orders/WO1", b"{}", qos=1
        ).wait_for_publish(5)
    # The phone cannot pose as another technician either.
    mine.publish("owntracks/crew-north-1-2/phone", b"{}", qos=1)
    central.subscribe("owntracks/#", qos=1)
    time.sleep(1.0)
    assert mine_got == ["servicehall/v1/technicians/crew-north-1-1/orders/WO1"]
    for client in (central, mine):
        client.disconnect()
        client.loop_stop()
