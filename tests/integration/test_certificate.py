"""esa.s2p.certificate against the lab Pebble (ACME, DNS-01 answered through the lab BIND):
issue, five re-runs without a new order (newOrder requests counted by a proxy in front of
Pebble), check mode, renewal on name change and force, the
chain verified against Pebble's root of the moment, file modes, challenge records removed,
and no private key or TSIG secret in any output."""

from __future__ import annotations

import grp
import pwd
import ssl
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from counting_proxy import CountingProxy
from dns_helpers import assert_not_logged, log_env
import dns_helpers
from health_helpers import assert_no_marker

TASK = "certificate"


bind = dns_helpers.bind_fixture  # the fixture `bind`: the lab BIND, names of the prefix deleted after


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


@pytest.fixture
def pebble_proxy(lab):
    """A counting HTTPS proxy in front of Pebble (Pebble builds its URLs from the Host header, so
    every ACME request of a run given this directory goes through it), and the path of newOrder."""
    import json

    endpoint = urllib.parse.urlsplit(lab["pebble"]["directory_url"])
    certs = Path(lab["ca_file"]).parent / "pebble"
    with CountingProxy(endpoint.hostname, endpoint.port, lab["ca_file"], certfile=str(certs / "server.crt"),
                       keyfile=str(certs / "server.key"), preserve_host=True) as proxy:
        directory = f"https://127.0.0.1:{proxy.port}{endpoint.path}"
        context = ssl.create_default_context(cafile=lab["ca_file"])
        with urllib.request.urlopen(directory, context=context, timeout=30) as answer:
            new_order = json.loads(answer.read())["newOrder"]
        assert new_order.startswith(f"https://127.0.0.1:{proxy.port}/"), new_order
        proxy.directory = directory
        proxy.new_order_key = "POST " + urllib.parse.urlsplit(new_order).path
        proxy.reset()
        yield proxy


def test_acme_issue_rerun_renew_and_verify(run_playbook, lab, bind, prefix, tmp_path, pebble_proxy):
    names = [f"web.{prefix}.s2p.esa.int", f"api.{prefix}.s2p.esa.int"]
    out = tmp_path / "tls"
    cert = {"name": "web", "names": names, "path": str(out), "mode": "0640", "owner": "nobody", "group": "nogroup"}
    account = tmp_path / "account.key"
    through_proxy = {"acme_directory": pebble_proxy.directory}
    run = run_playbook(cert_play([cert], account, **through_proxy), check=True)
    assert run.rc == 0, run.stdout[-3000:]
    check = run.result(TASK)
    assert check["changed"] and check["certificates"][0]["action"] == "issued"
    assert not out.exists() and not account.exists(), "check mode wrote files"
    assert pebble_proxy.count == 0, "check mode talked to the CA: %s" % pebble_proxy.by_method
    logs = [tmp_path / "issue.log", tmp_path / "reruns.log"]
    run = run_playbook(cert_play([cert], account, **through_proxy), verbosity=4, diff=True, envvars=log_env(logs[0]))
    assert run.rc == 0, run.stdout[-3000:]
    issued = run.result(TASK)
    assert check["certificates"][0]["reason"] == issued["certificates"][0]["reason"] == "missing"
    assert pebble_proxy.by_method.get(pebble_proxy.new_order_key) == 1, pebble_proxy.by_method
    # 5 re-runs, 0 new orders: counted at the CA, not inferred from the serial.
    pebble_proxy.reset()
    reruns = run_playbook(cert_play([cert], account, tasks=[{"name": f"rerun {i}"} for i in range(5)],
                                    **through_proxy), verbosity=4, envvars=log_env(logs[1]))
    assert reruns.rc == 0, reruns.stdout[-3000:]
    assert pebble_proxy.by_method.get(pebble_proxy.new_order_key, 0) == 0, pebble_proxy.by_method
    assert pebble_proxy.count == 0, "a re-run with a valid certificate talked to the CA: %s" % pebble_proxy.by_method
    serial = issued["certificates"][0]["serial"]
    for i in range(5):
        rerun = reruns.result(f"rerun {i}")
        assert not rerun["changed"] and rerun["certificates"][0]["action"] == "unchanged"
        assert rerun["certificates"][0]["serial"] == serial
    # The files, their modes, and the chain against Pebble's root.
    assert oct((out / "web.key").stat().st_mode & 0o777) == "0o640"
    assert oct((out / "web.fullchain.pem").stat().st_mode & 0o777) == "0o644"
    nobody = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    for kind in ("key", "crt", "chain.pem", "fullchain.pem"):
        stat = (out / f"web.{kind}").stat()
        assert (stat.st_uid, stat.st_gid) == nobody, f"web.{kind} not owned by nobody:nogroup"
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
    for each, log in zip((run, reruns), logs, strict=True):
        assert_no_marker(each, key_body, key_body[:40], account_body[:40], bind.secret)
        assert_not_logged(log, key_body[:40], key_body[-40:], account_body[:40], bind.secret)
    # Renewal: names changed, then forced; each a new serial; check mode predicts it.
    renamed = dict(cert, names=names[:1])
    tasks = [{"name": "check", "check_mode": True}, {"name": TASK},
             {"name": "forced", "params": {"certificates": [dict(renamed, force=True)]}}]
    pebble_proxy.reset()
    run = run_playbook(cert_play([renamed], account, tasks=tasks, **through_proxy))
    assert run.rc == 0, run.stdout[-3000:]
    assert pebble_proxy.by_method.get(pebble_proxy.new_order_key) == 2, pebble_proxy.by_method
    check, renewed, forced = run.result("check"), run.result(TASK), run.result("forced")
    assert check["certificates"][0]["action"] == renewed["certificates"][0]["action"] == "renewed"
    assert "names changed" in renewed["certificates"][0]["reason"]
    assert forced["certificates"][0]["reason"] == "forced"
    serials = {serial, renewed["certificates"][0]["serial"], forced["certificates"][0]["serial"]}
    assert len(serials) == 3


