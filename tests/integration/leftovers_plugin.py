"""The leftover check as a pytest plugin: a snapshot of the shared lab before the first test and
another after the last one; objects this run left behind fail the run (leftovers_report.py says
which ones count). conftest.py registers it and hands it every name prefix the `prefix` fixture
gives out (record_prefix).

Under pytest-xdist only the controlling process checks: workers (they have config.workerinput)
run the tests and send their prefixes to the controller in config.workeroutput, which xdist
delivers with pytest_testnodedown. Without xdist the one process does both.

S2P_LEFTOVER_CHECK=0 turns the check off, =strict fails on every new object (see leftovers_report)."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from leftovers_report import compare, failed, report

PREFIXES = pytest.StashKey[set]()
WORKEROUTPUT_KEY = "s2p_leftover_prefixes"


def record_prefix(config: pytest.Config, prefix: str) -> None:
    """Remember a prefix this run gave to a test (in a worker: for the controller too)."""
    prefixes = config.stash.setdefault(PREFIXES, set())
    prefixes.add(prefix)
    if hasattr(config, "workeroutput"):
        config.workeroutput[WORKEROUTPUT_KEY] = sorted(prefixes)


def register(config: pytest.Config, take_snapshot: Callable[[], dict]) -> None:
    """Install the check in the controlling process, unless S2P_LEFTOVER_CHECK=0.
    take_snapshot() returns {backend: leftovers_report.Reading} (leftovers.snapshot on the lab)."""
    mode = os.environ.get("S2P_LEFTOVER_CHECK", "1").strip().lower()
    if mode in ("0", "no", "false", "off") or hasattr(config, "workerinput"):
        return
    if not config.pluginmanager.has_plugin("s2p-leftovers"):
        config.pluginmanager.register(LeftoverCheck(take_snapshot, strict=mode == "strict"), "s2p-leftovers")


class LeftoverCheck:
    def __init__(self, take_snapshot: Callable[[], dict], strict: bool = False):
        self.take_snapshot, self.strict = take_snapshot, strict
        self.before = None
        self.worker_prefixes: set[str] = set()
        self.lines: list[str] = []

    def _snapshot(self) -> dict | None:
        try:
            return self.take_snapshot()
        except OSError as error:  # no endpoints.json: the lab is not up (the tests say so too)
            self.lines = [f"leftovers: not checked: {error}"]
            return None

    # The first snapshot is taken here, not in pytest_sessionstart: this hook runs before the
    # first test both without xdist and in xdist's controller (whose own runtestloop schedules
    # the tests), and also when conftest.py was loaded late, during collection (`pytest tests`).
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        if session.config.option.collectonly:
            return
        self.before = self._snapshot()

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        """xdist: a worker finished; keep the prefixes its tests were given."""
        self.worker_prefixes.update(getattr(node, "workeroutput", {}).get(WORKEROUTPUT_KEY, []))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.before is None:
            return
        after = self._snapshot()
        if after is None:
            return
        own = session.config.stash.get(PREFIXES, set()) | self.worker_prefixes
        changes = [compare(backend, self.before[backend], after[backend], own, self.strict) for backend in self.before]
        self.lines = report(changes)
        if failed(changes) and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        """Printed after pytest_sessionfinish (the terminal reporter calls this hook after it)."""
        for line in self.lines:
            terminalreporter.write_line(line, red="LEFT BEHIND" in line or "FAILED" in line,
                                        yellow="WARNING" in line or "NOT CHECKED" in line)
