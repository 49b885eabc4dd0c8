"""esa.s2p.ldap_health against the lab's slapd: TLS first, bind second, errors that say what to fix."""

from __future__ import annotations

import os
import secrets
import socket
import time
from functools import partial
from pathlib import Path

import pytest
from health_helpers import assert_no_marker, failed_checks
from health_helpers import health_play as _health_play

ROOT = Path(__file__).resolve().parents[2]
SLAPD_LOG = Path(os.environ.get("S2P_LAB_DIR", ROOT / ".lab")) / "logs" / "slapd.log"
REQUIRED = ["ou=people", "ou=services", "ou=groups"]


health_play = partial(_health_play, "ldap")


@pytest.fixture(scope="module")
def slapd(lab) -> dict:
    endpoint = dict(lab["slapd"])
    endpoint["admin_password"] = Path(endpoint["admin_password_file"]).read_text().strip()
    endpoint["ca_file"] = lab["ca_file"]
    return endpoint


def slapd_saw_bind(dn: str, wait: float = 0.0) -> bool:
    """True when slapd's stats log shows a BIND for `dn` (polling up to `wait` seconds)."""
    deadline = time.monotonic() + wait
    while True:
        if ('BIND dn="%s"' % dn).lower() in SLAPD_LOG.read_text(errors="replace").lower():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


@pytest.mark.parametrize("check", [False, True], ids=["run", "check_mode"])
def test_healthy_ldaps(run_playbook, slapd, check):
    run = run_playbook(health_play({"base_dn": slapd["base_dn"], "required_entries": REQUIRED}), check=check)
    assert run.rc == 0, run.stdout
    result = run.result("health")
    assert result["healthy"] is True, result["checks"]
    assert result["changed"] is False and run.changed == 0
    assert [c["name"] for c in result["checks"]] == ["reachable", "tls", "bind", "base", "entries"]
    assert result["tls"]["method"] == "LDAPS" and result["tls"]["validated"] is True
    assert result["tls"]["version"].startswith("TLSv1.")
    assert result["identity"].lower() == "dn:" + slapd["admin_dn"].lower()


def test_healthy_starttls(run_playbook, slapd):
    run = run_playbook(health_play({"base_dn": slapd["base_dn"], "required_entries": REQUIRED,
                                    "server_uri": slapd["ldap_uri"], "start_tls": True}))
    result = run.result("health")
    assert result["healthy"] is True, result["checks"]
    assert result["tls"]["method"] == "StartTLS"


def test_missing_entry_is_named(run_playbook, slapd, prefix):
    missing = "ou=%s-nothere" % prefix
    run = run_playbook(health_play({"base_dn": slapd["base_dn"], "required_entries": REQUIRED + [missing]}))
    result = run.result("health")
    assert result["healthy"] is False
    assert list(failed_checks(result)) == ["entries"]
    assert "%s,%s" % (missing, slapd["base_dn"]) in failed_checks(result)["entries"]
    assert "ou=people" not in failed_checks(result)["entries"]


def test_wrong_password(run_playbook, slapd):
    run = run_playbook(health_play({"base_dn": slapd["base_dn"], "bind_pw": "wrong-" + secrets.token_hex(6)}))
    assert run.rc == 0, run.stdout
    result = run.result("health")
    assert result["healthy"] is False and result["changed"] is False
    assert [c["name"] for c in result["checks"]] == ["reachable", "tls", "bind"]
    msg = failed_checks(result)["bind"]
    assert "bind as %s at 127.0.0.1:" % slapd["admin_dn"] in msg and "wrong password" in msg


@pytest.mark.parametrize("starttls", [False, True], ids=["ldaps", "starttls"])
def test_untrusted_ca_aborts_before_the_bind(run_playbook, slapd, other_ca, prefix, starttls):
    probe_dn = "cn=%s-probe-%s,ou=services,%s" % (prefix, "starttls" if starttls else "ldaps", slapd["base_dn"])
    args = {"base_dn": slapd["base_dn"], "bind_dn": probe_dn, "ca_path": other_ca}
    if starttls:
        args.update(server_uri=slapd["ldap_uri"], start_tls=True)
    result = run_playbook(health_play(args)).result("health")
    assert result["healthy"] is False and result["changed"] is False
    msg = failed_checks(result)["tls"]
    assert "not trusted by the CA file %s" % other_ca in msg and "ca_path" in msg
    assert ("StartTLS" if starttls else "TLS to") in msg
    assert "bind" not in [c["name"] for c in result["checks"]]
    time.sleep(0.5)
    assert not slapd_saw_bind(probe_dn), "a BIND reached slapd over an unverified channel"

    # Control: with the lab CA the same DN does reach slapd (and is refused), so the log is read right.
    args["ca_path"] = slapd["ca_file"]
    result = run_playbook(health_play(args)).result("health")
    assert "bind" in failed_checks(result)
    assert slapd_saw_bind(probe_dn, wait=5)


def test_hostname_mismatch(run_playbook, slapd):
    """Connect by a name that resolves to the lab address but is not in the certificate."""
    name = socket.gethostname()
    if name == "localhost" or socket.gethostbyname(name) != "127.0.0.1":
        pytest.skip("the host name %s does not resolve to 127.0.0.1" % name)
    uri = slapd["ldaps_uri"].replace("127.0.0.1", name)
    result = run_playbook(health_play({"base_dn": slapd["base_dn"], "server_uri": uri})).result("health")
    assert "does not match the host name" in failed_checks(result)["tls"]


def test_server_down(run_playbook, slapd, closed_port):
    result = run_playbook(health_play({"base_dn": slapd["base_dn"],
                                       "server_uri": "ldaps://127.0.0.1:%d" % closed_port})).result("health")
    assert result["healthy"] is False and result["changed"] is False
    assert list(failed_checks(result)) == ["reachable"]
    expected = "cannot reach LDAP server 127.0.0.1:%d (connection refused)" % closed_port
    assert expected in failed_checks(result)["reachable"]


def test_clear_text_bind_is_refused_as_invalid_parameters(run_playbook, slapd):
    run = run_playbook(health_play({"base_dn": slapd["base_dn"], "server_uri": slapd["ldap_uri"]}))
    assert run.rc != 0 and run.failed == 1
    assert "in clear text" in run.result("health")["msg"]


def test_secrets_never_in_output(run_playbook, slapd, secret_marker):
    marker = secret_marker
    play = health_play({"base_dn": slapd["base_dn"], "bind_pw": "{{ planted }}"})
    play[0]["tasks"].append({"name": "real", "esa.s2p.ldap_health": {"base_dn": slapd["base_dn"]}})
    run = run_playbook(play, extravars={"planted": marker}, verbosity=4)
    assert run.rc == 0, run.stdout[-3000:]
    assert "bind" in failed_checks(run.result("health"))
    assert run.result("real")["healthy"] is True
    assert_no_marker(run, marker, slapd["admin_password"])
