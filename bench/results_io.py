"""Write and print benchmark results in the one format every benchmark shares.

A result is one object, or a list of objects, each with
``name, n, phase ("first" | "rerun" | "check"), ours_s, anchor, anchor_s, ratio`` where
``ratio = anchor_s / ours_s`` (higher is better for us), plus optional extra figures
such as request counts.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
PHASES = ("first", "rerun", "check")  # check: a check-mode run after a known drift (bench_scale.py)


def result(name: str, n: int, phase: str, ours_s: float, anchor: str, anchor_s: float, **extra) -> dict:
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {', '.join(PHASES)}, not {phase!r}")
    return {"name": name, "n": n, "phase": phase, "ours_s": round(ours_s, 3), "anchor": anchor,
            "anchor_s": round(anchor_s, 3), "ratio": _ratio(anchor_s, ours_s), **extra}


def _ratio(anchor_s: float, ours_s: float) -> float | None:
    """anchor / ours, one decimal, or two below 1 (a floor anchor gives 0.07, not 0.1)."""
    if not ours_s:
        return None
    ratio = anchor_s / ours_s
    return round(ratio, 1) if ratio >= 1 else round(ratio, 2)


def write(name: str, results: list[dict]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(results[0] if len(results) == 1 else results, indent=2) + "\n")
    for item in results:
        print(f"{item['name']:<24} n={item['n']:<6} {item['phase']:<6} ours {item['ours_s']:>8.2f}s  "
              f"{item['anchor']} {item['anchor_s']:>8.2f}s  ratio {item['ratio']}")
    return path


@contextmanager
def timer():
    """with timer() as t: ...; t() -> elapsed seconds."""
    start = time.perf_counter()
    end = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())
