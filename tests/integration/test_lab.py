"""`make lab-up` on a lab that is already up changes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["vcsim", "slapd", "openbao", "bind", "pebble", "dockerd", "swarm_sites"]

pytestmark = pytest.mark.serial(reason="runs lab.py up on the shared lab: a health check slowed down by other "
                                       "tests' load would restart a service under them")


def test_second_lab_up_changes_nothing(lab):
    state = Path(lab["ca_file"]).parents[1]
    before = {p: p.stat().st_mtime_ns for p in [state / "endpoints.json", *sorted((state / "pids").glob("*.pid"))]}
    result = subprocess.run([sys.executable, str(ROOT / "lab" / "lab.py"), "up"],
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("lab: ")]
    assert [line.split()[1] for line in lines] == SERVICES
    assert all("already running" in line for line in lines), lines
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert all(" healthy " in line for line in result.stdout.splitlines() if line.split()[0] in SERVICES)
