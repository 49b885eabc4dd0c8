"""The issue's own acceptance case: stop the lab's slapd for real, run the preflight, read
what the engineer reads (rc and the summary), then bring slapd back.  The other tests break
backends through their connection settings; this one takes a real server away."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from test_preflight import PREFLIGHT, summary_rows

ROOT = Path(__file__).resolve().parents[2]


def lab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "lab" / "lab.py"), *args],
                          capture_output=True, text=True, timeout=300, check=False)


def test_preflight_with_slapd_stopped_fails_clearly_and_recovers(run_playbook):
    assert lab("down", "slapd").returncode == 0
    try:
        assert lab("status", "slapd").returncode != 0, "slapd still answers after lab down"
        run = run_playbook(PREFLIGHT)
    finally:
        restored = lab("up", "slapd")
    assert restored.returncode == 0, restored.stdout + restored.stderr

    assert run.rc != 0
    assert run.changed == 0
    rows = summary_rows(run)
    failed = [row for row in rows if row[2] == "FAIL"]
    assert {row[0] for row in failed} == {"ldap"}, failed
    assert "127.0.0.1:10636" in failed[0][3], failed[0]
    assert {row[0] for row in rows if row[2] == "OK"} == {"vsphere", "vault", "dns", "acme", "swarm"}

    again = run_playbook(PREFLIGHT)
    assert again.rc == 0, again.stdout[-3000:]
