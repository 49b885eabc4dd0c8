"""The issue's own acceptance case: stop a real slapd, run the preflight, read what the
engineer reads (rc and the summary), then bring slapd back.  The other tests break backends
through their connection settings; this one takes a real server away: a slapd of its own
(the lab's slapd service in a scratch folder on free ports, scratch_lab.py), never the
shared lab's, which other tests use at the same time."""

from __future__ import annotations

import pytest
from scratch_lab import ScratchLab
from test_preflight import PREFLIGHT, summary_rows


@pytest.fixture
def scratch_slapd(lab):
    with ScratchLab(lab, ["slapd"], prefix="s2p-preflight-") as scratch:
        yield scratch


def test_preflight_with_slapd_stopped_fails_clearly_and_recovers(run_playbook, scratch_slapd):
    ldaps = scratch_slapd.endpoints["slapd"]["ldaps_uri"].split("//")[1]
    assert run_playbook(PREFLIGHT, envvars=scratch_slapd.env).rc == 0, "the scratch slapd is not ready"

    assert scratch_slapd.lab_py("down").returncode == 0
    assert scratch_slapd.lab_py("status").returncode != 0, "slapd still answers after lab down"
    run = run_playbook(PREFLIGHT, envvars=scratch_slapd.env)
    restored = scratch_slapd.lab_py("up")
    assert restored.returncode == 0, restored.stdout + restored.stderr

    assert run.rc != 0
    assert run.changed == 0
    rows = summary_rows(run)
    failed = [row for row in rows if row[2] == "FAIL"]
    assert {row[0] for row in failed} == {"ldap"}, failed
    assert ldaps in failed[0][3], failed[0]
    assert {row[0] for row in rows if row[2] == "OK"} == {"vsphere", "vault", "dns", "acme", "swarm"}

    again = run_playbook(PREFLIGHT, envvars=scratch_slapd.env)
    assert again.rc == 0, again.stdout[-3000:]
