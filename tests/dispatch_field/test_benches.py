"""The field's bench harnesses run and count right (tiny runs; speed is not judged here)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.integration

BENCH = Path(__file__).parents[2] / "bench"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{name}_bench", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_gps_ingest_harness_stores_every_fix(mosquitto: tuple[str, int]) -> None:
    bench = load("gps_ingest")
    figures = bench.run(*mosquitto, 200, 20, 1.0, False, 1)
    assert len(figures.bare_per_s) == len(figures.ingest_per_s) == 1
    assert figures.bare_per_s[0] > 0 and figures.ingest_per_s[0] > 0
    assert figures.sustained["sent"] == figures.sustained["stored"] == 4  # 20 crews / 5 s, 1 s
    assert "ratio" in bench.report(figures, 200, 20)


def test_the_outage_harness_agrees_with_brute_force(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "outage_premises.py"), "--premises", "3000",
         "--repeats", "1", "--dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr  # it exits non-zero when the two disagree
    assert "3,000 premises in sqlite" in done.stdout and "goal ≤ 50 ms" in done.stdout
