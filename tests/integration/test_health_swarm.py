"""esa.s2p.swarm_health against the lab's swarm (s2p_swarm_connection: the esoc manager of the
three-site swarm, service swarm_sites): healthy with three managers, daemon
unreachable, API version refused, environment fallbacks and invalid options."""

from __future__ import annotations

from functools import partial

import docker
import pytest
from health_helpers import assert_invalid_options_fail, health_play

TASK = "swarm health"
play = partial(health_play, "swarm", task=TASK)


@pytest.fixture(scope="module")
def docker_host(lab) -> str:
    return lab["swarm_sites"]["docker_host"]  # what s2p_swarm_connection points at


@pytest.mark.parametrize("check", [False, True], ids=["run", "check_mode"])
def test_healthy_manager_with_quorum_and_nodes(run_playbook, docker_host, check):
    run = run_playbook(play(), check=check)
    assert run.rc == 0, run.stdout
    result = run.result(TASK)
    assert result["healthy"] is True, result["checks"]
    assert result["changed"] is False
    assert [c["name"] for c in result["checks"]] == [
        "daemon answers", "swarm active", "node is a manager", "manager quorum", "active nodes ready"]
    # Independent view through the docker SDK.
    api = docker.APIClient(base_url=docker_host, version="auto")
    try:
        info, nodes = api.info(), api.nodes()
        assert result["daemon"]["Version"] == api.version()["Version"]
    finally:
        api.close()
    assert result["swarm"]["node_id"] == info["Swarm"]["NodeID"]
    assert result["swarm"]["cluster_id"] == info["Swarm"]["Cluster"]["ID"]
    assert sorted(n["id"] for n in result["nodes"]) == sorted(n["ID"] for n in nodes)
    managers = [n for n in nodes if n["Spec"]["Role"] == "manager"]
    assert result["quorum"] == {"managers": len(managers), "reachable": len(managers),
                                "needed": len(managers) // 2 + 1, "has_quorum": True, "unreachable": []}
    me = [n for n in result["nodes"] if n["id"] == info["Swarm"]["NodeID"]][0]
    assert me["role"] == "manager" and me["availability"] == "active" and me["reachability"] == "reachable"
    assert sum(n["leader"] for n in result["nodes"]) == 1


def test_wrong_socket_says_daemon_unreachable_at(run_playbook, tmp_path):
    host = f"unix://{tmp_path}/missing/docker.sock"
    run = run_playbook(play({"docker_host": host}))
    assert run.rc == 0, run.stdout  # unhealthy is reported, not failed
    result = run.result(TASK)
    assert result["healthy"] is False
    assert result["checks"] == [{"name": "daemon answers", "ok": False, "msg": result["checks"][0]["msg"]}]
    msg = result["checks"][0]["msg"]
    assert msg.startswith(f"Docker daemon unreachable at {host}: No such file or directory"), msg
    assert result["nodes"] == []


def test_api_version_too_new_is_named(run_playbook, docker_host):
    result = run_playbook(play({"api_version": "1.99"})).result(TASK)
    assert result["healthy"] is False
    msg = result["checks"][0]["msg"]
    assert f"the Docker daemon at {docker_host} rejected API version 1.99" in msg, msg
    assert "Maximum supported API version" in msg


def test_environment_fallbacks(run_playbook, docker_host):
    result = run_playbook(play(lab_defaults=False), envvars={"DOCKER_HOST": docker_host}).result(TASK)
    assert result["healthy"] is True, result["checks"]
    assert result["docker_host"] == docker_host


@pytest.mark.parametrize("params, expected", [
    ({"client_cert": "/etc/hostname"}, "parameters are required together: client_cert, client_key"),
    ({"docker_host": "/var/run/docker.sock"}, "Invalid bind address format"),
    ({"validate_certs": True, "ca_path": "/nonexistent/ca.pem"}, "Invalid CA certificate"),
])
def test_invalid_options_fail(run_playbook, params, expected):
    assert_invalid_options_fail(run_playbook(play(params)), TASK, expected)
