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

import json
import re
import secrets
import shutil
from pathlib import Path

import docker
import pytest
import yaml
from awx_helpers import launch_extra_vars, lab_credential_inputs, load_awx_data
from awx_jobs import (
    Job,
    apply_configuration,
    copy_job_templates,
    database_job_rows,
    launch,
    launch_playbook,
    objects_of,
)
from awx_apply_helpers import remove_prefixed
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
    try:
        docker.APIClient(base_url=lab["dockerd"]["docker_host"]).inspect_image("s2p/ee:latest")
    except docker.errors.ImageNotFound:
        pytest.fail("s2p/ee:latest, the image the job templates run in, is not on the lab's dockerd: `make ee`")
    prefix = "t" + secrets.token_hex(3)
    record_prefix(request.config, prefix)  # the leftover check knows it as this module's
    model = prefixed_model(prefix, projects=["neocc"], stations=["flyeye-1"])
    model["preflight__dns_zones"] = ["s2p.esa.int", "10.in-addr.arpa"]  # the copy's domain is no zone
    vault = vault_root(lab)
    marker = "marker-" + secrets.token_hex(12)
    vault.auth.approle.create_custom_secret_id(AUTOMATION_ROLE, marker)
    inputs = lab_credential_inputs(lab)
    lab_secrets = {"vCenter password": inputs["vcenter"]["password"],
                   "LDAP admin password": inputs["ldap"]["bind_pw"], "TSIG secret": inputs["tsig"]["key_secret"],
                   "the lab's AppRole secret_id": inputs["vault"]["secret_id"]}
    inputs["vault"]["secret_id"] = marker
    state = {"prefix": prefix, "model": model, "jobs": [], "launched": set(), "inputs": inputs,
             "secrets": {**lab_secrets, "planted AppRole secret_id": marker}}
    try:
        apply_configuration(tmp_path_factory.mktemp("awx-copy"), prefix, model,
                            copy_job_templates(prefix, LAB_NAMES), inputs)
        (org,) = awx.call("GET", f"/api/v2/organizations/?name={prefix}-S2P")["results"]
        state.update(org=org, templates=objects_of(awx, "job_templates", org["id"]),
                     credentials=objects_of(awx, "credentials", org["id"]),
                     ee=objects_of(awx, "execution_environments", org["id"]),
                     projects=objects_of(awx, "projects", org["id"]))
        (state["inventory"],) = objects_of(awx, "inventories", org["id"]).values()
        yield state
    finally:
        try:
            for job_id in state["jobs"]:
                awx.delete(f"/api/v2/jobs/{job_id}/")
            remove_prefixed(awx, lab, f"{prefix}-")  # the project's branch and AWX's clone too
        finally:
            vault.auth.approle.destroy_secret_id(AUTOMATION_ROLE, marker)
            cleanup_checked(lab, prefix)


def run(awx: Awx, copy: dict, name: str, answers: dict | None = None, defaults: bool = True,
        instance_groups: list[int] | None = None) -> Job:
    """Launch a template of the copy. defaults: every question the answers leave out keeps its
    default, as AWX's launch form pre-fills it (the survey as AWX stores it)."""
    template = copy["templates"][name]
    extra_vars = dict(answers or {})
    if defaults and template["survey_enabled"]:
        spec = awx.call("GET", f"/api/v2/job_templates/{template['id']}/survey_spec/")
        extra_vars = launch_extra_vars({"name": name, "survey_enabled": True, "survey_spec": spec}, extra_vars)
    job = launch(awx, template["id"], extra_vars, instance_groups=instance_groups)
    copy["jobs"].append(job.id)
    copy["launched"].add(name)
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
    """{service name: image and running tasks} of one stack (by its namespace label)."""
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"])
    found = {}
    for service in client.services(filters={"label": f"com.docker.stack.namespace={stack}"}):
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
    # the second as README.md says: playbooks/awx_launch.yml
    output = launch_playbook(copy["prefix"], "S2P site")
    job_id = int(re.search(r"job (\d+) \(S2P site\): successful", output).group(1))
    copy["jobs"].append(job_id)
    second = Job(awx, job_id)
    assert_no_secret(second, copy)
    return {"first": first, "second": second, "launch_output": output}


