"""The lab AWX (`lab.py up awx`, lab/services/awx.py): a real AWX 24.6.1 whose jobs go through
the lab-only receptor stand-in and run in their execution environment's image on the lab's
dockerd.  Run by `make integration-awx` after `make awx-up` (marker `awx`: left out of the
other integration runs)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from awx_service_helpers import MARKER_FILE, TEST_IMAGE, Awx, ensure_test_image

pytestmark = [pytest.mark.awx, pytest.mark.xdist_group("awx")]

ROOT = Path(__file__).resolve().parents[2]
LAB = [sys.executable, str(ROOT / "lab" / "lab.py")]


@pytest.fixture(scope="module")
def awx_endpoint(lab) -> dict:
    if "awx" not in lab:
        pytest.fail("the lab AWX is not up: run `make awx-up` (python3 lab/lab.py up awx) first")
    return lab["awx"]


@pytest.fixture(scope="module")
def awx(awx_endpoint) -> Awx:
    password = Path(awx_endpoint["password_file"]).read_text().strip()
    return Awx(awx_endpoint["url"], awx_endpoint["username"], password)


def test_ping_shows_the_instance_online_and_the_admin_logs_in(awx, awx_endpoint):
    ping = awx.call("GET", "/api/v2/ping/")
    assert ping["version"] == awx_endpoint["version"]
    (node,) = [i for i in ping["instances"] if i["node"] == awx_endpoint["node"]]
    assert node["node_type"] == "hybrid" and node["capacity"] > 0
    assert awx.call("GET", "/api/v2/me/")["results"][0]["username"] == awx_endpoint["username"]
    wrong = Awx(awx_endpoint["url"], awx_endpoint["username"], secrets.token_hex(8))
    wrong.call("GET", "/api/v2/me/", expect=(401,))


def test_second_up_leaves_a_healthy_awx_alone(awx_endpoint):
    started = time.monotonic()
    result = subprocess.run([*LAB, "up", "awx"], capture_output=True, text=True, check=False, timeout=600)
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lab: awx      already running" in result.stdout, result.stdout
    assert seconds < 60, f"a warm `up awx` took {seconds:.0f}s"


@pytest.fixture
def job_template(awx, awx_endpoint, lab):
    """A job template on a manual project running a tiny playbook in the test image; every object
    it made is deleted afterwards."""
    marker = ensure_test_image(lab["dockerd"]["docker_host"], lab["dockerd"]["images"]["debian"])
    prefix = f"s2p-test-{secrets.token_hex(4)}"
    project_dir = Path(awx_endpoint["projects_root"]) / prefix
    project_dir.mkdir(parents=True)
    (project_dir / "where.yml").write_text(
        "- hosts: all\n  gather_facts: true\n  tasks:\n"
        f"    - ansible.builtin.command: cat {MARKER_FILE}\n      register: where\n      changed_when: false\n"
        "    - ansible.builtin.debug:\n"
        "        msg: \"ee-marker={{ where.stdout }} python={{ ansible_facts.python.executable }}\"\n")
    made: list[str] = []
    try:
        org = awx.call("GET", "/api/v2/organizations/?name=Default")["results"][0]["id"]
        ee = awx.create("/api/v2/execution_environments/",
                        {"name": prefix, "image": TEST_IMAGE, "pull": "never", "organization": org})
        made.append(f"/api/v2/execution_environments/{ee['id']}/")
        inventory = awx.create("/api/v2/inventories/", {"name": prefix, "organization": org})
        made.append(f"/api/v2/inventories/{inventory['id']}/")
        awx.create(f"/api/v2/inventories/{inventory['id']}/hosts/",
                   {"name": "localhost", "variables": json.dumps({"ansible_connection": "local",
                                                                  "ansible_python_interpreter": "/usr/bin/python3"})})
        project = awx.create("/api/v2/projects/", {"name": prefix, "organization": org, "scm_type": "",
                                                   "local_path": prefix})
        made.append(f"/api/v2/projects/{project['id']}/")
        template = awx.create("/api/v2/job_templates/", {
            "name": prefix, "project": project["id"], "playbook": "where.yml", "inventory": inventory["id"],
            "execution_environment": ee["id"]})
        made.append(f"/api/v2/job_templates/{template['id']}/")
        yield template, marker, made
    finally:
        for path in reversed(made):
            awx.delete(path)
        shutil.rmtree(project_dir, ignore_errors=True)


def test_a_job_runs_inside_its_execution_environment_image(awx, job_template):
    template, marker, made = job_template
    assert not Path(MARKER_FILE).exists(), f"{MARKER_FILE} must exist only in the image"
    started = time.monotonic()
    job = awx.create(f"/api/v2/job_templates/{template['id']}/launch/", {})
    made.insert(0, f"/api/v2/jobs/{job['id']}/")  # deleted first
    job = awx.wait_job(job["id"])
    stdout = awx.call("GET", f"/api/v2/jobs/{job['id']}/stdout/?format=txt", raw=True)
    assert job["status"] == "successful", f"job {job['id']} {job['status']}: {job.get('result_traceback')}\n{stdout}"
    assert f"ee-marker={marker}" in stdout, stdout
    assert "python=/usr/bin/python3" in stdout, stdout
    assert job["execution_environment"] == template["execution_environment"]
    print(f"job {job['id']} successful in {time.monotonic() - started:.0f}s")


def test_a_dead_process_shows_as_down_and_up_restarts_it(lab):
    state = Path(lab["ca_file"]).parents[1]
    pid = int((state / "pids" / "awx-callback.pid").read_text())
    os.kill(pid, 9)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    status = subprocess.run([*LAB, "status", "awx"], capture_output=True, text=True, check=False)
    assert status.returncode == 1 and "DOWN" in status.stdout and "awx-callback" in status.stdout, status.stdout
    result = subprocess.run([*LAB, "up", "awx"], capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0 and "lab: awx      started" in result.stdout, result.stdout + result.stderr
    assert int((state / "pids" / "awx-callback.pid").read_text()) != pid


def test_no_secret_of_the_lab_awx_reaches_a_log(lab, awx_endpoint):
    """The admin, database and websocket passwords and the SECRET_KEY (random, in 0600 files)
    appear in no log of the lab AWX: its processes', awx-manage's, the build's, PostgreSQL's."""
    run_dir = Path(awx_endpoint["password_file"]).parent
    secrets_by_file = {name: (run_dir / name).read_text().strip()
                       for name in ("admin-password", "db-password", "websocket-secret", "secret-key")}
    for name, value in secrets_by_file.items():
        assert len(value) >= 32 and oct((run_dir / name).stat().st_mode)[-3:] == "600", name
    logs = sorted((Path(lab["ca_file"]).parents[1] / "logs").glob("awx-*.log"))
    assert {"awx-api.log", "awx-dispatcher.log", "awx-postgres.log", "awx-manage.log"} <= {p.name for p in logs}
    leaked = [f"{name} in {log.name}" for log in logs for name, value in secrets_by_file.items()
              if value in log.read_text(errors="replace")]
    assert leaked == []


def _our_pids(state: Path) -> dict[str, int]:
    pids = {}
    for path in (state / "pids").glob("awx-*.pid"):
        pids[path.stem] = int(path.read_text())
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_down_stops_only_our_processes_and_up_restores_a_new_database(lab, awx_endpoint):
    """Last in the module: the lab AWX goes down, its database is removed, and `up` makes a new
    one from the cached dump of the bootstrapped database (no migration) within 3 minutes."""
    state = Path(lab["ca_file"]).parents[1]
    ours = _our_pids(state)
    assert {"awx-api", "awx-dispatcher", "awx-callback", "awx-receptor", "awx-postgres", "awx-redis"} <= set(ours)
    bystander = subprocess.Popen(["sleep", "300"])  # a process of someone else
    try:
        result = subprocess.run([*LAB, "down", "awx"], capture_output=True, text=True, check=False, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        assert [name for name, pid in ours.items() if _alive(pid)] == []
        assert bystander.poll() is None
        status = subprocess.run([*LAB, "status", "awx"], capture_output=True, text=True, check=False)
        assert status.returncode == 0 and "not started" in status.stdout, status.stdout
        shutil.rmtree(Path(awx_endpoint["password_file"]).parent / "pgdata")
    finally:
        bystander.kill()
        bystander.wait()
        started = time.monotonic()
        result = subprocess.run([*LAB, "up", "awx"], capture_output=True, text=True, check=False, timeout=900)
        seconds = time.monotonic() - started
        print(f"lab.py up awx on a new database: {seconds:.0f}s")
    assert result.returncode == 0 and "lab: awx      started" in result.stdout, result.stdout + result.stderr
    assert "database restored from" in result.stdout and "migrating" not in result.stdout, result.stdout
    assert seconds < 180
    test_ping_shows_the_instance_online_and_the_admin_logs_in(  # the admin has this lab's password again
        Awx(awx_endpoint["url"], awx_endpoint["username"], Path(awx_endpoint["password_file"]).read_text().strip()),
        awx_endpoint)
