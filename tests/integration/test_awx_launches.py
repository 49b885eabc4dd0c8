"""Every job template of awx/ launched through the lab AWX's REST API, running in the execution
environment image (s2p/ee:latest, `make ee`) on the lab's dockerd, against the lab's servers.

awx_configure.yml applies the objects for a private copy of the lab model (awx_jobs: every AWX
object named <prefix>-..., every backend object <prefix>-...; project neocc and station
flyeye-1), with the lab's credentials, the Vault one logging in with a random secret_id planted
for this module. Then:
- "S2P site" converges the copy (read back with the backends' own clients) and a second launch
  changes nothing;
- every template is launched with its survey defaults as the launch form fills them, and again
  with explicit answers; each job succeeds (or is refused by design) and its effect is read back
  in the backends;
- an answer outside a question's choices is refused by AWX (HTTP 400, no job);
- the preflight job fails, naming the backend, when a credential points at a closed port;
- the lab's secrets (random per lab) and the planted secret_id appear in no job's stdout, events
  or record, nor in the rows of the AWX database's job tables.
Last, "S2P decommission" with confirmation removes the copy; everything named with the prefix is
removed afterwards and the backends are searched for leftovers.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import docker
import hvac
import pytest
import yaml
from awx_helpers import launch_extra_vars, lab_credential_inputs, load_awx_data
from awx_jobs import (
    Job,
    apply_configuration,
    copy_job_templates,
    database_job_tables,
    launch,
    objects_of,
    remove_organization,
)
from awx_service_helpers import Awx
from dns_helpers import Bind
from identity_helpers import can_bind, kv_read, vault_root
from leftovers_plugin import record_prefix
from site_helpers import LAB_MODEL, cleanup_checked, prefixed_model, swarm_objects
from vsphere_helpers import Vcsim, _wait, endpoint_with_password

pytestmark = [pytest.mark.awx, pytest.mark.xdist_group("awx")]

DATA = load_awx_data()
TEMPLATES = [t["name"] for t in DATA["awx_job_templates"]]
AUTOMATION_ROLE = "s2p-automation"  # the lab's AppRole (lab/services/openbao.py)
LAB_NAMES = frozenset(item["name"] for model in [yaml.safe_load(LAB_MODEL.read_text())]
                      for item in model["s2p_projects"] + model["s2p_stations"])
SUMMARY = "Summary per site"


@pytest.fixture(scope="module")
def awx(lab) -> Awx:
    if "awx" not in lab:
        pytest.fail("the lab AWX is not up: run `make awx-up` (python3 lab/lab.py up awx) first")
    return Awx(lab["awx"]["url"], lab["awx"]["username"], Path(lab["awx"]["password_file"]).read_text().strip())


@pytest.fixture(scope="module")
def copy(lab, awx, request, tmp_path_factory):
    """The copy's AWX objects, applied once for the module; its secrets; the jobs launched."""
    prefix = "t" + secrets.token_hex(3)
    record_prefix(request.config, prefix)  # the leftover check knows it as this module's
    model = prefixed_model(prefix, projects=["neocc"], stations=["flyeye-1"])
    model["preflight__dns_zones"] = ["s2p.esa.int", "10.in-addr.arpa"]  # the copy's domain is no zone
    vault = vault_root(lab)
    marker = "marker-" + secrets.token_hex(12)
    vault.auth.approle.create_custom_secret_id(AUTOMATION_ROLE, marker)
    inputs = lab_credential_inputs(lab)
    lab_secrets = {"vCenter password": inputs["vcenter"]["password"], "LDAP admin password": inputs["ldap"]["bind_pw"],
                   "TSIG secret": inputs["tsig"]["key_secret"], "the lab's AppRole secret_id": inputs["vault"]["secret_id"]}
    inputs["vault"]["secret_id"] = marker
    state = {"prefix": prefix, "model": model, "jobs": [], "inputs": inputs,
             "secrets": {**lab_secrets, "planted AppRole secret_id": marker}}
    try:
        apply_configuration(tmp_path_factory.mktemp("awx-copy"), prefix, model,
                            copy_job_templates(prefix, LAB_NAMES), inputs)
        (org,) = awx.call("GET", f"/api/v2/organizations/?name={prefix}-S2P")["results"]
        state.update(org=org, templates=objects_of(awx, "job_templates", org["id"]),
                     credentials=objects_of(awx, "credentials", org["id"]),
                     ee=objects_of(awx, "execution_environments", org["id"]))
        yield state
    finally:
        try:
            remove_organization(awx, f"{prefix}-S2P", state["jobs"], Path(lab["awx"]["projects_root"]),
                                f"{prefix}-esa.s2p")
        finally:
            vault.auth.approle.destroy_secret_id(AUTOMATION_ROLE, marker)
            cleanup_checked(lab, prefix)


