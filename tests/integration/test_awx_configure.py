"""playbooks/awx_configure.yml applied to the lab AWX (`make awx-up`) with inventories/lab, which
selects awx/lab/controller.yml: the organization, execution environment (s2p/ee:latest, never
pulled), the git project of this checkout (published to the lab's git server), the inventory
holding the lab model with its vCenter source, the credential types, one credential of each with
the lab's real connection values, the job templates with their surveys and the schedules
(test_awx_project_inventory.py runs the inventory update). Everything is named with a random
prefix (awx_lab_prefix) and removed afterwards, so the lab's own S2P objects are never touched.

A second apply changes nothing but the credentials that have a secret input: AWX never returns a
secret, so awx.awx.credential cannot compare it and always sends it again (docs/awx.md)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import yaml
from awx_apply_helpers import apply, branch_commit, changed_tasks, project_branch, remove_prefixed
from awx_helpers import ROOT, _Loader, load_awx_data
from awx_service_helpers import Awx

pytestmark = [pytest.mark.awx, pytest.mark.xdist_group("awx")]

DATA = load_awx_data()
LAB_INPUTS = yaml.load((ROOT / "awx" / "lab" / "controller.yml").read_text(), Loader=_Loader)["awx_credential_inputs"]
# The credentials given a secret input by the lab (the Docker one has no client key there).
SECRET_TYPES = {t["name"] for t in DATA["awx_credential_types"]
                if any(f.get("secret") and f["id"] in LAB_INPUTS.get(t["id"], {}) for f in t["inputs"]["fields"])}


@pytest.fixture(scope="module")
def awx(lab) -> Awx:
    if "awx" not in lab:
        pytest.fail("the lab AWX is not up: run `make awx-up` (python3 lab/lab.py up awx) first")
    endpoint = lab["awx"]
    return Awx(endpoint["url"], endpoint["username"], Path(endpoint["password_file"]).read_text().strip())


@pytest.fixture(scope="module")
def applied(awx, lab):
    prefix = f"t{secrets.token_hex(3)}-"
    try:
        first = apply(prefix)
        second = apply(prefix)
        yield {"prefix": prefix, "first": first, "second": second}
    finally:
        remove_prefixed(awx, lab, prefix)


def test_second_apply_changes_only_the_credentials_with_a_secret(applied):
    assert changed_tasks(applied["first"]), "the first apply changed nothing"
    changed = changed_tasks(applied["second"])
    credentials_task = "Credentials (inputs from S2P_AWX_<TYPE>_<FIELD> or awx_credential_inputs)"
    assert changed == {credentials_task: len(SECRET_TYPES)}, changed


def test_the_objects_are_in_awx_as_the_lab_needs_them(applied, awx, lab):
    prefix = applied["prefix"]
    (org,) = awx.call("GET", f"/api/v2/organizations/?name={prefix}S2P")["results"]
    (ee,) = awx.call("GET", f"/api/v2/execution_environments/?organization={org['id']}")["results"]
    assert (ee["image"], ee["pull"]) == ("s2p/ee:latest", "never")
    (project,) = awx.call("GET", f"/api/v2/projects/?organization={org['id']}")["results"]
    assert (project["scm_type"], project["scm_url"], project["scm_branch"], project["status"]) == \
        ("git", lab["git_server"]["url"], project_branch(prefix), "successful")
    assert project["scm_revision"] == branch_commit(lab, project_branch(prefix))  # the published checkout
    assert "playbooks/site.yml" in awx.call("GET", f"/api/v2/projects/{project['id']}/playbooks/")
    (inventory,) = awx.call("GET", f"/api/v2/inventories/?organization={org['id']}")["results"]
    hosts = awx.call("GET", f"/api/v2/inventories/{inventory['id']}/hosts/")["results"]
    assert [h["name"] for h in hosts] == ["localhost"]
    assert {"s2p_projects", "s2p_lab", "s2p_swarm_nodes"} <= set(yaml.safe_load(inventory["variables"]))
    credentials = awx.call("GET", f"/api/v2/credentials/?organization={org['id']}")["results"]
    expected = sorted(t["name"] + f" ({prefix}lab)" for t in DATA["awx_credential_types"])
    assert sorted(c["name"] for c in credentials) == expected
    templates = awx.call("GET", f"/api/v2/job_templates/?organization={org['id']}&page_size=50")["results"]
    assert sorted(t["name"] for t in templates) == sorted(t["name"] for t in DATA["awx_job_templates"])
    assert {t["execution_environment"] for t in templates} == {ee["id"]}


def test_no_secret_of_the_lab_reaches_the_output(applied, lab):
    values = {what: Path(path).read_text().strip() for what, path in (
        ("vCenter password", lab["vcsim"]["password_file"]),
        ("LDAP admin password", lab["slapd"]["admin_password_file"]),
        ("TSIG secret", lab["bind"]["tsig_secret_file"]),
        ("AppRole secret_id", lab["openbao"]["automation_secret_id_file"]),
        ("AWX admin password", lab["awx"]["password_file"]))}
    leaked = [what for what, value in values.items() if value in applied["first"] + applied["second"]]
    assert leaked == []
