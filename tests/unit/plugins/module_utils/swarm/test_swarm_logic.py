"""Swarm manager and quorum logic of module_utils/swarm/client.py, on real SwarmClient objects
(nothing is sent: the client connects on first API use only)."""

from __future__ import annotations

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.swarm.client import (
    NotSwarmManager,
    SwarmClient,
    _node_summary,
    quorum,
    quorum_message,
)

HOST = "unix:///nonexistent/docker.sock"


def node(hostname, role="manager", reachability="reachable", state="ready", availability="active", leader=False):
    """A node as GET /nodes returns it (the docker API's shape), reduced by the client's own summary."""
    raw = {"ID": hostname + "-id", "Description": {"Hostname": hostname},
           "Spec": {"Role": role, "Availability": availability, "Labels": {}},
           "Status": {"State": state, "Addr": "10.0.0.1"}}
    if role == "manager":
        raw["ManagerStatus"] = {"Leader": leader, "Reachability": reachability, "Addr": "10.0.0.1:2377"}
    return _node_summary(raw)


def state(local="active", control=True, error=""):
    info = {"Swarm": {"LocalNodeState": local, "ControlAvailable": control, "NodeID": "n1", "Error": error,
                      "Cluster": {"ID": "c1"}, "Managers": 1, "Nodes": 1}}
    return SwarmClient(HOST).swarm_state(info)


@pytest.mark.parametrize("reachable, managers, needed, has_quorum", [
    (1, 1, 1, True), (2, 3, 2, True), (1, 3, 2, False), (3, 5, 3, True), (2, 5, 3, False),
    (2, 4, 3, False), (3, 4, 3, True),
])
def test_quorum_needs_a_majority_of_managers(reachable, managers, needed, has_quorum):
    nodes = [node("m%d" % i, reachability="reachable" if i < reachable else "unreachable") for i in range(managers)]
    nodes.append(node("w1", role="worker"))  # workers never count
    q = quorum(nodes)
    assert (q["managers"], q["reachable"], q["needed"], q["has_quorum"]) == (managers, reachable, needed, has_quorum)
    assert q["unreachable"] == ["m%d" % i for i in range(reachable, managers)]


def test_no_manager_means_no_quorum():
    assert quorum([node("w1", role="worker")])["has_quorum"] is False
    assert quorum([]) == {"managers": 0, "reachable": 0, "needed": 1, "has_quorum": False, "unreachable": []}


def test_quorum_message_says_what_to_bring_back():
    lost = quorum([node("m1"), node("m2", reachability="unreachable"), node("m3", reachability="unreachable")])
    assert quorum_message(lost) == ("1/3 managers reachable, quorum needs 2: bring back m2, m3, or recover with "
                                    "docker swarm init --force-new-cluster")
    assert quorum_message(quorum([node("m1")])) == "1/1 managers reachable, quorum needs 1"


def test_node_summary_of_a_worker_has_no_manager_fields():
    worker = node("w1", role="worker", state="down", availability="drain")
    assert worker["reachability"] is None and worker["leader"] is False
    assert (worker["role"], worker["state"], worker["availability"]) == ("worker", "down", "drain")


def test_require_manager_accepts_an_active_manager():
    good = state()
    assert SwarmClient(HOST).require_manager(good) is good


def test_require_manager_refuses_a_node_outside_any_swarm():
    with pytest.raises(NotSwarmManager, match="not in an active swarm \\(LocalNodeState inactive\\)"):
        SwarmClient(HOST).require_manager(state(local="inactive", control=False))


def test_require_manager_names_the_swarm_error():
    with pytest.raises(NotSwarmManager, match="LocalNodeState error: manager stopped"):
        SwarmClient(HOST).require_manager(state(local="error", control=False, error="manager stopped"))


def test_require_manager_refuses_a_worker():
    with pytest.raises(NotSwarmManager, match="is a swarm worker, not a manager") as caught:
        SwarmClient(HOST).require_manager(state(control=False))
    assert HOST in str(caught.value) and "manager node" in caught.value.hint


def test_swarm_state_of_an_empty_info():
    assert SwarmClient(HOST).swarm_state({"Swarm": {}})["local_node_state"] == "inactive"


def test_client_options_are_validated_before_connecting():
    with pytest.raises(ValidationError, match="client_cert and client_key"):
        SwarmClient(HOST, client_cert="/cert.pem")
    with pytest.raises(ValidationError, match="docker_host /var/run/docker.sock"):
        SwarmClient("/var/run/docker.sock")
