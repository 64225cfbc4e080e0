"""``servicehall devices`` against the simulators, as an installer would use it on site."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devices.cardreader.simulator import VISA, CardReaderSimulator
from devices.gps.simulator import GpsSimulator
from devices.ledboard.simulator import AlphaSignSimulator
from devices.printer.simulator import PrinterSimulator

pytestmark = pytest.mark.e2e
CLI = [sys.executable, "-m", "servicehall", "devices"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(
    "words",
    [[], ["list"], ["read-card"], ["print-test"], ["led-show"], ["gps-watch"], ["simulate"]],
)
def test_help(words: list[str]) -> None:
    assert run(*words, "--help").returncode == 0


def test_read_card_json(tmp_path: Path) -> None:
    simulator = CardReaderSimulator(tmp_path)
    process = subprocess.Popen(
        [*CLI, "read-card", "--port", simulator.path, "--json", "--timeout", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        while "swipe a card" not in process.stderr.readline():  # the port is open after this line
            pass
        simulator.swipe(VISA)
        out, _ = process.communicate(timeout=20)
    finally:
        simulator.close()
    assert process.returncode == 0
    card = json.loads(out)
    assert card["masked_pan"] == "411111******1111" and card["expiry"] == "12/30"
    assert VISA.pan not in out


def test_read_card_timeout_and_missing_port(tmp_path: Path) -> None:
    simulator = CardReaderSimulator(tmp_path)
    try:
        assert run("read-card", "--port", simulator.path, "--timeout", "0.5").returncode == 1
    finally:
        simulator.close()
    missing = run("read-card", "--port", str(tmp_path / "ttyNONE"), "--timeout", "0.5")
    assert missing.returncode == 3 and "not reachable" in missing.stderr


def test_print_test_page_and_paper_out(tmp_path: Path) -> None:
    simulator = PrinterSimulator(tmp_path / "paper", transport="tcp")
    try:
        result = run("print-test", "--printer", simulator.url)
        assert result.returncode == 0, result.stderr
        assert simulator.wait_for_receipts(1)
        text = (tmp_path / "paper" / "receipt-001.txt").read_text(encoding="utf-8")
        assert "请 A023 号到 3 号窗口" in text
        simulator.paper_out()
        result = run("print-test", "--printer", simulator.url)
        assert result.returncode == 4 and "paper out" in result.stderr
    finally:
        simulator.close()


def test_led_show_chinese(tmp_path: Path) -> None:
    simulator = AlphaSignSimulator(tmp_path)
    try:
        result = run(
            "led-show",
            "--port",
            simulator.path,
            "--line",
            "8N1",
            "--width",
            "200",
            "请 A023 号到 3 号窗口",
        )
        assert result.returncode == 0, result.stderr
        assert any("1" in row for row in simulator.frame())
        simulator.acks = False
        silent = run("led-show", "--port", simulator.path, "--line", "8N1", "hello")
        assert silent.returncode == 4 and "--no-ack" in silent.stderr, silent.stderr
    finally:
        simulator.close()


def test_gps_watch_prints_fixes(tmp_path: Path) -> None:
    simulator = GpsSimulator(
        [(116.3589, 39.9069), (116.3700, 39.9100)], time_scale=20, link_dir=tmp_path
    )
    try:
        result = run("gps-watch", "--port", simulator.path, "--count", "3")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.strip().splitlines()
        assert len(lines) == 3 and all("[116.3" in line and "GN" in line for line in lines)
    finally:
        simulator.close()


def test_simulate_prints_the_port_and_stops(tmp_path: Path) -> None:
    result = run("simulate", "printer", "--out", str(tmp_path), "--seconds", "0.5")
    assert result.returncode == 0
    assert f"printer on {tmp_path}/ttyPRINTER" in result.stdout


def test_print_test_on_an_unreachable_printer_is_one_clear_line(tmp_path: Path) -> None:
    result = run("print-test", "--printer", "tcp://127.0.0.1:1")
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert "cannot reach the printer at network 127.0.0.1:1" in result.stderr
