"""esa.s2p.swarm_cluster on a scratch three-site swarm (lab service swarm_sites in its own state
folder, never the shared lab's): converged cluster unchanged, check mode, labels, drain moves
tasks, demote/promote with the even-manager warning, removal (demoted first) and re-join."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker
import pytest

ROOT = Path(__file__).resolve().parents[2]
TASK = "cluster"


@pytest.fixture(scope="module")
def swarm(lab):
    folder = Path(tempfile.mkdtemp(prefix="s2p-cluster-"))
    shared = lab.get("swarm_sites", {}).get("registry", "172.16.0.1:0")
    octet = "247" if shared.split(".")[2] != "247" else "246"
    env = {**os.environ, "S2P_LAB_DIR": str(folder), "S2P_SWARM_SUBNET_OCTET": octet}
    lab_py = [sys.executable, str(ROOT / "lab" / "lab.py")]
    result = subprocess.run([*lab_py, "up", "swarm_sites"], env=env, capture_output=True, text=True,
                            timeout=400, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    yield json.loads((folder / "endpoints.json").read_text())["swarm_sites"]
    subprocess.run([*lab_py, "down", "swarm_sites"], env=env, capture_output=True, timeout=400, check=False)
    shutil.rmtree(folder, ignore_errors=True)


def _nodes(swarm, **changes):
    nodes = [{"name": site, "docker_host": swarm["managers"][site], "advertise_addr": swarm["addresses"][site],
              "labels": {"site": site}} for site in ("esoc", "esec", "esrin")]
    for node in nodes:
        node.update(changes.get(node["name"], {}))
    return nodes


def _play(nodes, **options):
    return [{"name": "cluster", "hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": TASK, "esa.s2p.swarm_cluster": dict(nodes=nodes, **options)}]}]


def _spec(swarm, site):
    client = docker.APIClient(base_url=swarm["docker_host"])
    for node in client.nodes():
        if node["Spec"].get("Labels", {}).get("site") == site:
            return node
    return None


def test_converged_cluster_is_unchanged(swarm, run_playbook):
    run = run_playbook(_play(_nodes(swarm)))
    assert run.rc == 0 and run.changed == 0, run.stdout[-2000:]


def test_check_mode_then_labels_and_drain_move_tasks(swarm, run_playbook, prefix):
    client = docker.DockerClient(base_url=swarm["docker_host"])
    service = client.services.create(swarm["image_digests"]["busybox"], name=f"{prefix}-spread",
                                     command=["sleep", "3600"], mode=docker.types.ServiceMode("replicated", 3))
    try:
        changes = {"esrin": {"availability": "drain", "labels": {"site": "esrin", "segment": "ops"}}}
        predicted = run_playbook(_play(_nodes(swarm, **changes)), check=True, diff=True)
        assert predicted.rc == 0 and predicted.changed == 1
        assert predicted.result(TASK)["nodes"][2]["actions"] == ["availability active -> drain", "label segment=ops"]
        assert _spec(swarm, "esrin")["Spec"]["Availability"] == "active"
        run = run_playbook(_play(_nodes(swarm, **changes)))
        assert run.rc == 0 and run.changed == 1
        esrin = _spec(swarm, "esrin")
        assert esrin["Spec"]["Availability"] == "drain" and esrin["Spec"]["Labels"]["segment"] == "ops"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            running = [t for t in service.tasks() if t["Status"]["State"] == "running"]
            if len(running) == 3 and all(t["NodeID"] != esrin["ID"] for t in running):
                break
            time.sleep(1)
        assert len(running) == 3 and all(t["NodeID"] != esrin["ID"] for t in running)
        assert run_playbook(_play(_nodes(swarm, **changes))).changed == 0
        assert run_playbook(_play(_nodes(swarm))).changed == 1  # back to active
    finally:
        service.remove()


def test_demote_warns_even_managers_and_promote_back(swarm, run_playbook):
    run = run_playbook(_play(_nodes(swarm, esrin={"role": "worker"})))
    assert run.rc == 0 and run.changed == 1
    assert "an even count" in run.stdout
    assert _spec(swarm, "esrin")["Spec"]["Role"] == "worker"
    refused = run_playbook(_play(_nodes(swarm, esrin={"role": "worker"}), even_managers="fail"))
    assert refused.rc != 0 and "an even count" in refused.result(TASK)["msg"]
    back = run_playbook(_play(_nodes(swarm)))
    assert back.rc == 0 and back.result(TASK)["nodes"][2]["actions"] == ["promote to manager"]


def test_remove_demotes_first_then_rejoin(swarm, run_playbook):
    removed = run_playbook(_play(_nodes(swarm, esrin={"state": "absent"})), diff=True)
    assert removed.rc == 0, removed.stdout[-3000:]
    assert removed.result(TASK)["nodes"][2]["actions"] == ["demote to worker", "leave the swarm"]
    assert _spec(swarm, "esrin") is None
    assert len(docker.APIClient(base_url=swarm["docker_host"]).nodes()) == 2
    rejoined = run_playbook(_play(_nodes(swarm)), verbosity=3)
    assert rejoined.rc == 0, rejoined.stdout[-3000:]
    assert rejoined.result(TASK)["nodes"][2]["actions"] == ["join as manager", "label site=esrin"]
    esrin = _spec(swarm, "esrin")
    assert esrin["Spec"]["Role"] == "manager" and esrin["ManagerStatus"]["Reachability"] == "reachable"
    token = docker.APIClient(base_url=swarm["docker_host"]).inspect_swarm()["JoinTokens"]["Manager"]
    assert token not in rejoined.stdout and token not in json.dumps(rejoined.events)