def test_a_batch_of_orders_runs_at_once_and_each_certificate_gets_its_names(
        run_playbook, bind, prefix, tmp_path, pebble_proxy):
    """Nine certificates in one task: the ACME orders run several at a time (two share a name, so they
    are ordered one after the other); each certificate is stored with exactly its own names, every
    challenge record is withdrawn, and a re-run orders nothing."""
    out = tmp_path / "tls"
    certs = [{"name": f"svc{i}", "names": [f"svc{i}.{prefix}.s2p.esa.int"], "path": str(out)} for i in range(8)]
    certs.append({"name": "both", "names": [f"svc0.{prefix}.s2p.esa.int", f"extra.{prefix}.s2p.esa.int"],
                  "path": str(out)})
    account = tmp_path / "account.key"
    run = run_playbook(cert_play(certs, account, acme_directory=pebble_proxy.directory))
    assert run.rc == 0, run.stdout[-3000:]
    assert [c["action"] for c in run.result(TASK)["certificates"]] == ["issued"] * 9
    assert pebble_proxy.by_method.get(pebble_proxy.new_order_key) == 9, pebble_proxy.by_method
    serials = set()
    for cert in certs:
        text = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName", "-serial", "-in",
                               str(out / f"{cert['name']}.crt")], capture_output=True, text=True, check=True).stdout
        assert sorted(part.strip()[4:] for part in text.splitlines()[1].split(",")) == sorted(cert["names"]), text
        serials.add(text.splitlines()[-1])
    assert len(serials) == 9
    for name in {n for cert in certs for n in cert["names"]}:
        assert bind.rrset(f"_acme-challenge.{name}", "TXT") == set(), name
    pebble_proxy.reset()
    rerun = run_playbook(cert_play(certs, account, acme_directory=pebble_proxy.directory))
    assert rerun.rc == 0 and not rerun.result(TASK)["changed"], rerun.stdout[-3000:]
    assert pebble_proxy.count == 0, pebble_proxy.by_method


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


def pki_root(lab) -> str:
    """The lab Vault's PKI root (the chain of a vault_pki certificate ends below it)."""
    import json

    url = lab["openbao"]["url"] + "/v1/" + lab["openbao"]["pki_mount"] + "/ca/pem"
    context = ssl.create_default_context(cafile=lab["ca_file"]) if url.startswith("https") else None
    with urllib.request.urlopen(url, context=context, timeout=10) as answer:
        text = answer.read().decode()
    return text if "BEGIN CERTIFICATE" in text else json.loads(text)["data"]["certificate"]


def vault_kv(lab, path: str, delete: bool = False) -> dict | None:
    """Read (or delete) a KV v2 secret with hvac as the automation AppRole (independent of the module)."""
    import hvac

    data = lab["openbao"]
    client = hvac.Client(url=data["url"], verify=lab["ca_file"])
    client.auth.approle.login(role_id=Path(data["automation_role_id_file"]).read_text().strip(),
                              secret_id=Path(data["automation_secret_id_file"]).read_text().strip())
    try:
        if delete:
            client.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=data["kv_mount"])
            return None
        return client.secrets.kv.v2.read_secret_version(path=path, mount_point=data["kv_mount"],
                                                        raise_on_deleted_version=False)["data"]["data"]
    finally:
        client.auth.token.revoke_self()


