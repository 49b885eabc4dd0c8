"""An AWX-style run: the play has NO module_defaults and no connection variables; every
connection option of LDAP and Vault comes from the environment, as AWX credential injectors set
it, AppRole chosen by VAULT_AUTH_METHOD with VAULT_ROLE_ID/VAULT_SECRET_ID. ldap_account,
credential, the vault_secret lookup and vault_health all work from it, and neither the
secret_id nor the generated password appears in the output at -vvvv. With a secret_id good for
ONE login, a credential task over several accounts still succeeds (one login per task, not per
item) and the next task's login is refused (so the limit really applies)."""

from __future__ import annotations

from pathlib import Path

import hvac
import pytest
from identity_helpers import BASE, can_bind, clean_ldap, clean_vault, kv_read, play, task, vault_root


def awx_environment(lab: dict) -> dict:
    bao, slapd = lab["openbao"], lab["slapd"]
    return {
        "VAULT_ADDR": bao["url"],
        "VAULT_AUTH_METHOD": "approle",
        "VAULT_ROLE_ID": Path(bao["automation_role_id_file"]).read_text().strip(),
        "VAULT_SECRET_ID": Path(bao["automation_secret_id_file"]).read_text().strip(),
        "VAULT_CACERT": lab["ca_file"],
        "LDAPURI": slapd["ldaps_uri"],
        "LDAPBINDDN": slapd["admin_dn"],
        "LDAPBINDPW": Path(slapd["admin_password_file"]).read_text().strip(),
        "LDAPTLS_CACERT": lab["ca_file"],
    }


def test_approle_from_environment_only(run_playbook, lab, prefix):
    uid, path = f"{prefix}env-ope", f"{prefix}/pd/{prefix}env/ope/ldap-bind"
    env = awx_environment(lab)
    lookup = "{{ lookup('esa.s2p.vault_secret', '%s', field='password') }}" % path
    steps = play(
        task("ldap_account", {"accounts": [{"uid": uid}]}, name="account"),
        task("credential", {"credentials": [{"uid": uid, "path": path, "owner": "ops", "project": prefix}]},
             name="credential"),
        {"name": "lookup", "ansible.builtin.set_fact": {"read_back": lookup}, "no_log": True},
        {"name": "length", "ansible.builtin.assert": {"that": ["read_back | length == 32"], "quiet": True},
         "no_log": True},
        task("vault_health", {}, name="health"),
        module_defaults=False)
    try:
        run = run_playbook(steps, envvars=env, verbosity=4)
        assert run.rc == 0, run.stdout[-4000:]
        assert [c["action"] for c in run.result("credential")["credentials"]] == ["create"]
        health = run.result("health")
        assert health["healthy"] is True, health
        auth = [c for c in health["checks"] if c["name"] == "auth"][0]
        assert auth["msg"].startswith("approle login ok"), auth
        password = kv_read(lab, path)["data"]["password"]
        assert can_bind(lab, f"uid={uid},ou=services,{BASE}", password)
        for secret in (password, env["VAULT_SECRET_ID"], env["LDAPBINDPW"]):
            assert secret not in run.stdout
            assert not any(secret in str(event) for event in run.events)
        # Without VAULT_AUTH_METHOD the same environment means token auth, and no token is set.
        bare = {k: v for k, v in env.items() if k != "VAULT_AUTH_METHOD"}
        run = run_playbook(play(task("vault_health", {}, name="health"), module_defaults=False), envvars=bare)
        assert run.rc != 0 and "token" in run.result("health")["msg"], run.stdout[-3000:]
    finally:
        clean_ldap(lab, prefix)
        clean_vault(lab, prefix)


def test_one_login_per_task_with_a_single_use_secret_id(run_playbook, lab, prefix):
    uids = [f"{prefix}u{i}-ope" for i in range(3)]
    creds = [{"uid": u, "path": f"{prefix}/pd/{prefix}u/{u}/ldap-bind"} for u in uids]
    root = vault_root(lab)
    role = "auth/approle/role/s2p-automation/secret-id"
    issued = root.adapter.post(f"/v1/{role}", json={"num_uses": 1, "ttl": "10m"})["data"]
    assert issued["secret_id_num_uses"] == 1
    env = dict(awx_environment(lab), VAULT_SECRET_ID=issued["secret_id"])
    try:
        run = run_playbook(play(task("ldap_account", {"accounts": [{"uid": u} for u in uids]})))
        assert run.rc == 0, run.stdout[-3000:]
        run = run_playbook(play(task("credential", {"credentials": creds}), module_defaults=False), envvars=env)
        assert run.rc == 0, run.stdout[-3000:]
        assert [c["action"] for c in run.result("t")["credentials"]] == ["create"] * 3
        again = run_playbook(play(task("credential", {"credentials": creds}), module_defaults=False), envvars=env)
        assert again.rc != 0 and "AppRole login" in again.result("t")["msg"], again.stdout[-3000:]
        assert issued["secret_id"] not in run.stdout + again.stdout
    finally:
        try:
            root.adapter.post(f"/v1/{role}-accessor/destroy", json={"secret_id_accessor": issued["secret_id_accessor"]})
        except hvac.exceptions.VaultError:  # used up: already gone
            pass
        clean_ldap(lab, prefix)
        clean_vault(lab, prefix)


@pytest.mark.parametrize("mount, path, expected", [
    ("s2p", "nowhere-{prefix}/x", "no secret at s2p/nowhere-{prefix}/x"),
    ("nomount{prefix}", "x/y", "nothing is mounted at nomount{prefix}/"),
], ids=["missing_path", "missing_mount"])
def test_lookup_names_a_missing_path_or_mount(run_playbook, lab, prefix, mount, path, expected):
    """With a token that may see everything (a limited token gets 'permission denied' where nothing is
    mounted: Vault checks the policy first), a missing secret and a missing mount are told apart."""
    terms = (path.format(prefix=prefix), mount.format(prefix=prefix))
    lookup = "{{ lookup('esa.s2p.vault_secret', '%s', mount='%s') }}" % terms
    env = dict(awx_environment(lab), VAULT_AUTH_METHOD="token",
               VAULT_TOKEN=Path(lab["openbao"]["root_token_file"]).read_text().strip())
    run = run_playbook(play({"name": "lookup", "ansible.builtin.debug": {"msg": lookup}}, module_defaults=False),
                       envvars=env)
    assert run.rc != 0 and expected.format(prefix=prefix) in run.stdout, run.stdout[-3000:]
    assert "Traceback" not in run.stdout
