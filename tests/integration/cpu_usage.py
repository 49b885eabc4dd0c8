"""CPU seconds per test: what bounds the parallel suite on a 2-core machine.

Wall time says how long a test waited; CPU time says what it costs the other workers. Each
test's CPU (its pytest process and every child it waited for: ansible-playbook, its workers
and modules) is measured with getrusage around the test and recorded as the user property
`cpu_s` (it reaches the xdist controller with the report and the JUnit XML). The run ends
with the tests that used the most CPU, next to pytest's own --durations list.
"""

from __future__ import annotations

import resource

import pytest

TOP = 15


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


_START = pytest.StashKey[float]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_START] = _cpu()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when == "teardown" and _START in item.stash:
        # the teardown report is a test's last: setup, call and (nearly all of) teardown are in
        outcome.get_result().user_properties.append(("cpu_s", round(_cpu() - item.stash[_START], 1)))


class Collector:
    """In the process that reports (xdist controller or the single process)."""

    def __init__(self):
        self.cpu: dict[str, float] = {}

    def pytest_runtest_logreport(self, report):
        for name, value in report.user_properties:
            if name == "cpu_s":
                self.cpu[report.nodeid] = value

    def pytest_terminal_summary(self, terminalreporter):
        if not self.cpu:
            return
        total = sum(self.cpu.values())
        terminalreporter.write_sep("=", f"most CPU ({total / 60:.1f} CPU minutes in all, {len(self.cpu)} tests)")
        for nodeid, seconds in sorted(self.cpu.items(), key=lambda kv: -kv[1])[:TOP]:
            terminalreporter.write_line(f"{seconds:8.1f}s cpu  {nodeid}")


def report_in(config) -> None:
    """The report, in the process that reports (not in xdist workers)."""
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(Collector(), "s2p-cpu-usage-report")
