"""Every AWX job template of awx/ run through ansible-runner as AWX runs it, against the lab.

For each template (data-driven from awx/job_templates.yml, as awx_configure.yml renders it):
extra vars from a launch that keeps the survey defaults; the environment and extra-var files
rendered from the template's credentials with AWX's injector rules, holding the lab's real
credentials; an inventory without the s2p_*_connection dicts, so the modules read that
environment. Two launches: both succeed, the second changes nothing, and neither the job
events nor stdout (the second at -vvvv) hold any secret: the vCenter password, the LDAP
admin password, the TSIG secret, the lab's AppRole secret_id, and a random secret_id planted
in Vault for these runs (the credential logs in with it; it is destroyed afterwards).
A template whose playbook does not exist fails.

The AWX inventory holds a private copy of the part of the lab model the surveys name (site_helpers.prefixed_model: every
project and station named <prefix>-<name>, the domain <prefix>.s2p.esa.int, address blocks
moved) with one random prefix for the module, so the jobs never touch the lab model's own
objects, which `make run` and other tests use. The survey choices are computed from that
model, and a survey default naming a lab project or station names its copy (neocc becomes
<prefix>-neocc), as the copy's AWX admin would set them. At the end of the module every
object named with the prefix is removed, and the removal is checked in every backend.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

import ansible_runner
import docker
import hvac
import pytest
import yaml
from ansible.plugins.loader import init_plugin_loader
from awx_helpers import (
    ROOT,
    VENV_BIN,
    awx_inventory,
    inject_credential,
    lab_credential_inputs,
    launch_extra_vars,
    load_awx_data,
    render_awx_objects,
)
from leftovers_plugin import record_prefix
from site_helpers import LAB_MODEL, cleanup_checked, prefixed_model

init_plugin_loader([str(ROOT / ".build" / "collections")])
from ansible_collections.esa.s2p.plugins.module_utils.model.naming import stack_name  # noqa: E402

DATA = load_awx_data()
TEMPLATE_NAMES = [jt["name"] for jt in DATA["awx_job_templates"]]
TYPES_BY_NAME = {t["name"] + DATA["awx_credential_name_suffix"]: t for t in DATA["awx_credential_types"]}
AUTOMATION_ROLE = "s2p-automation"  # the lab's AppRole (lab/services/openbao.py)
# The names of the lab model's projects and stations: survey defaults name them.
LAB_NAMES = frozenset(item["name"] for model in [yaml.safe_load(LAB_MODEL.read_text())]
                      for item in model["s2p_projects"] + model["s2p_stations"])

# The copy of the lab model the jobs run on: what the surveys' defaults name (project neocc,
# station flyeye-1), so "S2P site" converges a small estate (the whole lab model is `make run`'s).
ESTATE_PROJECTS = ["neocc"]
ESTATE_STATIONS = ["flyeye-1"]

# One xdist worker runs the module: its launches build on each other on one prefixed estate
# (a module fixture), e.g. promote after the project environment, decommission after site.
pytestmark = pytest.mark.xdist_group("awx-job-templates")

# Job templates that need another one to have run first (AWX: a workflow or an earlier job).
# Rotation and renewal work on what the site job built, so in any order of the tests (they run
# shuffled too) the site job runs first when it has not yet.
PREREQUISITES = {"S2P promote": ["S2P project environment"], "S2P rotate credentials": ["S2P site"],
                 "S2P renew certificates": ["S2P site"], "S2P duplicate environment": ["S2P site"],
                 "S2P decommission": ["S2P site"]}


# What the lab's AWX admin would add to some templates' extra_vars: the lab's busybox image
# needs a command to keep running, and one replica is enough.
LAB_STACK = {"project_stack__replicas": 1,
             "project_stack__commands": {"web": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
                                         "api": ["httpd", "-f", "-p", "8000", "-h", "/var/www"]}}
LAB_EXTRA_VARS = {"S2P project environment": LAB_STACK, "S2P promote": LAB_STACK,
                  "S2P duplicate environment": LAB_STACK}

# Stacks a template's default launch deploys (lab project, environment; the copy's stack is
# <prefix>-<project>-<environment>), removed after the tests.
DEPLOYS = {"S2P project environment": [("neocc", "ire")], "S2P promote": [("neocc", "preope")]}

# Templates whose second launch with the same answers is refused by design, changing nothing:
# {name: (the refusal in the failed task, the playbook and extra vars that tear the first launch down)}.
# duplicate_environment.yml never overwrites an existing environment.
REFUSED_ON_RERUN = {
    "S2P duplicate environment": (
        "already exists",
        lambda ev: ("playbooks/project_environment.yml",
                    {"project": ev["project"], "environment_name": ev["to_env"], "copy_of": ev["from_env"],
                     "state": "absent"})),
}

# Templates that cannot succeed yet for a reason outside awx/: {name: (expected error, why)}.
# The test checks the failure is exactly this one, and fails once the template succeeds.
KNOWN_DEFECTS: dict[str, tuple[str, str]] = {}

# Templates whose default launch only reports (check mode): their tasks report what WOULD change,
# so both launches must report the same, and nothing may have been removed in between.
REPORT_ONLY = {"S2P decommission"}


def lab_answers(lab: dict) -> dict:
    """What a user of the lab types into the survey questions that have no default there."""
    return {"project_stack__default_image": lab["swarm_sites"]["images"]["busybox"]}


@pytest.fixture(scope="module")
def prefix(lab, request):
    """One random name prefix for the whole module (the launches build on each other: promote
    needs the project environment). Afterwards every object named with it is removed, and the
    backends are searched for anything left (site_helpers.cleanup_checked)."""
    name = "t" + secrets.token_hex(3)
    record_prefix(request.config, name)  # the leftover check knows it as this run's
    yield name
    cleanup_checked(lab, name)


def prefixed_defaults(job_template: dict, prefix: str) -> dict:
    """The template as the AWX admin of the prefixed copy sets it up: a survey default of a
    choice question that names a lab project or station names its copy, <prefix>-<name>
    (a multiselect's default is one name per line, as awx_configure.yml renders it)."""
    if not job_template.get("survey_enabled"):
        return job_template
    spec = []
    for element in job_template["survey_spec"]["spec"]:
        if element["type"] in ("multiplechoice", "multiselect") and element.get("default"):
            names = element["default"].split("\n")
            element = dict(element, default="\n".join(f"{prefix}-{n}" if n in LAB_NAMES else n for n in names))
        spec.append(element)
    return dict(job_template, survey_spec=dict(job_template["survey_spec"], spec=spec))


@pytest.fixture(scope="module")
def awx(tmp_path_factory, prefix) -> dict:
    """The rendered job templates (by name, survey defaults on the copy's names) and the
    AWX-style inventory of the lab holding the prefixed copy of the lab model."""
    model = prefixed_model(prefix, projects=ESTATE_PROJECTS, stations=ESTATE_STATIONS)
    # the copy's domain <prefix>.s2p.esa.int is no zone of its own: preflight checks the lab's zones
    model["preflight__dns_zones"] = ["s2p.esa.int", "10.in-addr.arpa"]
    inventory = awx_inventory(tmp_path_factory.mktemp("awx-inventory"), model=model)
    objects = render_awx_objects(inventory, tmp_path_factory.mktemp("awx-objects"))
    return {"inventory": inventory, "prefix": prefix,
            "templates": {jt["name"]: prefixed_defaults(jt, prefix) for jt in objects["job_templates"]}}


@pytest.fixture(scope="module")
def credentials(lab) -> dict:
    """The lab's credential inputs, the Vault one logging in with a planted random secret_id."""
    inputs = lab_credential_inputs(lab)
    openbao = lab["openbao"]
    client = hvac.Client(url=openbao["url"], token=Path(openbao["root_token_file"]).read_text().strip(),
                         verify=lab["ca_file"])
    marker = "marker-" + secrets.token_hex(12)
    client.auth.approle.create_custom_secret_id(AUTOMATION_ROLE, marker)
    real = {name: inputs[cred][field] for name, cred, field in (
        ("vCenter password", "vcenter", "password"), ("LDAP admin password", "ldap", "bind_pw"),
        ("TSIG secret", "tsig", "key_secret"), ("AppRole secret_id of the lab", "vault", "secret_id"))}
    inputs["vault"]["secret_id"] = marker
    try:
        yield {"inputs": inputs, "secrets": {**real, "planted AppRole secret_id": marker}, "answers": lab_answers(lab)}
    finally:
        client.auth.approle.destroy_secret_id(AUTOMATION_ROLE, marker)


def launch(job_template: dict, awx: dict, credentials: dict, workdir: Path, verbosity: int = 0,
           extra_vars: dict | None = None):
    """One job of the template, as AWX runs it: survey defaults, credentials injected."""
    lab_extra_vars = LAB_EXTRA_VARS.get(job_template["name"], {})
    job_template = dict(job_template, extra_vars={**job_template["extra_vars"], **lab_extra_vars,
                                                  **(extra_vars or {})})
    private_data_dir = workdir / f"job_{secrets.token_hex(3)}"
    private_data_dir.mkdir(parents=True)
    env, args = {}, []
    for name in job_template["credentials"]:
        ctype = TYPES_BY_NAME[name]
        cred_env, cred_args = inject_credential(ctype, credentials["inputs"][ctype["id"]], private_data_dir)
        env.update(cred_env)
        args += cred_args
    env.update({
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    })
    runner = ansible_runner.run(
        private_data_dir=str(private_data_dir),
        playbook=str(ROOT / job_template["playbook"]),
        inventory=str(awx["inventory"]),
        extravars=launch_extra_vars(job_template, credentials["answers"]),
        cmdline=" ".join(args) or None,
        envvars=env,
        verbosity=verbosity,
        quiet=True,
    )
    return runner.rc, runner.stdout.read(), list(runner.events)


def failed_tasks(events) -> str:
    """Each failed task with its message (what a failed job shows first in AWX)."""
    lines = [f"{e['event_data'].get('task', '?')}: {e['event_data'].get('res', {}).get('msg', '')}"
             for e in events if e.get("event") in ("runner_on_failed", "runner_item_on_failed")]
    return "\n".join(lines) or "no failed task"


def changed_tasks(events) -> list[str]:
    return sorted({e["event_data"].get("task", "?") for e in events
                   if e.get("event") in ("runner_on_ok", "runner_item_on_ok")
                   and e["event_data"].get("res", {}).get("changed")})


@pytest.fixture(scope="module")
def done(lab, prefix):
    """Templates launched with success in this module (prerequisites run once), and the stacks
    their launches deploy, removed at the end through the Docker API (before the prefix's
    cleanup, which removes everything else)."""
    state = {"templates": set(), "stacks": set()}
    yield state
    client = docker.APIClient(base_url=lab["swarm_sites"]["docker_host"], timeout=120)
    for stack in sorted(state["stacks"]):
        label = {"label": f"com.docker.stack.namespace={stack}"}
        for attempt in range(5):  # a busy swarm answers "context deadline exceeded" now and then
            try:
                for service in client.services(filters=label):
                    client.remove_service(service["ID"])
                for config in client.configs(filters=label):
                    client.remove_config(config["ID"])
                for secret in client.secrets(filters=label):
                    client.remove_secret(secret["ID"])
                for network in client.networks(filters=label):
                    client.remove_network(network["Id"])
                break
            except docker.errors.APIError:
                if attempt == 4:
                    raise
                time.sleep(10)


def deployed_stacks(name: str, prefix: str) -> set[str]:
    """The stacks of the copy that the template's default launch deploys."""
    return {stack_name(f"{prefix}-{project}", env) for project, env in DEPLOYS.get(name, [])}


def assert_no_secret(name, runs, credentials):
    for stdout, events in runs:
        text = stdout + json.dumps(events)
        leaked = [what for what, value in credentials["secrets"].items() if value in text]
        assert leaked == [], f"{name}: secrets in the job output: {leaked}"


def launch_twice(name, job_template, awx, credentials, tmp_path):
    """Two launches (the second at -vvvv); None when the template is a known defect (xfail)."""
    runs = []
    for verbosity in (0, 4):
        rc, stdout, events = launch(job_template, awx, credentials, tmp_path, verbosity)
        runs.append((stdout, events))
        if name in REFUSED_ON_RERUN and len(runs) == 2:
            refusal = REFUSED_ON_RERUN[name][0]
            assert rc != 0 and refusal in failed_tasks(events), \
                f"{name}: the second launch was not refused: {failed_tasks(events)}"
            assert changed_tasks(events) == [], f"{name}: the refused launch changed something"
            assert_no_secret(name, runs, credentials)
            return None
        if name in KNOWN_DEFECTS:
            error, why = KNOWN_DEFECTS[name]
            assert rc != 0, f"{name} succeeds now: remove it from KNOWN_DEFECTS"
            assert error in failed_tasks(events), f"{name} failed otherwise: {failed_tasks(events)}"
            assert_no_secret(name, runs, credentials)
            pytest.xfail(f"known defect: {why}")
        assert rc == 0, f"{name} failed (run {len(runs)}): {failed_tasks(events)}\n{stdout[-3000:]}"
    return runs


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_job_template_runs_as_awx_would(name, awx, credentials, tmp_path, done):
    job_template = awx["templates"][name]
    if not (ROOT / job_template["playbook"]).is_file():
        pytest.fail(f"job template {name!r}: its playbook {job_template['playbook']} does not exist")
    for needed in PREREQUISITES.get(name, []):
        done["stacks"].update(deployed_stacks(needed, awx["prefix"]))
        if needed not in done["templates"]:
            rc, stdout, events = launch(awx["templates"][needed], awx, credentials, tmp_path)
            assert rc == 0, f"prerequisite {needed!r} failed: {failed_tasks(events)}\n{stdout[-3000:]}"
            done["templates"].add(needed)
    done["stacks"].update(deployed_stacks(name, awx["prefix"]))

    try:
        runs = launch_twice(name, job_template, awx, credentials, tmp_path)
    finally:
        if name in REFUSED_ON_RERUN:  # tear the copy down whatever happened
            teardown = REFUSED_ON_RERUN[name][1]
            playbook, teardown_vars = teardown(launch_extra_vars(job_template, credentials["answers"]))
            down = launch(dict(job_template, playbook=playbook), awx, credentials, tmp_path, extra_vars=teardown_vars)
            assert down[0] == 0, f"{name}: teardown failed: {failed_tasks(down[2])}"
    if runs is None:
        return
    done["templates"].add(name)
    if name in REPORT_ONLY:
        assert changed_tasks(runs[0][1]) == changed_tasks(runs[1][1]), \
            f"{name}: the report differs between two launches, so the first one changed something"
    else:
        assert changed_tasks(runs[1][1]) == [], f"{name}: the second run changed something"
    assert_no_secret(name, runs, credentials)


def test_the_surveys_name_only_the_copy(awx, credentials):
    """The choices come from the copy's model, and every launch names the copy's projects and
    stations, never the lab model's own (whose objects `make run` and other tests use)."""
    prefix = awx["prefix"]
    for name, job_template in awx["templates"].items():
        for element in (job_template.get("survey_spec") or {}).get("spec", []):
            choices = element.get("choices") or []
            assert not LAB_NAMES & set(choices), f"{name}: {element['variable']} offers the lab's names: {choices}"
        for variable, value in launch_extra_vars(job_template, credentials["answers"]).items():
            values = value if isinstance(value, list) else [value]
            named = [v for v in values if isinstance(v, str) and (v in LAB_NAMES or v.startswith(prefix + "-"))]
            assert all(v.startswith(prefix + "-") for v in named), f"{name}: {variable}={value!r}"


def test_the_secret_check_sees_a_leak(awx, credentials, tmp_path):
    """The check above would catch a job that prints an injected secret."""
    probe = tmp_path / "leak.yml"
    probe.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"ansible.builtin.debug": {"msg": "{{ lookup('ansible.builtin.env', 'LDAPBINDPW') }}"}}]}]))
    job_template = {"name": "leak probe", "playbook": str(probe), "extra_vars": {}, "survey_enabled": False,
                    "credentials": [name for name, t in TYPES_BY_NAME.items() if t["id"] == "ldap"]}
    rc, stdout, events = launch(job_template, awx, credentials, tmp_path)
    assert rc == 0, stdout[-2000:]
    with pytest.raises(AssertionError, match="LDAP admin password"):
        assert_no_secret("leak probe", [(stdout, events)], credentials)
