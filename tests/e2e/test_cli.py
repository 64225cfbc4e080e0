"""Drive the ``servicehall`` command as an operator would."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

CLI = [sys.executable, "-m", "servicehall"]


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


SUBCOMMANDS = [
    [],
    ["db"],
    ["db", "upgrade"],
    ["db", "current"],
    ["seed"],
    ["central"],
    ["hall"],
    ["demo"],
    ["device-token"],
    ["report"],
    ["report", "hall"],
    ["devices"],
    ["terminals"],
    ["terminals", "list"],
    ["terminals", "revoke"],
    ["staff"],
    ["staff", "add"],
    ["staff", "set-pin"],
    ["staff", "unlock"],
    ["staff", "list"],
]


@pytest.mark.parametrize("words", SUBCOMMANDS, ids=lambda w: " ".join(w) or "root")
def test_every_subcommand_has_help(words: list[str]) -> None:
    result = run(*words, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_demo_headless_comes_up_and_stops_by_itself(tmp_path: Path) -> None:
    result = run(
        "demo",
        "--headless",
        "--minutes",
        "0.1",
        "--premises",
        "200",
        "--data-dir",
        str(tmp_path / "demo"),
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"central listening on http://127\.0\.0\.1:\d+", result.stdout)
    assert re.search(r"hall hall-xicheng listening on http://127\.0\.0\.1:\d+", result.stdout)
    assert "mqtt://127.0.0.1:" in result.stdout
    demo = tmp_path / "demo"
    health = json.loads((demo / "health.json").read_text())
    assert health["central"]["components"]["mqtt"]["detail"].startswith("127.0.0.1:")
    assert health["hall hall-xicheng"]["components"]["central"]["state"] == "connected"
    assert health["hall hall-xicheng"]["components"]["led_board"]["state"] == "connected"
    assert "Traceback" not in result.stderr
    # The hall day ran: the board was photographed, receipts printed, the report written.
    assert list((demo / "board").glob("board-*.png"))
    assert "您前面还有" in (demo / "receipts" / "receipt-001.txt").read_text(encoding="utf-8")
    report = next((demo / "report").glob("hall-report-*.html")).read_text(encoding="utf-8")
    assert "缴费 Bill payment" in report and "<svg" in report


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("servicehall: error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_wrong_config_key_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "servicehall.toml"
    config.write_text('[database]\nulr = "sqlite:///x.db"\n')
    result = run("--config", str(config), "central")
    assert result.returncode == 2
    assert "database.ulr" in _one_line_error(result)


def test_unreachable_database_is_named(tmp_path: Path) -> None:
    result = run(
        "central",
        env={"SERVICEHALL_DATABASE__URL": "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"},
    )
    assert result.returncode == 3
    line = _one_line_error(result)
    assert "cannot reach the database at postgresql+psycopg://postgres@127.0.0.1:1/nowhere" in line


def test_unreachable_broker_is_named(tmp_path: Path) -> None:
    env = {"SERVICEHALL_PATHS__DATA_DIR": str(tmp_path)}
    assert run("seed", "--premises", "0", env=env).returncode == 0
    result = run(
        "central", env={**env, "SERVICEHALL_MQTT__MODE": "external", "SERVICEHALL_MQTT__PORT": "1"}
    )
    assert result.returncode == 3
    assert "MQTT broker at 127.0.0.1:1" in _one_line_error(result)


def test_unknown_site_says_what_to_do(tmp_path: Path) -> None:
    result = run(
        "hall", "--site", "hall-nowhere", env={"SERVICEHALL_PATHS__DATA_DIR": str(tmp_path)}
    )
    assert "run `servicehall seed`" in _one_line_error(result)


def _start(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """Start a process and return it with the URL it announces; fail (never hang) if it does not."""
    # A file, so a chatty child never blocks on a full pipe; closed when the test's process ends.
    errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
    process = subprocess.Popen(
        [*CLI, *args], stdout=subprocess.PIPE, stderr=errors, text=True, env={**os.environ, **env}
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([process.stdout], [], [], left)
        if not ready:
            break
        line = process.stdout.readline()
        found = re.search(r"listening on (https?://\S+)", line)
        if found:
            return process, found.group(1)
        if not line and process.poll() is not None:
            break
    process.kill()
    errors.seek(0)
    pytest.fail(f"did not come up: {errors.read()[-2000:]}")


def test_hall_serves_health_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {
        "SERVICEHALL_PATHS__DATA_DIR": str(tmp_path),
        "SERVICEHALL_HALL__CENTRAL_URL": "http://127.0.0.1:1",
    }
    assert run("seed", "--site", "hall-xicheng", "--premises", "100", env=env).returncode == 0
    process, url = _start(["hall", "--site", "hall-xicheng", "--port", "0"], env)
    try:
        health = httpx.get(f"{url}/health", timeout=5).json()
        assert health["site"] == "hall-xicheng"
        assert health["components"]["database"]["state"] == "connected"
        # Central is down: the hall says so and keeps serving.
        deadline = time.monotonic() + 10
        while (
            health["components"]["central"]["state"] != "disconnected"
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
            health = httpx.get(f"{url}/health", timeout=5).json()
        assert health["components"]["central"]["state"] == "disconnected"
        assert health["status"] == "degraded"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    database = tmp_path / "hall-xicheng.db"
    wal = tmp_path / "hall-xicheng.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # folded back into the main file
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("SELECT count(*) FROM premises").fetchone() == (100,)


def test_central_with_mosquitto_says_goodbye_on_sigterm(
    tmp_path: Path, mosquitto: tuple[str, int]
) -> None:
    env = {
        "SERVICEHALL_PATHS__DATA_DIR": str(tmp_path),
        "SERVICEHALL_MQTT__MODE": "external",
        "SERVICEHALL_MQTT__HOST": mosquitto[0],
        "SERVICEHALL_MQTT__PORT": str(mosquitto[1]),
    }
    assert run("db", "upgrade", env=env).returncode == 0
    assert run("seed", "--premises", "10", env=env).returncode == 0
    process, url = _start(["central", "--port", "0"], env)
    try:
        health = httpx.get(f"{url}/health", timeout=5).json()
        assert health["components"]["mqtt"]["state"] == "connected"
        assert health["status"] == "ok"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 0


def test_hall_serves_https_when_given_a_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "hall.crt", tmp_path / "hall.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    env = {
        "SERVICEHALL_PATHS__DATA_DIR": str(tmp_path),
        "SERVICEHALL_HALL__CENTRAL_URL": "http://127.0.0.1:1",
        "SERVICEHALL_HALL__HTTP__TLS_CERT": str(cert),
        "SERVICEHALL_HALL__HTTP__TLS_KEY": str(key),
    }
    assert run("seed", "--site", "hall-xicheng", "--premises", "0", env=env).returncode == 0
    process, url = _start(["hall", "--site", "hall-xicheng", "--port", "0"], env)
    try:
        assert url.startswith("https://127.0.0.1:")
        assert (
            httpx.get(
                f"{url}/health", verify=ssl.create_default_context(cafile=str(cert)), timeout=5
            ).status_code
            == 200
        )
        with pytest.raises(httpx.HTTPError):
            httpx.get(
                url.replace("https://", "http://") + "/health", timeout=5
            )  # no clear-text fallback
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0


def test_tls_settings_are_checked(tmp_path: Path) -> None:
    half = run(
        "hall",
        env={
            "SERVICEHALL_PATHS__DATA_DIR": str(tmp_path),
            "SERVICEHALL_HALL__HTTP__TLS_CERT": str(tmp_path / "missing.crt"),
        },
    )
    assert half.returncode == 2
    assert "hall.http" in _one_line_error(half)
