"""playbooks/preflight.yml and site.yml on the lab: all six backends checked, one summary,
failure at the end listing every problem. Backends are broken by pointing their connection
at a closed port through extra vars; the shared lab services are never stopped."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
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
    # every backend checked in ONE module run; no backend's own module ran (no fallback)
    ran = [e["event_data"]["task_action"] for e in run.events
           if e.get("event") == "runner_on_ok" and e["event_data"].get("task_action", "").endswith("_health")]
    assert ran == ["esa.s2p.estate_health"], ran


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


def test_a_backend_whose_checks_cannot_run_is_reported_in_the_same_module_run(run_playbook, monkeypatch):
    """A connection without its server (no dict, no DNS_SERVER): estate_health records the DNS checks as
    failed check `module`, naming the missing option, and reports the five other backends healthy."""
    monkeypatch.delenv("DNS_SERVER", raising=False)
    run = run_playbook(PREFLIGHT, extravars={"s2p_dns_connection": {}})
    assert run.rc != 0
    rows = summary_rows(run)
    dns = [r for r in rows if r[0] == "dns"]
    assert len(dns) == 1 and dns[0][1:3] == ("module", "FAIL"), rows
    assert "the dns health check could not run" in dns[0][3] and "server" in dns[0][3], dns
    assert all(r[2] == "OK" for r in rows if r[0] != "dns"), rows
    assert {r[0] for r in rows} == set(BACKENDS)
    fallback = [e for e in run.events if e.get("event") == "runner_on_ok"
                and e["event_data"].get("task_action", "").endswith(("dns_health", "ldap_health"))]
    assert fallback == []
    assert "dns module: the dns health check could not run" in run.result(STOP)["msg"]


def test_a_module_that_raises_does_not_hide_the_other_backends(run_playbook, lab, closed_port):
    """An invalid Vault connection (a choice Ansible refuses) makes estate_health fail as a whole: the
    role then runs each backend's own module, vault_health's failure is rescued and recorded as a
    failed check, and the backends after it still run."""
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


def test_no_secret_in_the_preflight_output(run_playbook, lab, ldap_connection, tmp_path):
    """Random markers as the vCenter password, LDAP bind password, Vault secret_id and TSIG secret
    (each refused by its server), then the lab's own secrets (accepted), then the fallback path (a
    choice Ansible refuses makes the role run each backend's module): none appears in stdout at
    -vvvv, in ANSIBLE_LOG_PATH or in any ansible-runner event."""
    log = tmp_path / "ansible.log"
    markers = [secrets.token_hex(16) for _index in range(4)]
    tsig = base64.b64encode(bytes.fromhex(markers[3])).decode()
    planted = {
        "s2p_vsphere_connection": {"hostname": lab["vcsim"]["hostname"], "port": lab["vcsim"]["port"],
                                   "username": lab["vcsim"]["username"], "password": markers[0],
                                   "ca_path": lab["ca_file"]},
        "s2p_ldap_connection": dict(ldap_connection, bind_pw=markers[1]),
        "s2p_vault_connection": {"url": lab["openbao"]["url"], "auth_method": "approle", "ca_cert": lab["ca_file"],
                                 "role_id": Path(lab["openbao"]["automation_role_id_file"]).read_text().strip(),
                                 "secret_id": markers[2]},
        "s2p_dns_connection": {"server": lab["bind"]["server"], "port": lab["bind"]["port"],
                               "key_name": lab["bind"]["tsig_key_name"], "key_secret": tsig},
    }
    refused = run_playbook(PREFLIGHT, extravars=planted, verbosity=4, envvars={"ANSIBLE_LOG_PATH": str(log)})
    assert refused.rc != 0
    failed = {r[0] for r in summary_rows(refused) if r[2] == "FAIL"}
    assert failed == {"vsphere", "ldap", "vault", "dns"}, summary_rows(refused)
    healthy = run_playbook(PREFLIGHT, verbosity=4, envvars={"ANSIBLE_LOG_PATH": str(log)})
    assert healthy.rc == 0, healthy.stdout[-3000:]
    fallback = run_playbook(PREFLIGHT, verbosity=4, envvars={"ANSIBLE_LOG_PATH": str(log)},
                            extravars=dict(planted, s2p_swarm_connection={"docker_host": "tcp://127.0.0.1:1",
                                                                          "tls": "maybe"}))
    assert fallback.rc != 0
    ran = {e["event_data"]["task_action"] for e in fallback.events if e.get("event") == "runner_on_ok"}
    assert "esa.s2p.ldap_health" in ran, ran  # the backends' own modules ran
    lab_secrets = [ldap_connection["bind_pw"], Path(lab["vcsim"]["password_file"]).read_text().strip(),
                   Path(lab["openbao"]["automation_secret_id_file"]).read_text().strip(),
                   Path(lab["bind"]["tsig_secret_file"]).read_text().strip()]
    texts = {"log": log.read_text()}
    for name, run in (("refused", refused), ("healthy", healthy), ("fallback", fallback)):
        texts[f"{name} stdout"] = run.stdout
        texts[f"{name} events"] = "\n".join(json.dumps(e) for e in run.events)
    for value in markers + [tsig] + lab_secrets:
        assert value
        for where, text in texts.items():
            assert value not in text, f"a secret leaked into {where}"


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
    from its own folder."""
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
