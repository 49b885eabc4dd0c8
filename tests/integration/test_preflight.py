"""playbooks/preflight.yml and site.yml on the lab: all six backends checked, one summary,
failure at the end listing every problem. Backends are broken by pointing their connection
at a closed port through extra vars; the shared lab services are never stopped."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from site_helpers import cleanup, prefixed_model

ROOT = Path(__file__).resolve().parents[2]
PREFLIGHT = ROOT / "playbooks" / "preflight.yml"
SITE = ROOT / "playbooks" / "site.yml"
BACKENDS = ["vsphere", "ldap", "vault", "dns", "acme", "swarm"]
SUMMARY = "Preflight | summary"
STOP = "Preflight | stop when a backend is not ready"


def summary_rows(run) -> list[tuple[str, str, str, str]]:
    """(backend, check, OK/FAIL, message) rows of the summary table."""
    text = run.result(SUMMARY)["msg"]
    rows = []
    for line in text.splitlines()[1:]:
        match = re.match(r"^(\S+)\s+(.+?)\s+(OK|FAIL)\s+(.*)$", line)
        if match:
            rows.append(match.groups())
    return rows


@pytest.fixture(scope="module")
def ldap_connection(lab) -> dict:
    """The lab inventory's s2p_ldap_connection, resolved, to override one field of it."""
    slapd = lab["slapd"]
    return {"server_uri": slapd["ldaps_uri"], "bind_dn": slapd["admin_dn"],
            "bind_pw": Path(slapd["admin_password_file"]).read_text().strip(), "ca_path": lab["ca_file"]}


@pytest.mark.smoke
@pytest.mark.parametrize("check", [False, True], ids=["run", "check_mode"])
def test_healthy_lab_passes(run_playbook, check):
    run = run_playbook(PREFLIGHT, check=check)
    assert run.rc == 0, run.stdout[-4000:]
    assert run.changed == 0 and run.failed == 0
    rows = summary_rows(run)
    assert [b for b in BACKENDS if b not in {r[0] for r in rows}] == []
    assert all(r[2] == "OK" for r in rows), rows
    assert {"datacenters", "templates", "entries", "mounts", "manager quorum"} <= {r[1] for r in rows}
    assert run.result(SUMMARY)["msg"].rstrip().endswith("all ready")
    # each backend's health module ran on its own in-memory host (at the same time, strategy free)
    ran = {(e["event_data"]["host"], e["event_data"]["task_action"]) for e in run.events
           if e.get("event") == "runner_on_ok" and e["event_data"].get("task_action", "").endswith("_health")}
    assert ran == {(f"s2p-preflight-{b}", f"esa.s2p.{b}_health") for b in BACKENDS}, ran


def test_one_broken_backend_fails_at_the_end_and_the_others_are_reported(run_playbook, ldap_connection,
                                                                         closed_port):
    broken = dict(ldap_connection, server_uri="ldaps://127.0.0.1:%d" % closed_port)
    run = run_playbook(PREFLIGHT, extravars={"s2p_ldap_connection": broken})
    assert run.rc != 0
    assert run.failed == 1 and run.changed == 0
    rows = summary_rows(run)
    failed = [r for r in rows if r[2] == "FAIL"]
    assert [(r[0], r[1]) for r in failed] == [("ldap", "reachable")]
    assert "cannot reach LDAP server 127.0.0.1:%d (connection refused)" % closed_port in failed[0][3]
    assert "Check server_uri" in failed[0][3]
    for backend in BACKENDS:  # every other backend ran and was reported healthy
        if backend != "ldap":
            assert any(r[0] == backend and r[2] == "OK" for r in rows), backend
    stop = run.result(STOP)["msg"]
    assert "1 problem(s)" in stop and "ldap reachable: cannot reach LDAP server 127.0.0.1:%d" % closed_port in stop
    assert ldap_connection["bind_pw"] not in run.stdout


def test_a_module_that_raises_does_not_hide_the_other_backends(run_playbook, lab, closed_port):
    """An invalid Vault connection makes vault_health fail (not just report unhealthy): rescued,
    recorded as a failed check, and the backends after it still run."""
    run = run_playbook(PREFLIGHT, extravars={
        "s2p_vault_connection": {"url": lab["openbao"]["url"], "auth_method": "kerberos"},
        "s2p_dns_connection": {"server": "127.0.0.1", "port": closed_port, "timeout": 1},
    })
    assert run.rc != 0
    rows = summary_rows(run)
    vault = [r for r in rows if r[0] == "vault"]
    assert len(vault) == 1 and vault[0][1:3] == ("module", "FAIL")
    assert "could not run" in vault[0][3] and "auth_method" in vault[0][3]
    assert any(r[0] == "dns" and r[2] == "FAIL" for r in rows)
    assert any(r[0] == "swarm" and r[2] == "OK" for r in rows)
    stop = run.result(STOP)["msg"]
    assert "vault module:" in stop and "dns " in stop


