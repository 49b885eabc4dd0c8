"""Longest tests first: the order pytest-xdist hands tests to its workers.

With N workers the run lasts at least as long as its longest test, and a long test that
starts last keeps one worker busy while the others are idle. pytest_collection_modifyitems
sorts the collected tests by their last measured duration (durations.json, seconds per test
id; a test not in it counts as DEFAULT_SECONDS), longest first; tests of one xdist_group
stay together (the group counts as the sum of its tests) and keep their relative order. The
sort is deterministic, so every xdist worker collects the same order.

S2P_TEST_ORDER=collected keeps pytest's own order; pytest-random-order (--random-order,
--random-order-bucket or --random-order-seed) takes precedence: this hook then does nothing.

Refresh durations.json from a run's JUnit XML (make integration writes .build/integration-*.xml):
    python tests/integration/schedule.py .build/integration-serial.xml .build/integration-parallel.xml
"""

from __future__ import annotations

import json
import os
import sys
from xml.etree import ElementTree
from pathlib import Path

import pytest

DURATIONS = Path(__file__).with_name("durations.json")
DEFAULT_SECONDS = 30.0


def _load() -> dict[str, float]:
    try:
        return json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        return {}


def plain_id(nodeid: str) -> str:
    """The test id without the "@group" suffix xdist's loadgroup appends."""
    at = nodeid.rfind("@")
    return nodeid[:at] if at > nodeid.rfind("]") and at > nodeid.rfind("::") else nodeid


def _group(item) -> str | None:
    marker = item.get_closest_marker("xdist_group")
    if marker is None:
        return None
    return marker.args[0] if marker.args else marker.kwargs.get("name")


def longest_first(items: list, seconds: dict[str, float]) -> list:
    """Items reordered longest first; an xdist group moves as one block of its summed time."""
    blocks: dict[str, list] = {}
    order: list[str] = []
    for item in items:
        key = _group(item) or f"test:{item.nodeid}"
        if key not in blocks:
            blocks[key] = []
            order.append(key)
        blocks[key].append(item)

    def cost(key: str) -> float:
        return sum(seconds.get(plain_id(i.nodeid), DEFAULT_SECONDS) for i in blocks[key])

    ranked = sorted(order, key=lambda key: (-cost(key), order.index(key)))
    return [item for key in ranked for item in blocks[key]]


def _random_order_active(config) -> bool:
    if not config.pluginmanager.hasplugin("random_order"):
        return False
    from random_order.config import Config  # pytest-random-order, only when it is loaded

    return Config(config).is_enabled


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    if os.environ.get("S2P_TEST_ORDER") == "collected" or _random_order_active(config):
        return
    items[:] = longest_first(items, _load())


def update(junit_files: list[str]) -> dict[str, float]:
    """durations.json from JUnit XML files (pytest --junitxml): call time per test id."""
    seconds = _load()
    root_dir = Path(__file__).resolve().parents[2]
    for path in junit_files:
        for case in ElementTree.parse(path).iter("testcase"):
            module = case.get("classname", "").replace(".", "/")
            name = plain_id(case.get("name", ""))
            # classname "tests.integration.test_x" (or with a class): the file is the module part
            parts = module.split("/")
            for cut in range(len(parts), 0, -1):
                candidate = "/".join(parts[:cut]) + ".py"
                if (root_dir / candidate).exists():
                    nodeid = "::".join([candidate, *parts[cut:], name])
                    break
            else:
                continue
            seconds[plain_id(nodeid)] = round(float(case.get("time", 0)), 1)
    DURATIONS.write_text(json.dumps(dict(sorted(seconds.items())), indent=1) + "\n")
    return seconds


if __name__ == "__main__":
    found = update(sys.argv[1:])
    print(f"{DURATIONS}: {len(found)} tests, {sum(found.values()):.0f} s in all")
