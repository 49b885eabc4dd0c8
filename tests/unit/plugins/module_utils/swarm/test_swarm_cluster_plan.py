"""Pure planning logic of module_utils/swarm/cluster.py: node validation, the Raft quorum check of
demotions, removals, joins and promotions in the order the engine applies them, the even-manager
warning, and the diff view. Nothing is sent to a daemon."""

from __future__ import annotations

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.swarm.client import NoQuorum
from ansible_collections.esa.s2p.plugins.module_utils.swarm.cluster import (
    _removed_member,
    _view,
    default_advertise_addr,
    plan_managers,
    validate_nodes,
)

SITES = ("esoc", "esec", "esrin")


def summary(name, role="manager", reachability="reachable", labels=None):
    """A node as SwarmClient.nodes() summarises it."""
    return {"id": name + "-id", "hostname": name, "role": role, "availability": "active", "labels": labels or {},
            "state": "ready", "addr": "10.0.0.1", "leader": name == "esoc",
            "reachability": reachability if role == "manager" else None, "manager_addr": None}


def swarm(*down, workers=(), extra=()):
    """{node ID: summary}: the three sites as managers (those in `down` unreachable), plus workers."""
    nodes = [summary(n, reachability="unreachable" if n in down else "reachable") for n in SITES + tuple(extra)]
    nodes += [summary(n, role="worker") for n in workers]
    return dict((n["id"], n) for n in nodes)


def wanted(names=SITES, **changes):
    """Validated nodes (module defaults filled in) with per-node changes."""
    raw = [dict({"name": n, "docker_host": "unix:///%s.sock" % n, "role": "manager", "availability": "active",
                 "labels": {"site": n}, "advertise_addr": None, "state": "present"}, **changes.get(n, {}))
           for n in names]
    return validate_nodes(raw)


def ids(nodes, current):
    in_swarm = set(s["hostname"] for s in current.values())
    return dict((n["name"], n["name"] + "-id" if n["name"] in in_swarm else None) for n in nodes)


def plan(nodes, current):
    return plan_managers(nodes, ids(nodes, current), current)


def test_a_converged_three_manager_swarm_is_fine():
    assert plan(wanted(), swarm()) == {"managers": 3, "reachable": 3, "steps": [], "even": None}


def test_demoting_one_of_three_healthy_managers_keeps_quorum_but_warns_even():
    verdict = plan(wanted(esrin={"role": "worker"}), swarm())
    assert verdict["steps"] == ["demote esrin"] and (verdict["managers"], verdict["reachable"]) == (2, 2)
    assert "would have 2 managers: an even count tolerates no more failures than 1" in verdict["even"]


def test_demoting_a_reachable_manager_while_another_is_down_is_refused():
    with pytest.raises(NoQuorum) as caught:
        plan(wanted(("esoc", "esec"), esec={"role": "worker"}), swarm("esrin"))
    message = str(caught.value)
    assert "refused: demote esec would leave 1 reachable manager(s) of 2, and quorum needs 2" in message
    assert "nothing was changed" in message and "one at a time" in caught.value.hint


def test_removing_a_reachable_manager_while_another_is_down_is_refused():
    with pytest.raises(NoQuorum, match="refused: remove esec would leave 1 reachable manager"):
        plan(wanted(("esoc", "esec"), esec={"state": "absent"}), swarm("esrin"))


def test_removing_the_unreachable_manager_itself_keeps_quorum():
    verdict = plan(wanted(esrin={"state": "absent"}), swarm("esrin"))
    assert verdict["steps"] == ["remove esrin"] and (verdict["managers"], verdict["reachable"]) == (2, 2)


def test_demoting_two_of_three_at_once_leaves_one_manager_which_is_a_quorum_of_one():
    verdict = plan(wanted(esec={"role": "worker"}, esrin={"role": "worker"}), swarm())
    assert verdict["steps"] == ["demote esec", "demote esrin"] and verdict["managers"] == 1
    assert verdict["even"] is None


def test_order_matters_a_join_before_a_demotion_keeps_quorum_after_it_does_not():
    current = swarm("esrin", extra=("redu",))  # four managers, esrin down: 3 of 4 reachable
    nodes = wanted(("esoc", "esec", "redu", "kiruna"), redu={"role": "worker"})
    verdict = plan(nodes, current)  # kiruna joins last, after the demotion: 2 of 3 reachable, fine
    assert verdict["steps"] == ["demote redu", "kiruna joins as manager"]
    nodes = wanted(("esoc", "esec", "redu"), esec={"role": "worker"}, redu={"role": "worker"})
    with pytest.raises(NoQuorum, match="demote redu would leave 1 reachable manager\\(s\\) of 2.*after: demote esec"):
        plan(nodes, current)
    promoted = wanted(("esoc", "kiruna", "esec"), esec={"role": "worker"}, kiruna={"role": "manager"})
    verdict = plan(promoted, swarm("esrin", workers=("kiruna",)))
    assert verdict["steps"] == ["promote kiruna", "demote esec"]


def test_a_swarm_without_quorum_is_refused_whatever_the_plan():
    with pytest.raises(NoQuorum) as caught:
        plan(wanted(), swarm("esec", "esrin"))
    assert "no quorum: 1 of 3 managers reachable, 2 needed (unreachable: esec, esrin)" in str(caught.value)
    assert "--force-new-cluster" in caught.value.hint


def test_no_swarm_yet_counts_the_joins():
    verdict = plan(wanted(), {})
    assert verdict["steps"] == ["esoc joins as manager", "esec joins as manager", "esrin joins as manager"]
    assert verdict["managers"] == 3 and verdict["even"] is None