def test_vault_pki_issue_store_in_kv_and_renew_in_window(run_playbook, lab, prefix, tmp_path):
    out = tmp_path / "tls"
    kv_path = f"tests/{prefix}/dev/tls-api"
    cert = {"name": "api", "issuer": "vault_pki", "names": [f"api.{prefix}.s2p.esa.int"], "key_type": "rsa",
            "key_size": 2048, "ttl": "30s", "path": str(out), "vault_kv_path": kv_path}
    params = {"vault": "{{ s2p_vault_connection }}", "certificates": [cert]}
    # No ACME connection at all: a batch of vault_pki certificates alone does not need acme_directory.
    play = [{"name": "vault certificates", "hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": name, "esa.s2p.certificate": params} for name in (TASK, "rerun")]}]
    try:
        _vault_pki_run(run_playbook, lab, play, out, kv_path, tmp_path)
    finally:
        vault_kv(lab, kv_path, delete=True)


def _vault_pki_run(run_playbook, lab, play, out, kv_path, tmp_path):
    import datetime
    import time

    # The same batch with one ACME certificate more does need it: refused before anything is done.
    params = play[0]["tasks"][0]["esa.s2p.certificate"]
    acme_cert = {"name": "web", "names": ["web." + params["certificates"][0]["names"][0]], "path": str(out)}
    with_acme = dict(params, dns="{{ s2p_dns_connection }}", account_key_path=str(tmp_path / "account.key"),
                     certificates=params["certificates"] + [acme_cert])
    tasks = [{"name": "with acme", "esa.s2p.certificate": with_acme, "ignore_errors": True}] + play[0]["tasks"]
    log = tmp_path / "vault.log"
    run = run_playbook([dict(play[0], tasks=tasks)], verbosity=4, envvars=log_env(log))
    assert run.rc == 0, run.stdout[-3000:]
    refused = run.result("with acme")
    assert not refused["changed"] and "certificates[1] (web): issuer acme needs " \
        "acme_directory" in refused["msg"], refused["msg"]
    issued, rerun = run.result(TASK)["certificates"][0], run.result("rerun")["certificates"][0]
    assert issued["action"] == "issued" and rerun["action"] == "unchanged" and rerun["serial"] == issued["serial"]
    root = tmp_path / "root.pem"
    root.write_text(pki_root(lab))
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(root), str(out / "api.crt")],
                            capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    key_body = "".join((out / "api.key").read_text().splitlines()[1:-1])
    assert_no_marker(run, key_body[:40], key_body[-40:])
    assert_not_logged(log, key_body[:40], key_body[-40:])
    stored = vault_kv(lab, kv_path)
    assert stored["serial"] == issued["serial"] and stored["private_key"] == (out / "api.key").read_text()
    assert stored["fullchain"] == (out / "api.fullchain.pem").read_text()
    # Vault backdates not_before by 30 s: a 30 s TTL gives a 60 s lifetime, renewed in its last 20 s.
    not_after = datetime.datetime.fromisoformat(issued["not_after"])
    time.sleep(max(0.0, (not_after - datetime.datetime.now(datetime.UTC)).total_seconds() - 18))
    run = run_playbook(play)
    assert run.rc == 0, run.stdout[-3000:]
    renewed = run.result(TASK)["certificates"][0]
    assert renewed["action"] == "renewed" and "lifetime left" in renewed["reason"], renewed
    assert renewed["serial"] != issued["serial"]
    assert run.result("rerun")["certificates"][0]["action"] == "unchanged"


@pytest.mark.smoke
def test_acme_account_key_kept_in_vault(run_playbook, lab, bind, prefix, tmp_path):
    account_path = f"tests/{prefix}/dev/acme-account"
    cert = {"name": "ops", "names": [f"ops.{prefix}.s2p.esa.int"], "path": str(tmp_path / "tls")}
    params = {"account_key_vault_path": account_path, "vault": "{{ s2p_vault_connection }}",
              "dns": "{{ s2p_dns_connection }}", "certificates": [cert]}
    forced = dict(params, certificates=[dict(cert, force=True)])
    play = [{"name": "acme account in vault", "hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/esa.s2p.acme": "{{ s2p_acme_connection }}"},
             "tasks": [{"name": TASK, "esa.s2p.certificate": params},
                       {"name": "forced", "esa.s2p.certificate": forced}]}]
    try:
        run = run_playbook(play, verbosity=4, envvars=log_env(tmp_path / "account.log"))
        assert run.rc == 0, run.stdout[-3000:]
        first, second = run.result(TASK), run.result("forced")
        assert first["account_key_created"] is True and second["account_key_created"] is False
        assert first["certificates"][0]["serial"] != second["certificates"][0]["serial"]
        stored = vault_kv(lab, account_path)["private_key"]
        body = "".join(stored.splitlines()[1:-1])
        assert_no_marker(run, body[:40], body[-40:])
        assert_not_logged(tmp_path / "account.log", body[:40], body[-40:])
    finally:
        vault_kv(lab, account_path, delete=True)
