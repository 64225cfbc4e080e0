"""The card-payment bench harness runs and counts right (a tiny run; speed is not judged here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.integration

BENCH = Path(__file__).parent.parent.parent / "bench" / "card_payment.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("card_payment_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_bench_harness_pays_every_payment_once(tmp_path: Path) -> None:
    bench = load_bench()
    figures = bench.run(5, 0.01, tmp_path)
    assert figures.charged_fen == figures.expected_fen == 100 + 101 + 102 + 103 + 104
    assert len(figures.payment_s) == len(figures.round_trip_s) == 5
    text = bench.report(figures)
    assert "p95" in text and "ratio" in text
