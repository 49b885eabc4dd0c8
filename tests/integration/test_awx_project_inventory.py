"""The lab AWX's git project, its inventory source and the schedules, through AWX's REST API.

One apply of playbooks/awx_configure.yml under a random prefix (test_awx_configure.py applies
twice and checks the second apply changes nothing), with three S2P VMs of the test's own made in
vcsim first. Then:
- the project update (a git clone of the checkout published to the lab's git server) ran in the
  control-plane execution environment: AWX's record names it, and the lab's dockerd started the
  update's container from s2p/ee:latest (its own event stream, read during the test);
- the inventory update of the source "vCenter VMs" (the esa.s2p.vsphere plugin in the S2P
  execution environment, with the vCenter credential) succeeds in the image too; the AWX
  inventory then holds every S2P VM that vcsim has (read with pyVmomi before and after), with the
  plugin's groups, and still the hand-made localhost and the inventory's own model variables;
- the schedules (nightly certificate renewal with the survey's default, nightly drift check) exist
  with their rrule in UTC and a next run in the future, and the drift template, launched, runs
  ansible-playbook --check --diff (the lab's model: read-only).
Everything is removed by prefix: the AWX objects, the project's branch and AWX's clone, the VMs."""

from __future__ import annotations

import datetime
import json
import os
import secrets
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest
import yaml
from awx_apply_helpers import apply, branch_commit, project_branch, remove_prefixed
from awx_helpers import ROOT, VENV_BIN, load_awx_data
from awx_service_helpers import DOCKER, Awx, AwxError
from leftovers_plugin import record_prefix
from pyVmomi import vim, vmodl
from vsphere_helpers import SITES, Vcsim, endpoint_with_password, vm_items, vm_play

pytestmark = [pytest.mark.awx, pytest.mark.xdist_group("awx")]

DATA = load_awx_data()
EE_IMAGE = "s2p/ee:latest"
DONE = ("successful", "failed", "error", "canceled")


def managed_vms(vcsim: Vcsim) -> set[str]:
    """Names of the VMs carrying the S2P marker (extraConfig s2p.vm), in one property-collector call."""
    collector = vmodl.query.PropertyCollector
    view = vcsim.content.viewManager.CreateContainerView(vcsim.content.rootFolder, [vim.VirtualMachine], True)
    try:
        traverse = collector.TraversalSpec(name="view", type=vim.view.ContainerView, path="view", skip=False)
        spec = collector.FilterSpec(objectSet=[collector.ObjectSpec(obj=view, skip=True, selectSet=[traverse])],
                                    propSet=[collector.PropertySpec(type=vim.VirtualMachine,
                                                                    pathSet=["name", "config.extraConfig"])])
        contents = vcsim.content.propertyCollector.RetrieveContents([spec])
    finally:
        view.DestroyView()
    names = set()
    for content in contents:
        props = {p.name: p.val for p in content.propSet}
        if any(option.key == "s2p.vm" for option in props.get("config.extraConfig") or []):
            names.add(props["name"])
    return names


def make_vms(vms: list[dict], workdir: Path) -> None:
    playbook = workdir / "vms.yml"
    playbook.write_text(yaml.safe_dump(vm_play(vms)))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(ROOT / "inventories" / "lab"), str(playbook)],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, f"creating the test VMs failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"


