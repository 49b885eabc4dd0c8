"""esa.s2p.swarm_cluster on a scratch three-site swarm (lab service swarm_sites in its own state
folder, never the shared lab's): converged cluster unchanged, check mode, labels, drain moves
tasks, pause keeps them and takes no new ones, demote/promote with the even-manager warning,
removal (demoted first) and re-join, a manager removed out of band rejoining as a manager, and
with managers killed: a demotion or removal that would lose quorum refused with nothing touched,
no quorum at all failing fast; the scratch swarm is restored after."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest
from scratch_lab import ScratchLab
from swarm_helpers import kill_site

# One xdist worker runs the whole module: its tests share one scratch swarm (a module fixture).
pytestmark = pytest.mark.xdist_group("scratch-swarm-cluster")

ROOT = Path(__file__).resolve().parents[2]
TASK = "cluster"


LAB_PY = [sys.executable, str(ROOT / "lab" / "lab.py")]


@pytest.fixture(scope="module")
def scratch(lab):
    """The scratch lab folder and the environment that points lab.py at it."""
    scratch = ScratchLab(lab, ["swarm_sites"], prefix="s2p-cluster-").up()
    yield scratch.folder, scratch.lab_env
    scratch.down()


@pytest.fixture(scope="module")
def swarm(scratch):
    return json.loads((scratch[0] / "endpoints.json").read_text())["swarm_sites"]


def _lab(action, env):
    return subprocess.run([*LAB_PY, action, "swarm_sites"], env=env, capture_output=True, text=True, timeout=400,
                          check=False)


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
        diff = predicted.result(TASK)["diff"]
        assert diff["before"]["esrin"] == {"role": "manager", "availability": "active", "labels": {"site": "esrin"}}
        assert diff["after"]["esrin"] == {"role": "manager", "availability": "drain",
                                          "labels": {"site": "esrin", "segment": "ops"}}
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


def test_remove_demotes_first_then_init_then_rejoin(swarm, run_playbook):
    removed = run_playbook(_play(_nodes(swarm, esrin={"state": "absent"})), diff=True)
    assert removed.rc == 0, removed.stdout[-3000:]
    assert removed.result(TASK)["nodes"][2]["actions"] == ["demote to worker", "leave the swarm"]
    assert _spec(swarm, "esrin") is None
    manager = docker.APIClient(base_url=swarm["docker_host"])
    assert len(manager.nodes()) == 2

    # esrin alone, outside any swarm: the module initialises a new swarm there (check mode predicts it)
    alone = [n for n in _nodes(swarm) if n["name"] == "esrin"]
    predicted = run_playbook(_play(alone), check=True)
    assert predicted.rc == 0 and predicted.result(TASK)["nodes"][0]["actions"] == ["init swarm", "label site=esrin"]
    esrin_daemon = docker.APIClient(base_url=swarm["managers"]["esrin"])
    assert esrin_daemon.info()["Swarm"]["LocalNodeState"] == "inactive"
    initialised = run_playbook(_play(alone))
    assert initialised.rc == 0, initialised.stdout[-3000:]
    assert initialised.result(TASK)["nodes"][0]["actions"] == ["init swarm", "label site=esrin"]
    info = esrin_daemon.info()["Swarm"]
    assert info["ControlAvailable"] and info["Cluster"]["ID"] != manager.inspect_swarm()["ID"]
    assert [n["Spec"]["Labels"] for n in esrin_daemon.nodes()] == [{"site": "esrin"}]
    assert run_playbook(_play(alone)).changed == 0
    esrin_daemon.leave_swarm(force=True)  # back out of its own swarm, to rejoin the sites' one

    # rejoin as a worker, then promote back to manager
    as_worker = _nodes(swarm, esrin={"role": "worker"})
    rejoined = run_playbook(_play(as_worker), verbosity=3)
    assert rejoined.rc == 0, rejoined.stdout[-3000:]
    assert rejoined.result(TASK)["nodes"][2]["actions"] == ["join as worker", "label site=esrin"]
    assert _spec(swarm, "esrin")["Spec"]["Role"] == "worker"
    promoted = run_playbook(_play(_nodes(swarm)), verbosity=3)
    assert promoted.rc == 0 and promoted.result(TASK)["nodes"][2]["actions"] == ["promote to manager"]
    esrin = _spec(swarm, "esrin")
    assert esrin["Spec"]["Role"] == "manager" and esrin["ManagerStatus"]["Reachability"] == "reachable"
    tokens = manager.inspect_swarm()["JoinTokens"]
    for run in (initialised, rejoined, promoted):
        for token in tokens.values():
            assert token not in run.stdout and token not in json.dumps(run.events)


def _running(service):
    return sorted((t["ID"], t.get("NodeID")) for t in service.tasks() if t["DesiredState"] == "running"
                  and t["Status"]["State"] == "running")


def test_pause_keeps_the_tasks_and_takes_no_new_ones(swarm, run_playbook, prefix):
    client = docker.DockerClient(base_url=swarm["docker_host"])
    image = swarm["image_digests"]["busybox"]
    old = client.services.create(image, name=f"{prefix}-before", command=["sleep", "3600"],
                                 mode=docker.types.ServiceMode("global"))  # one task on every node
    new = None
    try:
        _wait_for(lambda: len(_running(old)) == 3, "a task on every node")
        esrin = _spec(swarm, "esrin")["ID"]
        before = _running(old)
        paused = _nodes(swarm, esrin={"availability": "pause"})
        predicted = run_playbook(_play(paused), check=True)
        assert predicted.rc == 0 and predicted.result(TASK)["nodes"][2]["actions"] == ["availability active -> pause"]
        run = run_playbook(_play(paused))
        assert run.rc == 0 and run.changed == 1, run.stdout[-3000:]
        assert _spec(swarm, "esrin")["Spec"]["Availability"] == "pause"
        new = client.services.create(image, name=f"{prefix}-after", command=["sleep", "3600"],
                                     mode=docker.types.ServiceMode("global"))
        _wait_for(lambda: len(_running(new)) == 2, "the new service on the two active nodes")
        time.sleep(5)  # nothing more comes: the paused node takes no new task
        assert [t for t in new.tasks() if t.get("NodeID") == esrin] == []  # not even a pending one
        assert _running(old) == before  # the paused node kept its task
        assert run_playbook(_play(paused)).changed == 0
        assert run_playbook(_play(_nodes(swarm))).changed == 1  # back to active
    finally:
        for service in (old, new):
            if service is not None:
                service.remove()


def test_a_manager_removed_behind_our_back_rejoins_as_a_manager(swarm, run_playbook):
    manager = docker.APIClient(base_url=swarm["docker_host"], timeout=60)
    esrin = _spec(swarm, "esrin")
    spec = dict(esrin["Spec"], Role="worker")
    manager.update_node(esrin["ID"], esrin["Version"]["Index"], spec)
    _wait_for(lambda: (_spec(swarm, "esrin").get("ManagerStatus") or {}) == {}, "esrin to leave the raft")
    manager.remove_node(esrin["ID"], force=True)
    _wait_for(lambda: _spec(swarm, "esrin") is None, "esrin to be removed")
    local = docker.APIClient(base_url=swarm["managers"]["esrin"]).info()["Swarm"]
    print("esrin after docker node rm: %s %s" % (local.get("LocalNodeState"), local.get("Error")))
    predicted = run_playbook(_play(_nodes(swarm)), check=True)
    assert predicted.rc == 0, predicted.stdout[-3000:]
    actions = predicted.result(TASK)["nodes"][2]["actions"]
    assert actions[-2:] == ["join as manager", "label site=esrin"], actions
    rejoined = run_playbook(_play(_nodes(swarm)))
    assert rejoined.rc == 0, rejoined.stdout[-3000:]
    assert rejoined.result(TASK)["nodes"][2]["actions"] == actions
    _wait_for(lambda: _reachability(swarm)["esrin"] == ("manager", "reachable"), "esrin to be a reachable manager")
    assert run_playbook(_play(_nodes(swarm))).changed == 0


def _reachability(swarm):
    client = docker.APIClient(base_url=swarm["docker_host"], timeout=30)
    return dict((n["Spec"]["Labels"].get("site"), (n["Spec"]["Role"], (n.get("ManagerStatus") or {}).get(
        "Reachability"))) for n in client.nodes())


def _wait_for(check, what, seconds=120):
    deadline = time.monotonic() + seconds
    while True:
        try:
            if check():
                return
        except docker.errors.APIError:  # a leaderless swarm answers node lists with an error
            pass
        assert time.monotonic() < deadline, f"waited {seconds}s for {what}"
        time.sleep(1)


def test_quorum_loss_is_refused_and_nothing_touched(scratch, swarm, run_playbook):
    folder, env = scratch
    before = _reachability(swarm)
    assert before == dict((site, ("manager", "reachable")) for site in ("esoc", "esec", "esrin"))
    try:
        kill_site(folder, "esrin")
        _wait_for(lambda: _reachability(swarm)["esrin"][1] == "unreachable", "esrin to be unreachable")
        labelled = {"labels": {"site": "esoc", "segment": "ops"}}  # a change the refusal must not apply either
        for change, step in (({"role": "worker"}, "demote esec"), ({"state": "absent"}, "remove esec")):
            nodes = [n for n in _nodes(swarm, esoc=labelled, esec=change) if n["name"] != "esrin"]
            run = run_playbook(_play(nodes))
            result = run.result(TASK)
            assert run.rc != 0 and result["changed"] is False, run.stdout[-3000:]
            assert f"refused: {step} would leave 1 reachable manager(s) of 2, and quorum needs 2" \
                in result["msg"], result["msg"]
            assert _reachability(swarm) == dict(before, esrin=("manager", "unreachable"))
            assert "segment" not in _spec(swarm, "esoc")["Spec"]["Labels"]

        kill_site(folder, "esec")  # two of three down: no quorum, any change fails fast and clearly
        nodes = [n for n in _nodes(swarm, esoc=labelled) if n["name"] == "esoc"]
        started = time.monotonic()
        run = run_playbook(_play(nodes))
        elapsed = time.monotonic() - started
        assert run.rc != 0 and run.result(TASK)["changed"] is False
        assert "has no quorum" in run.result(TASK)["msg"], run.result(TASK)["msg"]
        print(f"no-quorum failure reported after {elapsed:.1f}s (playbook start included)")
    finally:
        restored = _lab("up", env)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    _wait_for(lambda: _reachability(swarm) == before, "the three managers to be reachable again")
    assert "segment" not in _spec(swarm, "esoc")["Spec"]["Labels"]
