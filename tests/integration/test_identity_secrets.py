"""Secret marker test for ldap_account, ldap_group and credential: random 32-byte markers planted
as every password and secret option, plus the lab's own secrets and the passwords the module
generated into Vault, must appear nowhere: not in stdout at -vvvv, not in ANSIBLE_LOG_PATH, not in
any ansible-runner event. Runs success, check mode, diff mode and 16 failure cases, including the
lookup esa.s2p.vault_secret (a marker stored in Vault and read back) and vault_project."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from identity_helpers import VAULT, BASE, clean_ldap, clean_vault, kv_all_values, play, task, vault_root, vault_with


def marker() -> str:
    return secrets.token_hex(16)  # 32 characters, 16+ so ppolicy accepts it as a password


@pytest.fixture
def cleanup(lab, prefix):
    yield
    clean_ldap(lab, prefix)
    clean_vault(lab, prefix)


def lab_secrets(lab) -> list[str]:
    return [Path(lab["slapd"]["admin_password_file"]).read_text().strip(),
            Path(lab["openbao"]["automation_secret_id_file"]).read_text().strip()]


def assert_hidden(run, log: Path, values: list[str]) -> None:
    texts = {"stdout": run.stdout, "log": log.read_text() if log.exists() else "",
             "events": "\n".join(json.dumps(e) for e in run.events)}
    assert texts["log"], "ANSIBLE_LOG_PATH was not written"
    for value in values:
        assert value
        for where, text in texts.items():
            assert value not in text, f"a secret leaked into {where}"


def test_no_secret_in_any_output(run_playbook, lab, prefix, tmp_path, closed_port, other_ca, cleanup):
    log = tmp_path / "ansible.log"
    env = {"ANSIBLE_LOG_PATH": str(log)}
    planted = [marker() for _index in range(16)]
    uid = f"{prefix}s-ope"
    creds = [{"uid": uid, "path": f"{prefix}/pd/{uid}/ldap-bind"}]
    account = {"uid": uid, "password": planted[0], "attributes": {"description": "marker test"}}
    changed = dict(account, update_password="always", attributes={"description": "changed"})

    stored = f"{prefix}/pd/lookup/db-password"  # a secret whose value is a marker, read by the lookup
    vault_root(lab).secrets.kv.v2.create_or_update_secret(path=stored, secret={"password": planted[12]},
                                                          mount_point=lab["openbao"]["kv_mount"])
    read_stored = "{{ lookup('esa.s2p.vault_secret', '%s', field='password', **s2p_vault_connection) }}" % stored

    def run(tasks, **kw):
        return run_playbook(play(*tasks), verbosity=4, envvars=env, **kw)

    ok = [
        run([task("ldap_account", {"accounts": [account]})], check=True, diff=True),
        run([task("ldap_account", {"accounts": [account]})], diff=True),
        run([task("ldap_account", {"accounts": [changed]})], diff=True),
        run([task("ldap_group", {"groups": [{"cn": f"{prefix}g", "members": [f"uid={uid},ou=services,{BASE}"]}]})],
            diff=True),
        run([task("credential", {"credentials": creds, "vault": VAULT})], check=True, diff=True),
        run([task("credential", {"credentials": creds, "vault": VAULT})], diff=True),
        run([task("credential", {"credentials": creds, "force": True, "vault": VAULT})]),
        run([{**task("credential", {"credentials": creds, "return_secret": True, "vault": VAULT}), "no_log": True}]),
        run([{"name": "lookup", "ansible.builtin.set_fact": {"db_password": read_stored}, "no_log": True}]),
    ]
    for result in ok:
        assert result.rc == 0, result.stdout[-3000:]
    generated = kv_all_values(lab, creds[0]["path"])
    assert len(generated) >= 4  # first password (pending, current), forced rotation (pending, current)

    failing = [
        # 1 wrong LDAP bind password
        [task("ldap_account", {"accounts": [account], "bind_pw": planted[1]})],
        # 2 the add fails on the server (no such parent entry) with a password in the batch
        [task("ldap_account", {"accounts": [{"uid": f"{prefix}x-ope", "password": planted[2]}],
                               "base_dn": "dc=nowhere,dc=int"})],
        # 3 whole-batch validation error with a password in the batch
        [task("ldap_account", {"accounts": [dict(account, password=planted[3]), {"uid": "Bad", "kind": "person"}]})],
        # 4 LDAP server down
        [task("ldap_account", {"accounts": [account], "server_uri": f"ldaps://127.0.0.1:{closed_port}",
                               "bind_pw": planted[4]})],
        # 5 untrusted CA
        [task("ldap_account", {"accounts": [account], "ca_path": other_ca, "bind_pw": planted[5]})],
        # 6 unknown option next to a password (argument spec failure)
        [task("ldap_account", {"accounts": [dict(account, password=planted[6], bogus=1)]})],
        # 7 wrong Vault token
        [task("credential", {"credentials": creds, "vault": vault_with(auth_method="token", token=planted[7])})],
        # 8 wrong AppRole secret_id
        [task("credential", {"credentials": creds, "vault": vault_with(secret_id=planted[8])})],
        # 9 return_secret without no_log
        [task("credential", {"credentials": creds, "return_secret": True,
                             "vault": vault_with(auth_method="token", token=planted[9])})],
        # 10 Vault unreachable
        [task("credential", {"credentials": creds, "vault": vault_with(url=f"https://127.0.0.1:{closed_port}",
                                                                       auth_method="token", token=planted[10])})],
        # 11 account missing in LDAP
        [task("credential", {"credentials": [{"uid": f"{prefix}nobody-ope", "path": f"{prefix}/x/y"}], "vault": VAULT,
                             "bind_pw": planted[11]})],
        # 12 invalid generation policy
        [task("credential", {"credentials": creds, "length": 8, "vault": VAULT})],
        # 13 the stored marker read by the lookup, then a failing no_log task that uses it
        [{"name": "lookup", "ansible.builtin.assert": {"that": [f"{read_stored[3:-3]} == 'other'"]}, "no_log": True}],
        # 14 the lookup with a wrong AppRole secret_id (an extra variable: Ansible quotes a failing
        #    task's source in its error, so a value written in the play itself would be shown)
        [{"name": "lookup", "vars": {"wrong": "{{ wrong_13 }}"},
          "ansible.builtin.debug": {"msg": "{{ lookup('esa.s2p.vault_secret', '%s', url=s2p_vault_connection.url, "
                                           "ca_cert=s2p_lab.ca_file, auth_method='approle', role_id='x', "
                                           "secret_id=wrong) }}" % stored}}],
        # 15 vault_project with a wrong token
        [task("vault_project", {"projects": [{"project": f"{prefix}p", "environment": "dev", "segment": "pd"}],
                                "auth_method": "token", "token": planted[14]})],
        # 16 the lookup with a wrong token, on a path that does not exist
        [{"name": "lookup", "vars": {"wrong": "{{ wrong_15 }}"},
          "ansible.builtin.debug": {"msg": "{{ lookup('esa.s2p.vault_secret', 'nowhere/x', "
                                           "url=s2p_vault_connection.url, ca_cert=s2p_lab.ca_file, token=wrong) }}"}}],
    ]
    for case, tasks in enumerate(failing, 1):
        result = run(tasks, extravars={"wrong_13": planted[13], "wrong_15": planted[15]})
        assert result.rc != 0 and result.failed == 1, f"failure case {case} did not fail"
        assert_hidden(result, log, planted + lab_secrets(lab) + generated)
    for result in ok:
        assert_hidden(result, log, planted + lab_secrets(lab) + generated)
