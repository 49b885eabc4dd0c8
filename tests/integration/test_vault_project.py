"""esa.s2p.vault_project and the esa.s2p.vault_secret lookup against the lab's OpenBao, driven
by the automation AppRole (not root): least privilege per project environment, idempotence,
check mode, and one login per lookup call."""

from __future__ import annotations

import hvac
import pytest
from identity_helpers import clean_vault, play, task, vault_root


@pytest.fixture
def projects(lab, prefix):
    items = [{"project": f"{prefix}a", "environment": "ope", "segment": "pd"},
             {"project": f"{prefix}b", "environment": "ope", "segment": "sd", "secret_id_num_uses": 2,
              "secret_id_ttl": "10m"}]
    yield items
    client, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    for path in (f"pd/{prefix}a/ope/db-password", f"sd/{prefix}b/ope/db-password"):
        try:
            client.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=mount)
        except hvac.exceptions.InvalidPath:
            pass
    clean_vault(lab, prefix)


@pytest.mark.smoke
def test_least_privilege(run_playbook, lab, prefix, projects):
    step = play(task("vault_project", {"projects": projects}))
    check = run_playbook(step, check=True, diff=True)
    assert check.rc == 0 and [p["action"] for p in check.result("t")["projects"]] == ["create", "create"]
    root = vault_root(lab)
    assert f"s2p-{prefix}a-ope" not in root.sys.list_acl_policies()["data"]["keys"]
    real = run_playbook(step)
    assert real.rc == 0, real.stdout
    assert [p["action"] for p in real.result("t")["projects"]] == ["create", "create"]
    assert run_playbook(step).changed == 0 and run_playbook(step, check=True).changed == 0
    without_ids = run_playbook(play(task("vault_project", {"projects": projects, "role_ids": False})))
    assert without_ids.rc == 0 and without_ids.changed == 0
    assert [sorted(p) for p in without_ids.result("t")["projects"]] == [["action", "folder", "name"]] * 2

    role = root.auth.approle.read_role(f"s2p-{prefix}b-ope")["data"]
    assert role["secret_id_num_uses"] == 2 and role["secret_id_ttl"] == 600
    assert role["token_policies"] == [f"s2p-{prefix}b-ope"]

    mount = lab["openbao"]["kv_mount"]
    for segment, project in (("pd", f"{prefix}a"), ("sd", f"{prefix}b")):
        root.secrets.kv.v2.create_or_update_secret(path=f"{segment}/{project}/ope/db-password",
                                                   secret={"password": f"value-of-{project}"}, mount_point=mount)
    role_id = real.result("t")["projects"][0]["role_id"]
    secret_id = root.auth.approle.generate_secret_id(f"s2p-{prefix}a-ope")["data"]["secret_id"]
    app = hvac.Client(url=lab["openbao"]["url"], verify=lab["ca_file"])
    app.auth.approle.login(role_id=role_id, secret_id=secret_id)
    own = app.secrets.kv.v2.read_secret_version(path=f"pd/{prefix}a/ope/db-password", mount_point=mount,
                                                raise_on_deleted_version=True)
    assert own["data"]["data"]["password"] == f"value-of-{prefix}a"
    with pytest.raises(hvac.exceptions.Forbidden):
        app.secrets.kv.v2.read_secret_version(path=f"sd/{prefix}b/ope/db-password", mount_point=mount,
                                              raise_on_deleted_version=True)
    with pytest.raises(hvac.exceptions.Forbidden):
        app.secrets.kv.v2.create_or_update_secret(path=f"pd/{prefix}a/ope/db-password", secret={"x": "y"},
                                                  mount_point=mount)
    with pytest.raises(hvac.exceptions.Forbidden):
        app.sys.list_acl_policies()

    # the lookup, with the project's own AppRole: one login for two terms, and denied elsewhere
    lookup = ("{{ query('esa.s2p.vault_secret', 'pd/%sa/ope/db-password', 'pd/%sa/ope/db-password', "
              "field='password', url=s2p_vault_connection.url, ca_cert=s2p_vault_connection.ca_cert, "
              "auth_method='approle', role_id='%s', secret_id='%s') }}")
    secret_id = root.auth.approle.generate_secret_id(f"s2p-{prefix}a-ope")["data"]["secret_id"]
    run = run_playbook(play({"name": "t", "ansible.builtin.set_fact": {
        "got": lookup % (prefix, prefix, role_id, secret_id)}}, {"name": "check", "ansible.builtin.assert": {
            "that": [f"got == ['value-of-{prefix}a', 'value-of-{prefix}a']"]}}, module_defaults=False))
    assert run.rc == 0, run.stdout
    accessors = root.auth.approle.list_secret_id_accessors(f"s2p-{prefix}a-ope")["data"]["keys"]
    uses = [root.auth.approle.read_secret_id_accessor(f"s2p-{prefix}a-ope", a)["data"]["secret_id_num_uses"]
            for a in accessors]
    assert sorted(uses) == [9, 9]  # each secret_id was used for exactly one login
    denied = lookup.replace("pd/%sa/ope", "sd/%sb/ope", 1)
    secret_id = root.auth.approle.generate_secret_id(f"s2p-{prefix}a-ope")["data"]["secret_id"]
    run = run_playbook(play({"name": "t", "ansible.builtin.set_fact": {
        "got": denied % (prefix, prefix, role_id, secret_id)}}, module_defaults=False))
    assert run.rc != 0 and "permission denied while reading s2p/sd/" in run.stdout

    # removal
    gone = play(task("vault_project", {"projects": [dict(p, state="absent") for p in projects]}))
    assert [p["action"] for p in run_playbook(gone).result("t")["projects"]] == ["delete", "delete"]
    assert f"s2p-{prefix}a-ope" not in root.sys.list_acl_policies()["data"]["keys"]
    assert run_playbook(gone).changed == 0