def test_only_the_chosen_backends_run(run_playbook):
    run = run_playbook(PREFLIGHT, extravars={"preflight__backends": ["vault", "ldap"]})
    assert run.rc == 0, run.stdout[-3000:]
    assert [r[0] for r in summary_rows(run)][:1] == ["vault"]
    assert {r[0] for r in summary_rows(run)} == {"vault", "ldap"}


def test_unknown_backend_is_rejected_by_the_argument_spec(run_playbook):
    run = run_playbook(PREFLIGHT, extravars={"preflight__backends": ["vsphere", "ntp"]})
    assert run.rc != 0
    assert "ntp" in run.stdout and "preflight__backends" in run.stdout
    assert SUMMARY not in run.stdout


@pytest.fixture
def small_model(lab, prefix):
    """A private copy of one project of the lab model (site_helpers): site.yml on the lab model
    itself would converge objects other tests and `make run` share (test_site.py converges a
    larger copy, the AWX site job template all of it)."""
    model = prefixed_model(prefix, projects=["swe-kp"], stations=[])
    model["preflight__dns_zones"] = ["s2p.esa.int", "10.in-addr.arpa"]
    yield model
    cleanup(lab, prefix)


def test_site_validates_the_model_then_runs_the_preflight(run_playbook, small_model):
    """site.yml converges the model (the first run may change things), the second run
    changes nothing."""
    first = run_playbook(SITE, extravars=small_model)
    assert first.rc == 0, first.stdout[-4000:]
    run = run_playbook(SITE, extravars=small_model)
    assert run.rc == 0, run.stdout[-4000:]
    assert run.changed == 0, run.stdout[-4000:]
    assert "Validate the S2P model" in run.stdout
    rows = summary_rows(run)
    datacenters = [r for r in rows if r[0] == "vsphere" and r[1] == "datacenters"]
    assert datacenters and all(dc in datacenters[0][3] for dc in ("ESOC", "ESEC", "ESRIN"))


def test_vms_smaller_than_their_template_or_without_one_fail_the_preflight(run_playbook, prefix):
    """Issue 15: the model accepted a disk_gb smaller than the template's disk, and vsphere_vm then
    refused the VM in the middle of site.yml. The preflight names every such VM, and every missing
    template, before anything is cloned."""
    model = prefixed_model(prefix, projects=["swe-kp"], stations=[])
    project = model["s2p_projects"][0]
    project["vms"] = [{"role": "app", "disk_gb": 1}, {"role": "db", "template": "no-such-template"}]
    run = run_playbook(PREFLIGHT, extravars=dict(model, preflight__backends=["vsphere"]))
    assert run.rc != 0, run.stdout[-4000:]
    templates = [r for r in summary_rows(run) if r[1] == "templates"]
    assert templates and templates[0][2] == "FAIL", summary_rows(run)
    message = templates[0][3]
    assert re.search(rf"template /ESOC/vm/\S+ of ESOC has a \d+ GB disk, and \d VM\(s\) ask for less: "
                     rf"esoc-{prefix}-swe-kp-\w+-app01 \(1 GB\)", message), message
    assert "template 'no-such-template' not found in datacenter ESOC" in message, message
    assert f"needed by esoc-{prefix}-swe-kp-" in message and "db01" in message, message


def test_lab_inventory_finds_the_lab_without_s2p_lab_dir(lab):
    """`make run` runs ansible-playbook with no S2P_LAB_DIR: the lab inventory then finds the lab
    from its own folder, also for preflight's in-memory hosts (which have no inventory_dir)."""
    lab_dir = Path(os.environ.get("S2P_LAB_DIR", ROOT / ".lab")).resolve()
    if lab_dir != (ROOT / ".lab").resolve():
        pytest.skip("the lab is not this checkout's .lab folder, which the fallback finds")
    env = {k: v for k, v in os.environ.items() if k != "S2P_LAB_DIR"}
    env["ANSIBLE_CONFIG"] = str(ROOT / "ansible.cfg")
    playbook = Path(sys.executable).parent / "ansible-playbook"
    run = subprocess.run([str(playbook), "-i", str(ROOT / "inventories" / "lab"), str(PREFLIGHT)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "Preflight | summary" in run.stdout
