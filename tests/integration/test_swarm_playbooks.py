"""playbooks/project_environment.yml, promote.yml and swarm_cluster.yml on the lab's three-site
swarm, with the lab model's project neocc (services web and api; ire and preope on esrin)."""

from __future__ import annotations

import random
import secrets

import docker
import hvac
import pytest
from conftest import ROOT
from health_helpers import assert_no_marker
from identity_helpers import vault_root

PLAYBOOKS = ROOT / "playbooks"


@pytest.fixture
def neocc_secrets(lab):
    """neocc's model secrets in Vault for ire and preope (where missing; removed again after)."""
    vault, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    created, values = [], []
    for env in ("ire", "preope"):
        for secret in ("db-password", "api-token"):
            path = f"pd/neocc/{env}/{secret}"
            current = None
            if secret in _listed(vault, mount, f"pd/neocc/{env}"):
                current = vault.secrets.kv.v2.read_secret_version(
                    path=path, mount_point=mount, raise_on_deleted_version=False)
            if current and (current["data"].get("data") or {}).get("value"):
                values.append(current["data"]["data"]["value"])
                continue
            values.append("marker-" + secrets.token_hex(8))
            vault.secrets.kv.v2.create_or_update_secret(path=path, secret={"value": values[-1]}, mount_point=mount)
            created.append(path)
    yield values
    for path in created:
        vault.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=mount)


def _listed(vault, mount, folder):
    try:
        return vault.secrets.kv.v2.list_secrets(path=folder, mount_point=mount)["data"]["keys"]
    except hvac.exceptions.InvalidPath:
        return []


@pytest.fixture
def neocc(lab, run_playbook, neocc_secrets):
    base = random.randrange(31000, 32000, 4)
    extravars = {
        "project": "neocc",
        # only the stack of the unit (the lab model's neocc keeps its accounts, secrets and names)
        "project_environment__manage_vault": False, "project_environment__manage_ldap": False,
        "project_environment__manage_dns": False, "project_environment__manage_certificate": False,
        "project_stack__default_image": lab["swarm_sites"]["images"]["busybox"],
        "project_stack__vault_secrets": True,  # the secrets written above, read from Vault
        "project_stack__replicas": 1,
        "project_stack__commands": {"web": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
                                    "api": ["httpd", "-f", "-p", "8000", "-h", "/var/www"]},
    }
    yield extravars, base
    for env in ("ire", "preope"):
        run_playbook(PLAYBOOKS / "project_environment.yml",
                     extravars=dict(extravars, environment_name=env, state="absent"))


def test_project_environment_rerun_and_promote(lab, run_playbook, neocc, neocc_secrets):
    extravars, base = neocc
    ire = dict(extravars, environment_name="ire",
               project_stack__published_ports={"web": base, "api": base + 1})
    first = run_playbook(PLAYBOOKS / "project_environment.yml", extravars=ire, verbosity=4)
    assert first.rc == 0 and first.changed == 1, first.stdout[-3000:]
    assert_no_marker(first, *neocc_secrets)
    again = run_playbook(PLAYBOOKS / "project_environment.yml", extravars=ire)
    assert again.rc == 0 and again.changed == 0, again.stdout[-3000:]
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"])
    nodes = {n["ID"]: n["Spec"]["Labels"].get("site") for n in client.nodes()}
    for service in ("web", "api"):
        tasks = client.tasks(filters={"service": f"neocc-ire_{service}", "desired-state": "running"})
        assert [nodes[t["NodeID"]] for t in tasks] == ["esrin"]  # the model puts ire on esrin
        refs = client.inspect_service(f"neocc-ire_{service}")["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"]
        assert sorted(r["File"]["Name"] for r in refs) == ["api-token", "db-password"]  # read from Vault

    promote = run_playbook(PLAYBOOKS / "promote.yml",
                           extravars=dict(extravars, from_env="ire", to_env="preope",
                                          project_stack__published_ports={"web": base + 2, "api": base + 3}))
    assert promote.rc == 0, promote.stdout[-3000:]
    for service in ("web", "api"):
        source = client.inspect_service(f"neocc-ire_{service}")["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
        target = client.inspect_service(f"neocc-preope_{service}")["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
        assert "@sha256:" in source and target == source


def test_promote_refuses_an_empty_source(run_playbook, neocc):
    extravars = neocc[0]
    run = run_playbook(PLAYBOOKS / "promote.yml", extravars=dict(extravars, from_env="dev", to_env="ire"))
    assert run.rc != 0
    assert "neocc-dev has no services: nothing to promote" in run.stdout


def test_swarm_cluster_playbook_leaves_the_lab_swarm_unchanged(run_playbook):
    run = run_playbook(PLAYBOOKS / "swarm_cluster.yml")
    assert run.rc == 0 and run.changed == 0, run.stdout[-3000:]
