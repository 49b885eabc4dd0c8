"""bench/ is a folder of scripts, not a package: its modules are loaded from their files for the
unit tests of bench/report.py and bench/plots.py, with the fixtures those tests read."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bench_results"


def load(name: str):
    """The module bench/<name>.py."""
    spec = importlib.util.spec_from_file_location(f"s2p_bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
