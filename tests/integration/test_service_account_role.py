"""The role esa.s2p.service_account through playbooks/service_accounts.yml and
playbooks/rotate_credentials.yml, on a model of three prefixed projects (a copy of the lab
inventory with its own model): accounts, groups, credentials and Vault access are created,
a second run changes nothing, both playbooks in one run converge credentials once, a forced
rotation of one segment rotates exactly its accounts, and the report names them without any password.
A check-mode run on the new projects first predicts exactly the changes of the real run that follows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from identity_helpers import (BASE, can_bind, clean_ldap, clean_vault, entries_with_prefix, kv_all_values, kv_read,
                              ldap_admin, vault_root)

ROOT = Path(__file__).resolve().parents[2]
CREDENTIAL_TASK = "Credentials in Vault, applied to LDAP, rotated when due"
MODULE_TASKS = {"Vault policy and AppRole per project environment": ("projects", "name"),
                "LDAP groups of the projects": ("groups", "cn"),
                "LDAP service accounts": ("accounts", "uid"),
                CREDENTIAL_TASK: ("credentials", "uid")}


def changed_items(run) -> dict:
    """{task: (changed, [(name, action) of every item that is not 'none'])} of the role's module tasks."""
    out = {}
    for task_name, (key, name) in MODULE_TASKS.items():
        res = run.result(task_name)
        out[task_name] = (res["changed"], sorted((i[name], i["action"]) for i in res[key] if i["action"] != "none"))
    return out


@pytest.fixture
def inventory(tmp_path, lab, prefix):
    inv = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventories" / "lab", inv)
    model = yaml.safe_load((inv / "group_vars" / "all" / "model.yml").read_text())
    model["s2p_projects"] = [
        {"name": f"{prefix}a", "segment": "pd", "environments": {"dev": {"sites": ["esrin"]},
                                                                 "ope": {"sites": ["esrin"]}},
         "ldap_groups": [{"name": "developers", "members": ["jdoe"]}]},
        {"name": f"{prefix}b", "segment": "pd", "environments": {"ope": {"sites": ["esoc"]}}},
        {"name": f"{prefix}c", "segment": "sd", "environments": {"ire": {"sites": ["esoc"]}}},
    ]
    model["s2p_stations"] = []
    (inv / "group_vars" / "all" / "model.yml").write_text(yaml.safe_dump(model))
    yield inv
    clean_ldap(lab, prefix)
    clean_vault(lab, prefix)
    client, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    for path in (f"pd/{prefix}a/dev/ldap-bind", f"pd/{prefix}a/ope/ldap-bind", f"pd/{prefix}b/ope/ldap-bind",
                 f"sd/{prefix}c/ire/ldap-bind"):
        client.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=mount)


def test_role_and_rotation_playbook(run_playbook, lab, prefix, inventory, tmp_path):
    uids = [f"{prefix}a-dev", f"{prefix}a-ope", f"{prefix}b-ope", f"{prefix}c-ire"]
    paths = [f"pd/{prefix}a/dev/ldap-bind", f"pd/{prefix}a/ope/ldap-bind", f"pd/{prefix}b/ope/ldap-bind",
             f"sd/{prefix}c/ire/ldap-bind"]
    # Check mode on projects that do not exist anywhere yet: ldap_account predicts the accounts,
    # credential predicts their first passwords (it must not fail on the missing accounts).
    check = run_playbook(ROOT / "playbooks" / "service_accounts.yml", inventory=inventory, check=True)
    assert check.rc == 0, check.stdout[-4000:]
    assert all(kv_read(lab, path) is None for path in paths)
    conn = ldap_admin(lab)
    assert entries_with_prefix(conn, prefix) == [], "check mode wrote to LDAP"
    conn.unbind()
    run = run_playbook(ROOT / "playbooks" / "service_accounts.yml", inventory=inventory)
    assert run.rc == 0, run.stdout[-4000:]
    predicted, done = changed_items(check), changed_items(run)
    assert predicted == done, (predicted, done)
    assert done[CREDENTIAL_TASK] == (True, sorted((uid, "create") for uid in uids))
    assert check.changed == run.changed
    for uid, path in zip(uids, paths, strict=True):
        assert can_bind(lab, f"uid={uid},ou=services,{BASE}", kv_read(lab, path)["data"]["password"])
    assert f"s2p-{prefix}a-ope" in vault_root(lab).sys.list_acl_policies()["data"]["keys"]
    assert "credentials: 4, of which rotated 0, created 4" in run.stdout
    again = run_playbook(ROOT / "playbooks" / "service_accounts.yml", inventory=inventory)
    assert again.rc == 0 and again.changed == 0, again.stdout[-4000:]

    # As in site.yml: rotate_credentials.yml right after service_accounts.yml in one run reports
    # from the credential step that already ran instead of converging the same input again.
    both = tmp_path / "both.yml"
    both.write_text(yaml.safe_dump([{"name": "accounts", "ansible.builtin.import_playbook":
                                     str(ROOT / "playbooks" / "service_accounts.yml")},
                                    {"name": "rotation", "ansible.builtin.import_playbook":
                                     str(ROOT / "playbooks" / "rotate_credentials.yml")}]))
    run = run_playbook(both, inventory=inventory)
    assert run.rc == 0 and run.changed == 0, run.stdout[-4000:]
    assert len(run.results(CREDENTIAL_TASK)) == 1, run.stdout[-4000:]
    assert "not converged twice" in run.stdout and "credentials: 4, of which rotated 0" in run.stdout

    before = {p: kv_read(lab, p)["data"]["password"] for p in paths}
    run = run_playbook(ROOT / "playbooks" / "rotate_credentials.yml", inventory=inventory,
                       extravars={"rotate_credentials__segments": ["pd"], "rotate_credentials__force": True})
    assert run.rc == 0, run.stdout[-4000:]
    after = {p: kv_read(lab, p)["data"]["password"] for p in paths}
    assert [before[p] != after[p] for p in paths] == [True, True, True, False]
    assert "credentials: 3, of which rotated 3" in run.stdout
    for path in paths[:3]:
        assert f"rotate: {path.split('/')[1]}-{path.split('/')[2]} ({path})" in run.stdout
    for path in paths:
        for value in kv_all_values(lab, path):
            assert value not in run.stdout
    bad = run_playbook(ROOT / "playbooks" / "rotate_credentials.yml", inventory=inventory,
                       extravars={"rotate_credentials__projects": ["nosuchproject"]})
    assert bad.rc != 0 and "unknown names in the selection" in bad.stdout