def test_site_job_converges_the_copy_in_the_execution_environment(site, copy, lab):
    first, prefix = site["first"], copy["prefix"]
    (ee,) = copy["ee"].values()
    assert first.record["execution_environment"] == ee["id"]
    assert "s2p/ee:latest" in first.record["job_args"], first.record["job_args"]  # the container's command
    assert first.record["summary_fields"]["instance_group"]["name"] == f"{prefix}-S2P ESOC"  # the first of *estate
    assert result_of(first, SUMMARY)["msg"][-1].endswith("changed in this run")
    neocc, domain = f"{prefix}-neocc", copy["model"]["s2p_domain"]
    # neocc: dev 1, ire 3, preope 1 at esrin, ope 3 at esrin and 3 at esoc; flyeye-1's VMs
    assert len(vm_names(lab, neocc)) == 1 + 3 + 1 + 3 + 3
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
    output = site["launch_output"]
    assert re.search(r"localhost: ok=\d+ changed=0 failed=0 unreachable=0", output), output


# ---- every template: survey defaults, then explicit answers ------------------------------------

def image(lab: dict) -> str:
    """What the lab's user types into an image question (it has no default: registries differ)."""
    return lab["swarm_sites"]["images"]["busybox"]


def test_preflight_with_defaults_checks_every_backend(awx, copy, site):
    job = unchanged(run(awx, copy, "S2P preflight"))
    assert re.search(r"6 backend\(s\), \d+ check\(s\), 0 failed, all ready", job.stdout), job.stdout[-3000:]


def test_preflight_with_explicit_answers_checks_only_those(awx, copy, site):
    job = unchanged(run(awx, copy, "S2P preflight", {"preflight__backends": ["ldap", "vault"]}))
    assert re.search(r"2 backend\(s\), \d+ check\(s\), 0 failed, all ready", job.stdout), job.stdout[-3000:]


def test_provision_vms_with_defaults_finds_them_in_place(awx, copy, site, lab):
    unchanged(run(awx, copy, "S2P provision VMs"))
    neocc = f"{copy['prefix']}-neocc"
    assert vm_names(lab, f"esrin-{neocc}-ire-") != []


def test_drift_check_on_the_converged_copy_reports_no_drift(awx, copy, site):
    """A check job (job type check, diff mode: drift.yml refuses anything else)."""
    job = unchanged(run(awx, copy, "S2P drift check"))
    assert (job.record["job_type"], job.record["diff_mode"]) == ("check", True)
    assert "no drift: every object of the model matches its backend" in job.stdout, job.stdout[-3000:]


def test_a_vm_removed_by_hand_is_drift_then_provision_brings_it_back(awx, copy, site, lab):
    """The drift check names a VM destroyed behind AWX's back and changes nothing; the provision
    job launched in the site's own instance group (explicit answers) builds it again."""
    neocc = f"{copy['prefix']}-neocc"
    vcsim = Vcsim(endpoint_with_password(lab))
    try:
        (vm, *_rest) = vcsim.vms(f"esrin-{neocc}-ope-")
        gone = vm.name
        if vm.runtime.powerState == "poweredOn":
            _wait(vm.PowerOffVM_Task())
        _wait(vm.Destroy_Task())
    finally:
        vcsim.close()
    drift = run(awx, copy, "S2P drift check")
    assert drift.status == "failed" and "1 objects drifted from the model (vsphere 1)" in drift.stdout, drift.explain()
    assert gone in drift.stdout and vm_names(lab, gone) == []  # reported, not built
    (esrin,) = awx.call("GET", f"/api/v2/instance_groups/?name={copy['prefix']}-S2P%20ESRIN")["results"]
    job = succeeded(run(awx, copy, "S2P provision VMs",
                        {"vm__projects": [neocc], "vm__sites": ["esrin"], "vm__environments": ["ope"]},
                        instance_groups=[esrin["id"]]))
    assert job.changed_tasks(), "the job did not recreate the VM"
    assert job.record["instance_group"] == esrin["id"]  # the site's own group, chosen at launch
    assert gone in vm_names(lab, gone)


def test_telescope_backend_with_defaults_and_explicit_answers(awx, copy, site, lab):
    station = f"{copy['prefix']}-flyeye-1"
    unchanged(run(awx, copy, "S2P telescope backend"))
    unchanged(run(awx, copy, "S2P telescope backend", {"telescope_backend__stations": [station]}))
    stacks = {s["Spec"]["Labels"].get("com.docker.stack.namespace") for s in swarm_objects(lab, station)["services"]}
    assert stacks and all(services(lab, stack) for stack in stacks), stacks