def test_unlisted_managers_count_for_the_even_warning():
    verdict = plan(wanted(("esoc", "esec")), swarm())
    assert verdict["even"] is None  # esrin is not listed but stays a manager: 3
    verdict = plan(wanted(("esoc", "esec")), swarm(extra=("redu",)))
    assert "would have 4 managers" in verdict["even"]


def test_workers_never_count():
    verdict = plan(wanted(), swarm(workers=("w1", "w2")))
    assert (verdict["managers"], verdict["reachable"], verdict["even"]) == (3, 3, None)


@pytest.mark.parametrize("nodes, words", [
    ([{"name": "", "docker_host": "unix:///a"}], "nodes[0]: name is required"),
    ([{"name": "a", "docker_host": "unix:///a"}, {"name": "a", "docker_host": "unix:///b"}], "node a: listed twice"),
    ([{"name": "a", "docker_host": "unix:///a"}, {"name": "b", "docker_host": "unix:///a"}],
     "node b: docker_host unix:///a is used by another node"),
    ([{"name": "a", "docker_host": "unix:///a", "labels": {"site": ["x"]}}], "node a: labels site must have string"),
    ([{"name": "a", "docker_host": "unix:///a", "labels": {"on": True}}], "node a: labels on must have string"),
    ([{"name": "a", "docker_host": "unix:///a", "role": "worker"}], "at least one node must be a present manager"),
    ([{"name": "a", "docker_host": "unix:///a", "state": "absent"}], "at least one node must be a present manager"),
])
def test_bad_nodes_are_named(nodes, words):
    defaults = {"role": "manager", "availability": "active", "labels": {}, "advertise_addr": None, "state": "present"}
    with pytest.raises(ValidationError) as caught:
        validate_nodes([dict(defaults, **n) for n in nodes])
    assert any(words in e for e in caught.value.errors), caught.value.errors


def test_every_bad_node_is_reported_at_once():
    raw = [{"name": "a", "docker_host": "unix:///a", "labels": {"x": []}, "role": "worker", "state": "present"},
           {"name": "a", "docker_host": "unix:///a", "labels": {}, "role": "worker", "state": "present"}]
    with pytest.raises(ValidationError) as caught:
        validate_nodes(raw)
    assert len(caught.value.errors) == 4


def test_labels_are_strings_after_validation():
    (node,) = validate_nodes([{"name": "a", "docker_host": "unix:///a", "labels": {"rack": 7}, "role": "manager",
                               "state": "present"}])
    assert node["labels"] == {"rack": "7"}


def test_view_merges_wanted_labels_over_current_ones():
    current = summary("esoc", labels={"site": "esoc", "segment": "ops"})
    assert _view(None) is None
    assert _view(current) == {"role": "manager", "availability": "active", "labels": {"site": "esoc", "segment": "ops"}}
    (node,) = wanted(("esoc",), esoc={"availability": "drain", "labels": {"rack": "7"}})
    assert _view(current, node) == {"role": "manager", "availability": "drain",
                                    "labels": {"site": "esoc", "segment": "ops", "rack": "7"}}
    assert _view(None, node)["labels"] == {"rack": "7"}


@pytest.mark.parametrize("docker_host, expected", [
    ("tcp://10.11.0.10:2376", "10.11.0.10"), ("tcp://swarm-esoc.s2p.esa.int:2376", "swarm-esoc.s2p.esa.int"),
    ("tcp://[fd00::10]:2376", "fd00::10"), ("tcp://10.11.0.10", "10.11.0.10"),
    ("unix:///var/run/docker.sock", None), ("ssh://root@host", None), (None, None),
])
def test_advertise_addr_defaults_to_the_host_of_a_tcp_docker_host(docker_host, expected):
    assert default_advertise_addr(docker_host) == expected


def test_listen_and_advertise_addresses_are_options_with_defaults():
    (plain, own) = validate_nodes([
        {"name": "a", "docker_host": "tcp://10.0.0.1:2376", "role": "manager", "state": "present"},
        {"name": "b", "docker_host": "unix:///b", "role": "manager", "state": "present",
         "advertise_addr": "10.0.0.2:4567", "listen_addr": "10.0.0.2:4567"}])
    assert (plain["advertise_addr"], plain["listen_addr"]) == ("10.0.0.1", "0.0.0.0:2377")
    assert (own["advertise_addr"], own["listen_addr"]) == ("10.0.0.2:4567", "10.0.0.2:4567")


def state(local, node_id="esrin-old", cluster=None, remote=()):
    return {"local_node_state": local, "node_id": node_id, "cluster_id": cluster, "remote_managers": list(remote)}


def with_addresses(current):
    for summary_ in current.values():
        summary_["manager_addr"] = "10.0.0.%d:2377" % len(summary_["id"])
    return current


@pytest.mark.parametrize("node, removed", [
    (state("active", cluster="ours"), True),       # a removed manager still believing in our swarm
    (state("error"), True), (state("pending"), True),  # cannot reach the swarm it believes in
    (state("active", cluster="theirs"), False),    # a manager of another swarm: refused as a stranger
    (state("active"), False),                      # a worker of nobody we know: not ours to take
    (state("active", remote=["10.0.0.8:2377"]), True),   # a removed worker that knows our managers
    (state("active", remote=["10.9.9.9:2377"]), False),  # a worker of another swarm
    (state("inactive", node_id=None), False),      # outside any swarm: joins normally
    (state("active", node_id="esoc-id", cluster="ours"), False),  # listed by the managers: a member
])
def test_a_node_removed_by_the_managers_is_told_from_a_stranger(node, removed):
    assert _removed_member(node, with_addresses(swarm()), "ours") is removed
