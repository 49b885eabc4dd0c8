"""The leftover check's pytest plugin (tests/integration/leftovers_plugin.py) in real pytest runs,
with and without pytest-xdist, on a stand-in "lab": a folder whose file names are the objects.
It shows that only the controlling process checks, that prefixes given out in xdist workers
reach it, and that the exit status follows. No server."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

INTEGRATION = Path(__file__).resolve().parents[1] / "integration"

CONFTEST = """
import secrets
from pathlib import Path

import pytest
from leftovers_plugin import record_prefix, register
from leftovers_report import Reading

LAB = Path(__file__).with_name("lab")
LAB.mkdir(exist_ok=True)
(LAB / "policy s2p-neocc-ire").touch()


def pytest_configure(config):
    register(config, lambda: {"fake": Reading(frozenset(p.name for p in LAB.iterdir()))})


@pytest.fixture
def prefix(request):
    value = "t" + secrets.token_hex(3)
    record_prefix(request.config, value)
    return value


@pytest.fixture
def lab_dir():
    return LAB
"""

TESTS = """
def test_clean(prefix, lab_dir):
    made = lab_dir / f"vm {prefix}-a"
    made.touch()
    made.unlink()


def test_other_run_meanwhile(lab_dir):
    (lab_dir / "kv s2p/t0000aa-x".replace("/", "_")).touch()


def test_{n}(prefix, lab_dir):
    pass
"""


@pytest.fixture
def suite(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(INTEGRATION))
    monkeypatch.delenv("S2P_LEFTOVER_CHECK", raising=False)
    pytester.makeconftest(CONFTEST)
    # a few modules, so that xdist spreads the tests over both workers
    pytester.makepyfile(**{f"test_m{n}": TESTS.replace("{n}", str(n)) for n in range(4)})
    return pytester


def leftover_test(pytester) -> None:
    pytester.makepyfile(test_leaves="def test_leaves(prefix, lab_dir):\n    (lab_dir / f'vm {prefix}-b').touch()\n")


def lines(result) -> list[str]:
    return [line for line in result.outlines if line.startswith(("leftovers:", "    "))]


@pytest.mark.parametrize("xdist", [[], ["-p", "xdist", "-n", "2"]], ids=["one process", "xdist"])
def test_a_clean_run_passes_and_counts_other_runs(suite, xdist):
    result = suite.runpytest_subprocess(*xdist)
    assert result.ret == 0, result.outlines
    assert lines(result) == ["leftovers: fake 0 new from this run (1 before, 2 after; other runs: 1 new, 0 gone)"]


@pytest.mark.parametrize("xdist", [[], ["-p", "xdist", "-n", "2"]], ids=["one process", "xdist"])
def test_a_leftover_fails_the_run_once(suite, xdist):
    leftover_test(suite)
    result = suite.runpytest_subprocess(*xdist)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=13)
    found = lines(result)
    assert found[0] == "leftovers: fake 1 new from this run (1 before, 3 after; other runs: 1 new, 0 gone)"
    assert found[1] == "leftovers: fake LEFT BEHIND by this run (1):"
    assert found[2].startswith("    vm t") and found[2].endswith("-b")
    assert found[3].startswith("leftovers: FAILED")
    assert len(found) == 4  # the controller reports, the workers do not


def test_the_check_can_be_turned_off(suite, monkeypatch):
    leftover_test(suite)
    monkeypatch.setenv("S2P_LEFTOVER_CHECK", "0")
    result = suite.runpytest_subprocess("-p", "xdist", "-n", "2")
    assert result.ret == 0
    assert lines(result) == []