def test_project_environment_with_defaults_and_explicit_answers(awx, copy, site, lab):
    neocc = f"{copy['prefix']}-neocc"
    unchanged(run(awx, copy, "S2P project environment", {"project_stack__default_image": image(lab)}))
    unchanged(run(awx, copy, "S2P project environment",
                  {"project": neocc, "environment_name": "ope", "project_stack__default_image": image(lab)}))
    for env in ("ire", "ope"):
        stack = services(lab, f"{neocc}-{env}")
        assert {s["image"].split("@")[0] for s in stack.values()} == {image(lab)}, stack


def test_promote_with_defaults_then_explicit_answers_pins_the_source_digests(awx, copy, site, lab):
    neocc = f"{copy['prefix']}-neocc"
    for answers, (source, target) in (({}, ("ire", "preope")),
                                      ({"project": neocc, "from_env": "preope", "to_env": "ope"}, ("preope", "ope"))):
        succeeded(run(awx, copy, "S2P promote", answers))
        images = {env: {name.split("_", 1)[1]: s["image"] for name, s in services(lab, f"{neocc}-{env}").items()}
                  for env in (source, target)}
        assert images[target] == images[source] and all("@sha256:" in i for i in images[target].values()), images


def test_duplicate_environment_with_defaults_then_the_same_answers_refused(awx, copy, site, lab):
    neocc = f"{copy['prefix']}-neocc"
    first = succeeded(run(awx, copy, "S2P duplicate environment", {"project_stack__default_image": image(lab)}))
    assert first.changed_tasks()
    stack = services(lab, f"{neocc}-ire2")
    assert len(stack) == 2 and all(s["running"] >= 1 for s in stack.values()), stack
    assert kv_read(lab, f"pd/{neocc}/ire2/ldap-bind")
    again = run(awx, copy, "S2P duplicate environment",
                {"project": neocc, "from_env": "ire", "to_env": "ire2", "project_stack__default_image": image(lab)})
    assert again.status == "failed" and "already exists" in again.failed_tasks(), again.explain()
    assert again.changed_tasks() == []


def test_rotate_credentials_with_defaults_nothing_due_then_forced(awx, copy, site, lab):
    neocc = f"{copy['prefix']}-neocc"
    before, version = account_password(lab, neocc, "ope")
    unchanged(run(awx, copy, "S2P rotate credentials"))
    assert account_password(lab, neocc, "ope")[1] == version
    succeeded(run(awx, copy, "S2P rotate credentials",
                  {"rotate_credentials__projects": [neocc], "rotate_credentials__segments": ["pd"],
                   "rotate_credentials__force": "true"}))
    after, new_version = account_password(lab, neocc, "ope")
    assert new_version > version and after["password"] != before["password"]
    dn = f"uid={neocc}-ope,ou=services,dc=s2p,dc=esa,dc=int"
    assert can_bind(lab, dn, after["password"]) and not can_bind(lab, dn, before["password"])


def test_renew_certificates_with_defaults_then_a_missing_one_reissued(awx, copy, site, lab):
    job = unchanged(run(awx, copy, "S2P renew certificates"))
    assert result_of(job, "Report")["msg"][-1] == "0 due within 30 days, 0 renewed"
    neocc = f"{copy['prefix']}-neocc"
    vault, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    path = f"pd/{neocc}/ire/tls"
    serial = kv_read(lab, path)["data"]
    vault.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=mount)
    job = succeeded(run(awx, copy, "S2P renew certificates", {"renew__days": 365}))
    assert result_of(job, "Report")["msg"][-1] == "1 due within 365 days, 1 renewed", result_of(job, "Report")
    assert kv_read(lab, path)["data"] != serial


def test_decommission_with_defaults_only_reports(awx, copy, site, lab):
    neocc = f"{copy['prefix']}-neocc"
    vms = vm_names(lab, neocc)
    job = succeeded(run(awx, copy, "S2P decommission"))
    assert vm_names(lab, neocc) == vms and services(lab, f"{neocc}-ire"), job.explain()


# ---- AWX refuses, a backend down, the database -------------------------------------------------

def test_an_answer_outside_the_choices_is_refused(awx, copy):
    template = copy["templates"]["S2P project environment"]
    jobs = awx.call("GET", f"/api/v2/job_templates/{template['id']}/jobs/")["count"]
    body = {"extra_vars": {"project": "no-such-project", "environment_name": "ire",
                           "project_stack__default_image": "x:1"}}
    refusal = awx.call("POST", f"/api/v2/job_templates/{template['id']}/launch/", body, expect=(400,))
    assert "no-such-project" in json.dumps(refusal) and "expected to be one of" in json.dumps(refusal), refusal
    assert awx.call("GET", f"/api/v2/job_templates/{template['id']}/jobs/")["count"] == jobs


