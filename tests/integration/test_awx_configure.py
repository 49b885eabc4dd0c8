"""playbooks/awx_configure.yml applied to the lab AWX (`make awx-up`) with inventories/lab, which
selects awx/lab/controller.yml: the organization, execution environment (s2p/ee:latest, never
pulled), the manual project holding a copy of this checkout, the inventory holding the lab model,
the credential types, one credential of each with the lab's real connection values, and the job
templates with their surveys. Everything is named with a random prefix (awx_lab_prefix) and
removed afterwards, so the lab's own S2P objects are never touched.

A second apply changes nothing but the credentials that have a secret input: AWX never returns a
secret, so awx.awx.credential cannot compare it and always sends it again (docs/awx.md)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from pathlib import Path

import pytest
import yaml
from awx_helpers import ROOT, VENV_BIN, _Loader, load_awx_data
from awx_jobs import remove_organization
from awx_service_helpers import Awx

pytestmark = [pytest.mark.awx, pytest.mark.xdist_group("awx")]

DATA = load_awx_data()
LAB_INPUTS = yaml.load((ROOT / "awx" / "lab" / "controller.yml").read_text(), Loader=_Loader)["awx_credential_inputs"]
# The credentials given a secret input by the lab (the Docker one has no client key there).
SECRET_TYPES = {t["name"] for t in DATA["awx_credential_types"]
                if any(f.get("secret") and f["id"] in LAB_INPUTS.get(t["id"], {}) for f in t["inputs"]["fields"])}


def apply(prefix: str) -> str:
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    for name in [n for n in env if n.startswith(("CONTROLLER_", "TOWER_", "S2P_AWX_"))]:
        del env[name]  # the lab's controller and inputs only
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(ROOT / "inventories" / "lab"),
                           str(ROOT / "playbooks" / "awx_configure.yml"), "-e", f"awx_lab_prefix={prefix}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=900)
    assert proc.returncode == 0, f"awx_configure.yml failed:\n{proc.stdout[-5000:]}\n{proc.stderr[-2000:]}"
    return proc.stdout


def changed_tasks(stdout: str) -> dict[str, int]:
    """{task: number of changed results} from the default callback's output."""
    counts, task = {}, None
    for line in stdout.splitlines():
        match = re.match(r"TASK \[(.+?)\] \*", line)
        if match:
            task = match.group(1)
        elif line.startswith("changed: ["):
            counts[task] = counts.get(task, 0) + 1
    return counts


@pytest.fixture(scope="module")
def awx(lab) -> Awx:
    if "awx" not in lab:
        pytest.fail("the lab AWX is not up: run `make awx-up` (python3 lab/lab.py up awx) first")
    endpoint = lab["awx"]
    return Awx(endpoint["url"], endpoint["username"], Path(endpoint["password_file"]).read_text().strip())


def remove_prefixed(awx: Awx, lab: dict, prefix: str) -> None:
    """Every object awx_configure.yml made under the prefix (its organization's content first)."""
    remove_organization(awx, f"{prefix}S2P", [], Path(lab["awx"]["projects_root"]), f"{prefix}esa.s2p")


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
    assert (project["scm_type"], project["local_path"], project["status"]) == ("", f"{prefix}esa.s2p", "ok")
    copy = Path(lab["awx"]["projects_root"]) / project["local_path"]
    assert (copy / "playbooks" / "site.yml").read_text() == (ROOT / "playbooks" / "site.yml").read_text()
    assert (copy / ".build/collections/ansible_collections/esa/s2p/galaxy.yml").is_file()  # the link to the copy
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
