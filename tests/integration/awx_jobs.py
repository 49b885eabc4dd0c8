"""Jobs of the lab AWX from a test: awx_configure.yml applied for a private copy of the lab
model, launches through AWX's REST API, and what a job printed, changed and stored.

The copy (site_helpers.prefixed_model) is what an AWX admin of a second estate would set up:
its model in the AWX inventory, the survey choices computed from it, the survey defaults that
name a lab project or station naming the copy's (neocc becomes <prefix>-neocc), the lab's
credentials. Every AWX object is named <prefix>-..., so the lab's own S2P objects are untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import yaml
from awx_helpers import ROOT, VENV_BIN, load_awx_data
from awx_service_helpers import Awx, AwxError

PSQL = Path("/usr/lib/postgresql/15/bin/psql")
FINISHED = ("successful", "failed", "error", "canceled")


def copy_job_templates(prefix: str, lab_names: frozenset[str]) -> list[dict]:
    """awx/job_templates.yml with every choice default that names a lab project or station
    naming its copy (a multiselect default is a list)."""
    def rename(name: str) -> str:
        return f"{prefix}-{name}" if name in lab_names else name

    templates = load_awx_data()["awx_job_templates"]
    for template in templates:
        for question in template.get("survey", []):
            default = question.get("default")
            if question.get("choices_from") in ("projects", "stations") and default:
                question["default"] = [rename(n) for n in default] if isinstance(default, list) else rename(default)
    return templates


def lab_playbook(playbook: str, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """ansible-playbook -i inventories/lab playbooks/<playbook>, as an engineer runs it."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    for name in [n for n in env if n.startswith(("CONTROLLER_", "TOWER_", "S2P_AWX_"))]:
        del env[name]  # the lab's controller and the inputs given only
    return subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(ROOT / "inventories" / "lab"),
                           str(ROOT / "playbooks" / playbook), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=timeout)


def launch_playbook(prefix: str, template: str) -> str:
    """playbooks/awx_launch.yml for the copy's template; its output (it fails unless the job succeeded)."""
    answers = {"awx_lab_prefix": f"{prefix}-", "awx_launch__template": template}
    proc = lab_playbook("awx_launch.yml", "-e", json.dumps(answers))
    if proc.returncode != 0:
        raise AwxError(f"awx_launch.yml failed:\n{proc.stdout[-5000:]}\n{proc.stderr[-2000:]}")
    return proc.stdout


def apply_configuration(workdir: Path, prefix: str, model: dict, job_templates: list[dict],
                        credential_inputs: dict) -> str:
    """ansible-playbook -i inventories/lab playbooks/awx_configure.yml for the copy: the AWX
    objects named <prefix>-..., the model's variables (so the survey choices are the copy's)
    and the AWX inventory's model from the copy, the credentials' inputs as given. The extra
    vars file holds secrets: 0600, in the test's own folder."""
    model_file = workdir / "model.yml"
    model_file.write_text(yaml.safe_dump(model, sort_keys=False))
    extra = workdir / "extra-vars.json"
    extra.touch(mode=0o600)
    extra.write_text(json.dumps({**model, "awx_lab_prefix": f"{prefix}-", "awx_lab_model_file": str(model_file),
                                 "awx_job_templates": job_templates, "awx_credential_inputs": credential_inputs}))
    proc = lab_playbook("awx_configure.yml", "-e", f"@{extra}")
    if proc.returncode != 0:
        raise AwxError(f"awx_configure.yml failed:\n{proc.stdout[-5000:]}\n{proc.stderr[-2000:]}")
    return proc.stdout


class Job:
    """A finished AWX job: its record, stdout, events, and what it changed."""

    def __init__(self, awx: Awx, job_id: int):
        self.id = job_id
        self.record = awx.call("GET", f"/api/v2/jobs/{job_id}/")
        self.stdout = awx.call("GET", f"/api/v2/jobs/{job_id}/stdout/?format=txt_download", raw=True)
        self.events: list[dict] = []
        page = f"/api/v2/jobs/{job_id}/job_events/?page_size=200&order_by=counter"
        while page:
            data = awx.call("GET", page)
            self.events += data["results"]
            page = data["next"]

    @property
    def status(self) -> str:
        return self.record["status"]

    def changed_tasks(self) -> list[str]:
        return sorted({e["task"] for e in self.events
                       if e["event"] in ("runner_on_ok", "runner_item_on_ok") and e.get("changed")})

    def failed_tasks(self) -> str:
        """Each failed task with its message (what a failed job shows first in AWX)."""
        lines = [f"{e['task']}: {(e.get('event_data') or {}).get('res', {}).get('msg', '')}"
                 for e in self.events if e["event"] in ("runner_on_failed", "runner_item_on_failed")
                 and not (e.get("event_data") or {}).get("ignore_errors")]
        return "\n".join(lines) or "no failed task"

    def explain(self) -> str:
        return (f"job {self.id} ({self.record['name']}) {self.status}: {self.record.get('job_explanation')}\n"
                f"failed tasks:\n{self.failed_tasks()}\n--- stdout (end) ---\n{self.stdout[-4000:]}")

    def text(self) -> str:
        """Everything the API shows of the job, for the secret checks."""
        return json.dumps(self.record) + self.stdout + json.dumps(self.events)