def test_preflight_fails_naming_the_backend_when_its_port_is_closed(awx, copy, closed_port):
    """The copy's LDAP credential pointed at a closed port (a credential of this module only)."""
    credential = next(c for name, c in copy["credentials"].items() if name.startswith("S2P LDAP bind"))
    inputs = dict(copy["inputs"]["ldap"])
    try:
        awx.call("PATCH", f"/api/v2/credentials/{credential['id']}/",
                 {"inputs": dict(inputs, server_uri=f"ldaps://127.0.0.1:{closed_port}")})
        job = run(awx, copy, "S2P preflight")
        assert job.status == "failed", job.explain()
        assert f"127.0.0.1:{closed_port}" in job.failed_tasks() and "ldap" in job.failed_tasks(), job.explain()
        assert job.changed_tasks() == []
    finally:
        awx.call("PATCH", f"/api/v2/credentials/{credential['id']}/", {"inputs": inputs})


def test_no_secret_in_the_database_job_tables(copy, lab):
    """Every row of every job of the module (stdout, events, extra vars, environment)."""
    rows = database_job_rows(lab, copy["jobs"])
    seen = {json.loads(line).get("id") for line in rows.splitlines()}
    assert set(copy["jobs"]) <= seen, f"jobs not in the database: {sorted(set(copy['jobs']) - seen)}"
    assert len(rows.splitlines()) > 20 * len(copy["jobs"]), "too few rows: events missing?"
    leaked = [what for what, value in copy["secrets"].items() if value in rows]
    assert leaked == [], f"secrets in the AWX database's job tables: {leaked}"


def test_the_secret_checks_see_a_leak(awx, copy, lab):
    """Both checks above would catch a secret: a job that prints its LDAP bind password (a
    manual project of its own: a git project's playbooks are those of its last update)."""
    name = f"{copy['prefix']}-leak-probe"
    folder = Path(lab["awx"]["projects_root"]) / name
    folder.mkdir()
    (folder / "leak_probe.yml").write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug:\n"
        "        msg: \"{{ lookup('ansible.builtin.env', 'LDAPBINDPW') }}\"\n")
    ldap = next(c["id"] for cname, c in copy["credentials"].items() if cname.startswith("S2P LDAP bind"))
    made = []
    try:
        project = awx.create("/api/v2/projects/", {"name": name, "organization": copy["org"]["id"], "scm_type": "",
                                                   "local_path": name})
        made.append(f"/api/v2/projects/{project['id']}/")
        template = awx.create("/api/v2/job_templates/", {
            "name": name, "project": project["id"], "playbook": "leak_probe.yml", "inventory": copy["inventory"]["id"],
            "execution_environment": next(iter(copy["ee"].values()))["id"]})
        made.insert(0, f"/api/v2/job_templates/{template['id']}/")
        awx.call("POST", f"/api/v2/job_templates/{template['id']}/credentials/", {"id": ldap}, expect=(204,))
        job = launch(awx, template["id"])
        made.insert(0, f"/api/v2/jobs/{job.id}/")
        assert job.status == "successful", job.explain()
        with pytest.raises(AssertionError, match="LDAP admin password"):
            assert_no_secret(job, copy)
        assert copy["secrets"]["LDAP admin password"] in database_job_rows(lab, [job.id])
    finally:
        for path in made:
            awx.delete(path)
        shutil.rmtree(folder, ignore_errors=True)
        (folder.parent / f"{name}.lock").unlink(missing_ok=True)


# ---- last: decommission confirmed ----------------------------------------------------------------

def test_decommission_confirmed_removes_the_project(awx, copy, site, lab):
    neocc = f"{copy['prefix']}-neocc"
    job = succeeded(run(awx, copy, "S2P decommission", {"project": neocc, "decommission_confirm": "yes"}))
    assert job.changed_tasks()
    assert vm_names(lab, neocc) == []
    assert swarm_objects(lab, neocc)["services"] == []
    assert kv_read(lab, f"pd/{neocc}/ope/ldap-bind") is None
    assert not can_bind(lab, f"uid={neocc}-ope,ou=services,dc=s2p,dc=esa,dc=int", "x")


def test_every_template_was_launched(copy):
    """A template added to awx/job_templates.yml needs its launches above."""
    assert sorted(set(TEMPLATES) - copy["launched"]) == []
