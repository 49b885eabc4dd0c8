"""esa.s2p.certificate against the lab Pebble (ACME, DNS-01 answered through the lab BIND):
issue, five re-runs without a new order, check mode, renewal on name change and force, the
chain verified against Pebble's root of the moment, file modes, challenge records removed,
and no private key or TSIG secret in any output."""

from __future__ import annotations

import ssl
import subprocess
import urllib.request
from pathlib import Path

import pytest
from dns_helpers import Bind
from health_helpers import assert_no_marker

TASK = "certificate"


@pytest.fixture
def bind(lab, prefix):
    server = Bind(lab)
    yield server
    server.cleanup(prefix)


def pebble_root(lab) -> str:
    """Pebble's root CA of this run (it changes at every Pebble restart)."""
    context = ssl.create_default_context(cafile=lab["ca_file"])
    with urllib.request.urlopen(lab["pebble"]["management_url"] + "/roots/0", context=context, timeout=10) as answer:
        return answer.read().decode()


def cert_play(certificates: list, account_key: Path, tasks: list | None = None, **options) -> list:
    base = {"account_key_path": str(account_key), "dns": "{{ s2p_dns_connection }}",
            "certificates": certificates, **options}
    body = tasks or [{"name": TASK, "esa.s2p.certificate": base}]
    for task in body:
        if "esa.s2p.certificate" not in task:
            task["esa.s2p.certificate"] = dict(base, **task.pop("params", {}))
    return [{"name": "certificates", "hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/esa.s2p.acme": "{{ s2p_acme_connection }}"}, "tasks": body}]


def test_acme_issue_rerun_renew_and_verify(run_playbook, lab, bind, prefix, tmp_path):
    names = [f"web.{prefix}.s2p.esa.int", f"api.{prefix}.s2p.esa.int"]
    out = tmp_path / "tls"
    cert = {"name": "web", "names": names, "path": str(out), "mode": "0640"}
    account = tmp_path / "account.key"
    run = run_playbook(cert_play([cert], account), check=True)
    assert run.rc == 0, run.stdout[-3000:]
    check = run.result(TASK)
    assert check["changed"] and check["certificates"][0]["action"] == "issued"
    assert not out.exists() and not account.exists(), "check mode wrote files"
    tasks = [{"name": TASK}] + [{"name": f"rerun {i}"} for i in range(5)]
    run = run_playbook(cert_play([cert], account, tasks=tasks), verbosity=4)
    assert run.rc == 0, run.stdout[-3000:]
    issued = run.result(TASK)
    assert check["certificates"][0]["reason"] == issued["certificates"][0]["reason"] == "missing"
    serial = issued["certificates"][0]["serial"]
    for i in range(5):
        rerun = run.result(f"rerun {i}")
        assert not rerun["changed"] and rerun["certificates"][0]["action"] == "unchanged"
        assert rerun["certificates"][0]["serial"] == serial
    # The files, their modes, and the chain against Pebble's root.
    assert oct((out / "web.key").stat().st_mode & 0o777) == "0o640"
    assert oct((out / "web.fullchain.pem").stat().st_mode & 0o777) == "0o644"
    root = tmp_path / "root.pem"
    root.write_text(pebble_root(lab))
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(root), "-untrusted", str(out / "web.chain.pem"),
                             str(out / "web.crt")], capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # The challenge records are gone again.
    for name in names:
        assert bind.rrset(f"_acme-challenge.{name}", "TXT") == set()
    # No private key (account or certificate) and no TSIG secret in any output.
    key_body = "".join((out / "web.key").read_text().splitlines()[1:-1])
    account_body = "".join(account.read_text().splitlines()[1:-1])
    assert_no_marker(run, key_body, key_body[:40], account_body[:40], bind.secret)
    # Renewal: names changed, then forced; each a new serial; check mode predicts it.
    renamed = dict(cert, names=names[:1])
    tasks = [{"name": "check", "check_mode": True}, {"name": TASK},
             {"name": "forced", "params": {"certificates": [dict(renamed, force=True)]}}]
    run = run_playbook(cert_play([renamed], account, tasks=tasks))
    assert run.rc == 0, run.stdout[-3000:]
    check, renewed, forced = run.result("check"), run.result(TASK), run.result("forced")
    assert check["certificates"][0]["action"] == renewed["certificates"][0]["action"] == "renewed"
    assert "names changed" in renewed["certificates"][0]["reason"]
    assert forced["certificates"][0]["reason"] == "forced"
    serials = {serial, renewed["certificates"][0]["serial"], forced["certificates"][0]["serial"]}
    assert len(serials) == 3


def test_bad_batch_orders_nothing(run_playbook, tmp_path, prefix):
    account = tmp_path / "account.key"
    out = tmp_path / "tls"
    certs = [{"name": "a", "names": ["web.example.org"], "path": str(out)},
             {"name": "a", "names": [f"x.{prefix}.s2p.esa.int"], "path": str(out), "key_type": "ec",
              "key_size": 521}]
    run = run_playbook(cert_play(certs, account))
    result = run.result(TASK)
    assert run.rc != 0 and result["changed"] is False
    assert "web.example.org is outside the zones" in result["msg"]
    assert "name also used by certificates[0]" in result["msg"]
    assert "key_size 521 is not valid for ec keys" in result["msg"]
    assert not account.exists() and not out.exists()
