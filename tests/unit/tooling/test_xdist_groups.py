"""The integration suite relies on pytest-xdist's --dist loadgroup: a module marked
xdist_group runs on one worker (its tests share a module fixture, e.g. a scratch swarm, or
build on each other, e.g. the AWX job templates). pytest 9.2 with pytest-xdist 3.8 silently
ignores the groups; this runs a real pytest with the installed versions and checks they work."""

from __future__ import annotations

import subprocess
import sys

GROUPED = '''
import os, pytest
pytestmark = pytest.mark.xdist_group("together")
@pytest.mark.parametrize("n", range(6))
def test_grouped(n):
    with open(os.environ["LOG"], "a") as log:
        log.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")
'''
FREE = '''
import time
import pytest
@pytest.mark.parametrize("n", range(6))
def test_free(n):
    time.sleep(0.1)
'''


def test_a_group_runs_on_one_worker(tmp_path):
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    (tmp_path / "test_free.py").write_text(FREE)
    log = tmp_path / "workers.log"
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "3", "--dist", "loadgroup",
                             "-p", "no:cacheprovider", str(tmp_path)], cwd=tmp_path, capture_output=True,
                            text=True, env={"LOG": str(log), "PATH": "/usr/bin:/bin"}, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    workers = log.read_text().split()
    assert len(workers) == 6 and len(set(workers)) == 1, workers