def wait_unified(awx: Awx, path: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = awx.call("GET", path)
        if job["status"] in DONE:
            return job
        assert time.monotonic() < deadline, f"{path} still {job['status']} after {timeout:.0f}s"
        time.sleep(2)


def all_pages(awx: Awx, path: str) -> list[dict]:
    """Every result of a listing (AWX pages at most 200)."""
    results = []
    while path:
        page = awx.call("GET", path)
        results += page["results"]
        path = page["next"]
    return results


def container_starts(events_file: Path) -> dict[str, str]:
    """{container name: image} of the containers the lab's dockerd started while the test listened."""
    starts = {}
    for line in events_file.read_text().splitlines():
        attributes = json.loads(line).get("Actor", {}).get("Attributes", {})
        starts[attributes.get("name", "")] = attributes.get("image", "")
    return starts


@pytest.fixture(scope="module")
def awx(lab) -> Awx:
    if "awx" not in lab or "git_server" not in lab:
        pytest.fail("the lab AWX is not up: run `make awx-up` (python3 lab/lab.py up awx) first")
    endpoint = lab["awx"]
    return Awx(endpoint["url"], endpoint["username"], Path(endpoint["password_file"]).read_text().strip())


@pytest.fixture(scope="module")
def updated(awx, lab, request, tmp_path_factory):
    """The apply, the project's first update (done by the apply) and one inventory update."""
    vm_prefix = f"t{secrets.token_hex(3)}"
    record_prefix(request.config, vm_prefix)
    prefix, workdir = f"{vm_prefix}-", tmp_path_factory.mktemp("awx-inventory")
    vcsim = Vcsim(endpoint_with_password(lab))
    events_file = workdir / "docker-events.jsonl"
    with open(events_file, "w") as out:
        events = subprocess.Popen([DOCKER, "events", "--format", "{{json .}}", "--filter", "type=container",
                                   "--filter", "event=start"], stdout=out, stderr=subprocess.DEVNULL,
                                  env={**os.environ, "DOCKER_HOST": lab["dockerd"]["docker_host"]})
    try:
        vms = vm_items(vm_prefix, per_site=1)
        make_vms(vms, workdir)
        apply(prefix)
        (org,) = awx.call("GET", f"/api/v2/organizations/?name={prefix}S2P")["results"]
        (project,) = awx.call("GET", f"/api/v2/projects/?organization={org['id']}")["results"]
        (inventory,) = awx.call("GET", f"/api/v2/inventories/?organization={org['id']}")["results"]
        (source,) = awx.call("GET", f"/api/v2/inventories/{inventory['id']}/inventory_sources/")["results"]
        before = managed_vms(vcsim)
        started = awx.call("POST", f"/api/v2/inventory_sources/{source['id']}/update/", {})
        update = wait_unified(awx, f"/api/v2/inventory_updates/{started['inventory_update']}/")
        vcenter = before & managed_vms(vcsim)  # VMs another test adds or removes meanwhile do not count
        time.sleep(2)  # the events of the last container reach the stream
        yield {"prefix": prefix, "vms": vms, "org": org, "project": project, "inventory_before": inventory,
               "source": source, "update": update, "vcenter": vcenter, "starts": container_starts(events_file)}
    finally:
        events.terminate()
        events.wait()
        remove_prefixed(awx, lab, prefix)
        for dc in SITES.values():
            vcsim.destroy_folder(f"/{dc}/vm/s2p/{vm_prefix}")
        vcsim.close()


def test_the_project_is_the_published_checkout_cloned_in_the_control_plane_ee(updated, awx, lab):
    project = updated["project"]
    branch = project_branch(updated["prefix"])
    assert (project["scm_type"], project["scm_url"], project["scm_branch"], project["status"]) == \
        ("git", lab["git_server"]["url"], branch, "successful")
    assert project["scm_revision"] == branch_commit(lab, branch)
    first = awx.call("GET", f"/api/v2/project_updates/?project={project['id']}&order_by=id")["results"][0]
    assert (first["launch_type"], first["status"]) == ("manual", "successful")  # the update the apply made
    ee = awx.call("GET", f"/api/v2/execution_environments/{first['execution_environment']}/")
    assert (ee["name"], ee["image"], ee["pull"], ee["managed"]) == \
        ("Control Plane Execution Environment", EE_IMAGE, "never", True)
    assert updated["starts"].get(f"ansible_runner_{first['id']}") == EE_IMAGE, updated["starts"]
    stdout = awx.call("GET", f"/api/v2/project_updates/{first['id']}/stdout/?format=txt", raw=True)
    assert f"Repository Version {branch_commit(lab, branch)}" in stdout


def test_the_inventory_update_runs_the_plugin_in_the_execution_environment(updated, awx):
    source, update = updated["source"], updated["update"]
    assert update["status"] == "successful", awx.call(
        "GET", f"/api/v2/inventory_updates/{update['id']}/stdout/?format=txt", raw=True)[-3000:]
    (ee,) = awx.call("GET", f"/api/v2/execution_environments/?organization={updated['org']['id']}")["results"]
    assert (source["source"], source["source_path"], source["overwrite"], source["overwrite_vars"]) == \
        ("scm", "inventories/awx/s2p.vsphere.yml", True, True)
    assert update["execution_environment"] == ee["id"] and ee["image"] == EE_IMAGE
    assert updated["starts"].get(f"ansible_runner_{update['id']}") == EE_IMAGE, updated["starts"]
    credential = awx.call("GET", f"/api/v2/credentials/{source['credential']}/")
    assert credential["name"] == f"S2P vCenter ({updated['prefix']}lab)"


def test_the_awx_inventory_lists_the_vms_of_vcenter_with_their_groups(updated, awx):
    inventory = updated["inventory_before"]
    hosts = all_pages(awx, f"/api/v2/inventories/{inventory['id']}/hosts/?page_size=200")
    names = {h["name"] for h in hosts}
    assert len(hosts) == len(names)
    assert updated["vcenter"] >= {vm["name"] for vm in updated["vms"]}
    assert sorted(updated["vcenter"] - names) == []
    groups = all_pages(awx, f"/api/v2/inventories/{inventory['id']}/groups/?page_size=200")
    by_name = {g["name"]: g for g in groups}
    project_group = f"project_{updated['prefix'][:-1]}"
    for vm in updated["vms"]:
        for group in (f"site_{vm['site']}", "segment_pd", project_group, "environment_ire"):
            members = awx.call("GET", f"/api/v2/groups/{by_name[group]['id']}/all_hosts/?name={vm['name']}")
            assert members["count"] == 1, f"{vm['name']} not in group {group}"
    (host,) = awx.call("GET", f"/api/v2/inventories/{inventory['id']}/hosts/?name={updated['vms'][0]['name']}")[
        "results"]
    variables = yaml.safe_load(host["variables"])
    # ansible-inventory (core 2.19) writes text from an inventory plugin as {"__ansible_unsafe": text}
    # and AWX keeps it so: a job's inventory reads it back as text that is never templated.
    assert (variables["s2p_site"], variables["s2p_project"], variables["s2p_managed"]) == \
        ({"__ansible_unsafe": "esoc"}, {"__ansible_unsafe": updated["prefix"][:-1]}, True)


def test_the_update_keeps_localhost_and_the_model_variables(updated, awx):
    inventory = updated["inventory_before"]
    after = awx.call("GET", f"/api/v2/inventories/{inventory['id']}/")
    assert yaml.safe_load(after["variables"]) == yaml.safe_load(inventory["variables"])
    (localhost,) = awx.call("GET", f"/api/v2/inventories/{inventory['id']}/hosts/?name=localhost")["results"]
    assert yaml.safe_load(localhost["variables"])["ansible_connection"] == "local"
    source_hosts = awx.call("GET", f"/api/v2/inventory_sources/{updated['source']['id']}/hosts/?name=localhost")
    assert source_hosts["count"] == 0  # hand-made: overwrite never removes it


def job_template(awx: Awx, org: dict, name: str) -> dict:
    (template,) = awx.call("GET", f"/api/v2/job_templates/?organization={org['id']}&name={urllib.parse.quote(name)}")[
        "results"]
    return template


def test_the_schedules_run_nightly_in_utc(updated, awx):
    now = datetime.datetime.now(datetime.UTC)
    surveys = {t["name"]: t.get("survey") or [] for t in DATA["awx_job_templates"]}
    answers = {}
    for item in DATA["awx_schedules"]:
        template = job_template(awx, updated["org"], item["job_template"])
        (schedule,) = awx.call("GET", f"/api/v2/job_templates/{template['id']}/schedules/")["results"]
        assert (schedule["name"], schedule["rrule"], schedule["timezone"], schedule["enabled"]) == \
            (item["name"], item["rrule"], "UTC", True)
        next_run = datetime.datetime.fromisoformat(schedule["next_run"].replace("Z", "+00:00"))
        assert now < next_run <= now + datetime.timedelta(days=1)
        assert schedule["extra_data"] == {q["variable"]: q["default"] for q in surveys[item["job_template"]]}
        answers[item["job_template"]] = schedule["extra_data"]
    assert answers == {"S2P renew certificates": {"renew__days": 30}, "S2P drift check": {}}


def test_the_drift_check_runs_as_a_check_job_with_diff(updated, awx):
    """drift.yml refuses to run without --check --diff: AWX passes them for job type check and diff
    mode (RunJob.build_args). A launch proves it: its command line has both and drift.yml's refusal
    passes. What the job then finds depends on the shared lab (other tests change it meanwhile)."""
    template = job_template(awx, updated["org"], "S2P drift check")
    assert (template["playbook"], template["job_type"], template["diff_mode"]) == \
        ("playbooks/drift.yml", "check", True)
    assert yaml.safe_load(template["extra_vars"]) == {"drift__fail": True}
    job_id = awx.call("POST", f"/api/v2/job_templates/{template['id']}/launch/", {})["job"]
    try:
        job = awx.wait_job(job_id, timeout=900)
        ansible_playbook = job["job_args"][job["job_args"].index("ansible-playbook"):]
        assert "--check" in ansible_playbook and "--diff" in ansible_playbook, job["job_args"]
        refusal = awx.call("GET", f"/api/v2/jobs/{job_id}/job_events/?event=runner_on_ok&task="
                                  + urllib.parse.quote("Refuse to run the site stages outside check mode"))
        assert refusal["count"] == 1, f"job {job['status']}: {job['job_explanation']}"
    finally:
        delete_job(awx, job_id)


def delete_job(awx: Awx, job_id: int, timeout: float = 120) -> None:
    """AWX refuses (HTTP 400) to delete a job whose events the callback receiver still processes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            awx.delete(f"/api/v2/jobs/{job_id}/")
            return
        except AwxError as error:
            if "has not finished processing events" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(2)