def run(awx: Awx, copy: dict, name: str, answers: dict | None = None, defaults: bool = True) -> Job:
    """Launch a template of the copy. defaults: every question the answers leave out keeps its
    default, as AWX's launch form pre-fills it (the survey as AWX stores it)."""
    template = copy["templates"][name]
    extra_vars = dict(answers or {})
    if defaults and template["survey_enabled"]:
        spec = awx.call("GET", f"/api/v2/job_templates/{template['id']}/survey_spec/")
        extra_vars = launch_extra_vars({"name": name, "survey_enabled": True, "survey_spec": spec}, extra_vars)
    job = launch(awx, template["id"], extra_vars)
    copy["jobs"].append(job.id)
    assert_no_secret(job, copy)
    return job


def assert_no_secret(job: Job, copy: dict) -> None:
    text = job.text()
    leaked = [what for what, value in copy["secrets"].items() if value in text]
    assert leaked == [], f"job {job.id} ({job.record['name']}) shows secrets: {leaked}"


def succeeded(job: Job) -> Job:
    assert job.status == "successful", job.explain()
    return job


def unchanged(job: Job) -> Job:
    succeeded(job)
    assert job.changed_tasks() == [], f"job {job.id} changed: {job.changed_tasks()}"
    return job


def result_of(job: Job, task: str):
    """The result of the task's last ok event."""
    results = [e["event_data"]["res"] for e in job.events if e["event"] == "runner_on_ok" and e["task"] == task]
    assert results, f"job {job.id}: no result of the task {task!r}"
    return results[-1]


# ---- what the backends hold of the copy ---------------------------------------------------

def vm_names(lab: dict, part: str) -> list[str]:
    vcsim = Vcsim(endpoint_with_password(lab))
    try:
        return sorted(vm.name for vm in vcsim.vms(part))
    finally:
        vcsim.close()


def services(lab: dict, stack: str) -> dict[str, dict]:
    """{service name: spec} of the copy's stack, with its running tasks counted."""
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"])
    found = {}
    for service in swarm_objects(lab, stack + "_")["services"]:
        name = service["Spec"]["Name"]
        running = client.tasks(filters={"service": name, "desired-state": "running"})
        found[name] = {"image": service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"],
                       "running": sum(t["Status"]["State"] == "running" for t in running)}
    return found


def account_password(lab: dict, neocc: str, env: str) -> tuple[dict, int]:
    """The account's Vault secret and its current version."""
    path = f"pd/{neocc}/{env}/ldap-bind"
    secret = kv_read(lab, path)
    assert secret, f"no Vault secret at {path}"
    return secret["data"], secret["metadata"]["version"]


# ---- S2P site: converge, then nothing changed --------------------------------------------------

@pytest.fixture(scope="module")
def site(awx, copy, lab):
    """The copy converged by "S2P site" (launched twice; the tests below build on it)."""
    first = succeeded(run(awx, copy, "S2P site"))
    second = run(awx, copy, "S2P site")
    return {"first": first, "second": second}


def test_site_job_converges_the_copy_in_the_execution_environment(site, copy, lab):
    first, prefix = site["first"], copy["prefix"]
    (ee,) = copy["ee"].values()
    assert first.record["execution_environment"] == ee["id"]
    assert "s2p/ee:latest" in first.record["job_args"], first.record["job_args"]  # the container's command
    assert result_of(first, SUMMARY)["msg"][-1].endswith("changed in this run")
    neocc, domain = f"{prefix}-neocc", copy["model"]["s2p_domain"]
    # neocc: dev 1, ire 3, preope 1 at esrin, ope 3 at esrin and 3 at esoc; flyeye-1's VMs
    assert len([n for n in vm_names(lab, neocc)]) == 1 + 3 + 1 + 3 + 3
    assert vm_names(lab, f"{prefix}-flyeye-1")
    bind = Bind(lab)
    assert len(bind.rrset(f"web.{neocc}.{domain}", "A")) == 6
    assert bind.rrset(f"api.{neocc}.ire.{domain}", "A")
    password, _version = account_password(lab, neocc, "ope")
    assert can_bind(lab, f"uid={neocc}-ope,ou=services,dc=s2p,dc=esa,dc=int", password["password"])
    for env in ("ire", "preope", "ope"):
        stack = services(lab, f"{neocc}-{env}")
        assert len(stack) == 2 and all(s["running"] >= 1 for s in stack.values()), (env, stack)


def test_second_site_launch_changes_nothing(site):
    second = unchanged(site["second"])
    assert result_of(second, SUMMARY)["msg"][-1] == "nothing changed in this run"
