"""playbooks/project_environment.yml, promote.yml and swarm_cluster.yml on the lab's three-site
swarm, with a private copy of the lab model's project neocc (site_helpers.prefixed_model:
<prefix>-neocc, services web and api; ire and preope on esrin) in a copy of the lab inventory,
so the lab model's own neocc (its stacks and Vault secrets, which `make run` and other tests
use) is never touched; everything named with the prefix is removed afterwards."""

from __future__ import annotations

import random

import docker
import pytest
from conftest import ROOT
from health_helpers import assert_no_marker
from identity_helpers import vault_root
from projenv_helpers import write_inventory
from site_helpers import cleanup_checked, prefixed_model

PLAYBOOKS = ROOT / "playbooks"


@pytest.fixture
def neocc_secrets(lab, prefix):
    """The copy's model secrets for ire and preope, generated in Vault by the deployments (role
    project_stack's default; removed with the prefix). Yields a reader of their values."""
    vault, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    paths = [f"pd/{prefix}-neocc/{env}/{secret}" for env in ("ire", "preope")
             for secret in ("db-password", "api-token")]

    def values():
        found = []
        for path in paths:
            entry = vault.secrets.kv.v2.read_secret_version(path=path, mount_point=mount,
                                                            raise_on_deleted_version=False)
            found.append(entry["data"]["data"]["value"])
        return found

    return values


@pytest.fixture
def neocc(lab, run_playbook, prefix, tmp_path):
    """The extra vars of the copy's neocc (<prefix>-neocc), its inventory and a random base of
    published ports; afterwards both environments are torn down by the playbook, then
    everything named with the prefix is removed, and nothing may be left (cleanup_checked)."""
    inventory = write_inventory(tmp_path, model=prefixed_model(prefix, projects=["neocc"], stations=[]))
    base = random.randrange(31000, 32000, 4)
    extravars = {
        "project": f"{prefix}-neocc",
        # only the stack of the unit (test_project_environment.py covers accounts, secrets and names)
        "project_environment__manage_vault": False, "project_environment__manage_ldap": False,
        "project_environment__manage_dns": False, "project_environment__manage_certificate": False,
        "project_stack__default_image": lab["swarm_sites"]["images"]["busybox"],
        "project_stack__replicas": 1,
        "project_stack__commands": {"web": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
                                    "api": ["httpd", "-f", "-p", "8000", "-h", "/var/www"]},
    }
    try:
        yield extravars, base, inventory
    finally:
        try:
            for env in ("ire", "preope"):
                run_playbook(PLAYBOOKS / "project_environment.yml", inventory=inventory,
                             extravars=dict(extravars, environment_name=env, state="absent"))
        finally:
            cleanup_checked(lab, prefix)


def test_project_environment_rerun_and_promote(lab, run_playbook, neocc, neocc_secrets):
    extravars, base, inventory = neocc
    project = extravars["project"]
    ire = dict(extravars, environment_name="ire",
               project_stack__published_ports={"web": base, "api": base + 1})
    first = run_playbook(PLAYBOOKS / "project_environment.yml", inventory=inventory, extravars=ire, verbosity=4)
    assert first.rc == 0 and first.changed == 1, first.stdout[-3000:]
    again = run_playbook(PLAYBOOKS / "project_environment.yml", inventory=inventory, extravars=ire)
    assert again.rc == 0 and again.changed == 0, again.stdout[-3000:]
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"])
    nodes = {n["ID"]: n["Spec"]["Labels"].get("site") for n in client.nodes()}
    for service in ("web", "api"):
        tasks = client.tasks(filters={"service": f"{project}-ire_{service}", "desired-state": "running"})
        assert [nodes[t["NodeID"]] for t in tasks] == ["esrin"]  # the model puts ire on esrin
        refs = client.inspect_service(f"{project}-ire_{service}")["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"]
        assert sorted(r["File"]["Name"] for r in refs) == ["api-token", "db-password"]  # from Vault

    promote = run_playbook(PLAYBOOKS / "promote.yml", inventory=inventory,
                           extravars=dict(extravars, from_env="ire", to_env="preope",
                                          project_stack__published_ports={"web": base + 2, "api": base + 3}))
    assert promote.rc == 0, promote.stdout[-3000:]
    for service in ("web", "api"):
        source = client.inspect_service(f"{project}-ire_{service}")["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
        target = client.inspect_service(f"{project}-preope_{service}")["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
        assert "@sha256:" in source and target == source
    values = neocc_secrets()  # every one in Vault now (generated by the runs when missing)
    assert len(set(values)) == 4
    for run in (first, promote):
        assert_no_marker(run, *values)


def test_promote_refuses_an_unhealthy_source(lab, run_playbook, neocc):
    extravars, _base, inventory = neocc
    project = extravars["project"]
    failing = dict(extravars, environment_name="ire", project_stack__wait_timeout=120,
                   project_stack__commands={"web": ["sh", "-c", "exit 3"],
                                            "api": ["httpd", "-f", "-p", "8000", "-h", "/var/www"]})
    deployed = run_playbook(PLAYBOOKS / "project_environment.yml", inventory=inventory, extravars=failing)
    assert deployed.rc != 0 and f"{project}-ire_web never became healthy" in deployed.stdout, deployed.stdout[-3000:]
    run = run_playbook(PLAYBOOKS / "promote.yml", inventory=inventory,
                       extravars=dict(extravars, from_env="ire", to_env="preope"))
    assert run.rc != 0 and run.changed == 0, run.stdout[-3000:]
    assert f"{project}-ire_web is not healthy (" in run.stdout and "): nothing promoted" in run.stdout, \
        run.stdout[-3000:]
    assert "task(s) failed in the last 300 s" in run.stdout
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"])
    assert not client.services(filters={"label": f"com.docker.stack.namespace={project}-preope"})  # target untouched


def test_promote_refuses_an_empty_source(run_playbook, neocc):
    extravars, _base, inventory = neocc
    run = run_playbook(PLAYBOOKS / "promote.yml", inventory=inventory,
                       extravars=dict(extravars, from_env="dev", to_env="ire"))
    assert run.rc != 0
    assert f"{extravars['project']}-dev has no services: nothing to promote" in run.stdout


@pytest.mark.smoke
def test_swarm_cluster_playbook_leaves_the_lab_swarm_unchanged(run_playbook):
    run = run_playbook(PLAYBOOKS / "swarm_cluster.yml")
    assert run.rc == 0 and run.changed == 0, run.stdout[-3000:]