def launch(awx: Awx, template_id: int, extra_vars: dict | None = None, timeout: float = 900,
           instance_groups: list[int] | None = None) -> Job:
    """Launch the template with these survey answers (none: AWX applies the survey's defaults)
    and instance groups (none: the template's), wait until it finished and AWX stored all its
    events."""
    body = {"extra_vars": extra_vars} if extra_vars else {}
    if instance_groups:
        body["instance_groups"] = instance_groups
    job_id = awx.call("POST", f"/api/v2/job_templates/{template_id}/launch/", body, expect=(201,))["job"]
    awx.wait_job(job_id, timeout=timeout)
    deadline = time.monotonic() + 120
    while not awx.call("GET", f"/api/v2/jobs/{job_id}/")["event_processing_finished"]:
        if time.monotonic() > deadline:
            raise AwxError(f"job {job_id}: its events were still being stored after 120 s")
        time.sleep(1)
    return Job(awx, job_id)


def database_job_rows(lab: dict, job_ids: list[int]) -> str:
    """Every row the AWX database's job tables hold of these jobs, as JSON lines: the unified
    job (stdout, args, env, explanation), the job (extra vars, artifacts) and each event of
    every event partition. Scoped to the jobs: AWX keeps a deleted job's events until its
    cleanup drops their partition, so the whole tables hold other runs' jobs."""
    ids = ",".join(str(int(i)) for i in job_ids) or "NULL"
    sql = (f"SELECT row_to_json(u)::text FROM main_unifiedjob u WHERE u.id IN ({ids}) "
           f"UNION ALL SELECT row_to_json(j)::text FROM main_job j WHERE j.unifiedjob_ptr_id IN ({ids}) "
           f"UNION ALL SELECT row_to_json(e)::text FROM main_jobevent e WHERE e.job_id IN ({ids})")
    run_dir = Path(lab["awx"]["password_file"]).parent
    env = {**os.environ, "PGPASSWORD": (run_dir / "db-password").read_text().strip()}
    proc = subprocess.run([str(PSQL), "-h", "127.0.0.1", "-p", "18432", "-U", "awx", "-d", "awx", "-At",
                           "-v", "ON_ERROR_STOP=1", "-c", sql], env=env, capture_output=True, text=True, check=False,
                          timeout=300)
    if proc.returncode != 0:
        raise AwxError(f"reading the AWX job tables failed: {proc.stderr[-2000:]}")
    return proc.stdout


def objects_of(awx: Awx, kind: str, organization: int) -> dict[str, dict]:
    """{name: object} of one kind of the organization."""
    found = awx.call("GET", f"/api/v2/{kind}/?organization={organization}&page_size=200")["results"]
    return {item["name"]: item for item in found}


def remove_organization(awx: Awx, name: str, projects_root: Path, project_folder: str) -> None:
    """Every object of the organization, then the organization, the instance groups named like
    it (<prefix>-S2P ...); the manual project's folder. Jobs are their launcher's to delete."""
    for org in awx.call("GET", f"/api/v2/organizations/?name={name}")["results"]:
        for kind in ("job_templates", "inventories", "projects", "credentials", "execution_environments"):
            for item in objects_of(awx, kind, org["id"]).values():
                awx.delete(f"/api/v2/{kind}/{item['id']}/")
        awx.delete(f"/api/v2/organizations/{org['id']}/")
    for group in awx.call("GET", f"/api/v2/instance_groups/?name__startswith={name.split('S2P')[0]}S2P")["results"]:
        awx.delete(f"/api/v2/instance_groups/{group['id']}/")  # global objects, named like the organization
    shutil.rmtree(projects_root / project_folder, ignore_errors=True)
    for leftover in (f".{project_folder}.tar", f"{project_folder}.lock"):  # the copy's archive, AWX's lock
        (projects_root / leftover).unlink(missing_ok=True)
