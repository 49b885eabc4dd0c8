# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bringing nodes into one swarm: init, join, labels, availability, promote/demote, removal.

This is private to esa.s2p: it may change at any time, do not import it
from outside the collection.

Each node is reached through its own daemon (docker_host); node specs are changed through
a manager. Join tokens are read from the manager and handed to the joining daemon only:
they are never returned (the module also marks them no_log). Managers are removed only
after being demoted, and a plan that would leave fewer reachable managers than the quorum
needs is refused before anything changes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems
from ansible_collections.esa.s2p.plugins.module_utils.swarm.client import NoQuorum, SwarmError

ROLES = ("manager", "worker")
AVAILABILITIES = ("active", "drain", "pause")
SWARM_PORT = 2377
DEFAULT_LISTEN_ADDR = "0.0.0.0:%d" % SWARM_PORT


def default_advertise_addr(docker_host):
    """The host of a tcp:// docker_host (the address the node is reached on), else None."""
    if not isinstance(docker_host, str) or not docker_host.startswith(("tcp://", "https://", "http://")):
        return None
    host = docker_host.split("://", 1)[1].split("/", 1)[0]
    if host.startswith("["):
        return host[1:host.index("]")] if "]" in host else None
    return host.rsplit(":", 1)[0] if ":" in host else host or None


def validate_nodes(nodes):
    """Normalised node list, or ValidationError naming every bad item and field."""
    problems, seen_names, seen_hosts, out = Problems(), set(), set(), []
    for index, node in enumerate(nodes or []):
        where = "nodes[%d]" % index
        name = node.get("name")
        if not name:
            problems.add(where, "name is required")
            continue
        where = "node %s" % name
        if name in seen_names:
            problems.add(where, "listed twice")
        seen_names.add(name)
        if node.get("docker_host") in seen_hosts:
            problems.add(where, "docker_host %s is used by another node" % node.get("docker_host"))
        seen_hosts.add(node.get("docker_host"))
        labels = node.get("labels") or {}
        bad = sorted(str(k) for k, v in labels.items() if not isinstance(v, (str, int)) or isinstance(v, bool))
        if bad:
            problems.add(where, "labels %s must have string values" % ", ".join(bad))
        out.append(dict(node, labels=dict((str(k), str(v)) for k, v in labels.items()),
                        listen_addr=node.get("listen_addr") or DEFAULT_LISTEN_ADDR,
                        advertise_addr=node.get("advertise_addr") or default_advertise_addr(node.get("docker_host"))))
    if not nodes:
        problems.add("nodes", "the list is empty; give at least one node (name, docker_host), e.g. the "
                              "inventory's s2p_swarm_nodes")
    present_managers = [n for n in out if n["state"] == "present" and n["role"] == "manager"]
    if out and not present_managers:
        problems.add("nodes", "at least one node must be a present manager")
    problems.raise_if_any()
    return out


def _majority(count):
    return count // 2 + 1


def plan_managers(nodes, node_ids, current):
    """Check the manager changes of a validated node list against Raft quorum, in the order the
    engine applies them (list order: joins and promotions add a reachable manager, demotions and
    removals take one away); pure logic, nothing is sent.

    node_ids: {name: the swarm node ID of the node's daemon, or None outside the swarm};
    current: {node ID: node summary} read from a manager ({} when there is no swarm yet).
    Raises NoQuorum when the swarm has no quorum now or when a step would lose it; returns
    {managers, reachable, steps, even}: the manager count and reachable count after the plan,
    the manager steps in order, and the even-count warning text (None when the count is odd).
    """
    managers = [s for s in current.values() if s["role"] == "manager"]
    count, reachable = len(managers), len([s for s in managers if s["reachability"] == "reachable"])
    if managers and reachable < _majority(count):
        raise NoQuorum("the swarm has no quorum: %d of %d managers reachable, %d needed (unreachable: %s)" % (
            reachable, count, _majority(count), ", ".join(sorted(
                s["hostname"] or s["id"] for s in managers if s["reachability"] != "reachable"))),
            hint="Bring managers back online before changing the cluster, or recover with "
                 "docker swarm init --force-new-cluster on one manager")
    steps = []
    for node in nodes:
        spec = current.get(node_ids.get(node["name"]))
        is_manager = spec is not None and spec["role"] == "manager"
        wants_manager = node["state"] == "present" and node["role"] == "manager"
        if wants_manager and not is_manager:
            count, reachable = count + 1, reachable + 1
            steps.append("%s joins as manager" % node["name"] if spec is None else "promote %s" % node["name"])
        elif is_manager and not wants_manager:
            step = "%s %s" % ("remove" if node["state"] == "absent" else "demote", node["name"])
            count -= 1
            reachable -= 1 if spec["reachability"] == "reachable" else 0
            if reachable < _majority(count):
                raise NoQuorum("refused: %s would leave %d reachable manager(s) of %d, and quorum needs %d%s; "
                               "nothing was changed" % (step, reachable, count, _majority(count), "".join(
                                   " (after: %s)" % ", ".join(steps) if steps else "")),
                               hint="Bring the unreachable managers back or promote other nodes first, then "
                                    "demote or remove managers one at a time")
            steps.append(step)
    listed = set(node_ids.values())
    total = len([n for n in nodes if n["state"] == "present" and n["role"] == "manager"]) + len(
        [s for s in managers if s["id"] not in listed])
    even = None
    if total and total % 2 == 0:
        even = ("the swarm would have %d managers: an even count tolerates no more failures than %d "
                "(use an odd number)" % (total, total - 1))
    return {"managers": count, "reachable": reachable, "steps": steps, "even": even}


class ClusterEngine(object):
    def __init__(self, connect, check_mode=False, even_managers="warn", join_timeout=90):
        """connect(docker_host) -> SwarmClient for that node's daemon."""
        self.connect = connect
        self.check_mode = check_mode
        self.even_managers = even_managers
        self.join_timeout = join_timeout
        self.warnings = []
        self.secrets = []  # join tokens seen, for the module's no_log list

    def converge(self, nodes):
        clients = dict((n["name"], self.connect(n["docker_host"])) for n in nodes)
        states = dict((n["name"], clients[n["name"]].swarm_state()) for n in nodes)
        manager = next((n for n in nodes if n["state"] == "present" and n["role"] == "manager"
                        and states[n["name"]]["control_available"]), None)
        results = dict((n["name"], {"name": n["name"], "actions": []}) for n in nodes)
        before, after = {}, {}
        current = {}
        if manager is not None:
            current = dict((s["id"], s) for s in clients[manager["name"]].nodes())
        self._check_quorum(nodes, states, current)
        cluster = states[manager["name"]]["cluster_id"] if manager is not None else None
        removed = [n["name"] for n in nodes
                   if manager is not None and _removed_member(states[n["name"]], current, cluster)]
        outside = [n["name"] for n in nodes if n["state"] == "present" and not n.get("advertise_addr")
                   and (states[n["name"]]["local_node_state"] != "active" or n["name"] in removed)]
        if outside:  # known before anything is written
            raise ValidationError(["node %s: advertise_addr is needed to %s the swarm (give it, or reach the node's "
                                   "daemon over tcp:// so that its host is used)" % (
                                       name, "join" if manager is not None else "initialise or join")
                                   for name in outside])
        strangers = [n["name"] for n in nodes if states[n["name"]]["local_node_state"] == "active"
                     and manager is not None and states[n["name"]]["node_id"] not in current
                     and n["name"] not in removed]
        if strangers:
            raise SwarmError("node(s) %s belong to another swarm than %s's" % (", ".join(strangers), manager["name"]),
                             hint="Make them leave that swarm first (docker swarm leave --force), then run again")
        for node in nodes:
            state = states[node["name"]]
            spec = current.get(state["node_id"]) if state["local_node_state"] == "active" else None
            before[node["name"]] = _view(spec)
            after[node["name"]] = (_view(spec, node) if node["state"] == "present" else None)
        initialised = None
        if manager is None:
            initialised = next(n for n in nodes if n["state"] == "present" and n["role"] == "manager")
            results[initialised["name"]]["actions"].append("init swarm")
            if not self.check_mode:
                manager = self._init(initialised, clients, states)
        for node in nodes:
            if node["name"] in removed:
                self._leave_removed(node, clients, states, results[node["name"]])
            self._converge_node(node, clients, states, manager, current, results[node["name"]],
                                initialised=node is initialised)
        changed = any(r["actions"] for r in results.values())
        diff = {"before": before, "after": after}
        return changed, [results[n["name"]] for n in nodes], diff

    # --- planning checks ---------------------------------------------------------------
    def _check_quorum(self, nodes, states, current):
        verdict = plan_managers(nodes, dict((n["name"], states[n["name"]]["node_id"]) for n in nodes), current)
        if verdict["even"]:
            if self.even_managers == "fail":
                raise ValidationError(["nodes: %s" % verdict["even"]])
            self.warnings.append(verdict["even"])

    # --- applying ----------------------------------------------------------------------------
    def _init(self, first, clients, states):
        """docker swarm init on the first manager; returns it as the manager of the run."""
        client = clients[first["name"]]
        client.call("swarm init on %s" % first["name"], client.api.init_swarm,
                    advertise_addr=first["advertise_addr"], listen_addr=first["listen_addr"])
        states[first["name"]] = client.swarm_state()
        return first

    def _tokens(self, clients, manager):
        client = clients[manager["name"]]
        tokens = client.call("join tokens", client.api.inspect_swarm)["JoinTokens"]
        self.secrets.extend(tokens.values())
        return tokens

    def _converge_node(self, node, clients, states, manager, current, result, initialised=False):
        name, state = node["name"], states[node["name"]]
        in_swarm = state["local_node_state"] == "active"
        spec = current.get(state["node_id"]) if in_swarm else None
        if node["state"] == "absent":
            if in_swarm or spec:
                self._remove(node, clients, manager, spec, result)
            return
        if self.check_mode and (initialised or not in_swarm):
            if not initialised:
                result["actions"].append("join as %s" % node["role"])
            # a new node starts active, unlabelled and in the wanted role: predict the rest
            self._update_spec(node, None, {"role": node["role"], "availability": "active", "labels": {}}, result)
            return
        if initialised:
            spec = self._wait_ready(clients[manager["name"]], state["node_id"], name)
        elif not in_swarm:
            result["actions"].append("join as %s" % node["role"])
            tokens = self._tokens(clients, manager)
            client = clients[name]
            client.call("swarm join of %s" % name, client.api.join_swarm, [_join_addr(clients[manager["name"]])],
                        tokens["Manager" if node["role"] == "manager" else "Worker"],
                        listen_addr=node["listen_addr"], advertise_addr=node["advertise_addr"])
            states[name] = state = client.swarm_state()
            spec = self._wait_ready(clients[manager["name"]], state["node_id"], name)
        self._update_spec(node, clients[manager["name"]], spec, result)

    def _update_spec(self, node, manager_client, spec, result):
        changes = {}
        if spec["role"] != node["role"]:
            changes["Role"] = node["role"]
            result["actions"].append("%s to %s" % ("promote" if node["role"] == "manager" else "demote", node["role"]))
        if spec["availability"] != node["availability"]:
            changes["Availability"] = node["availability"]
            result["actions"].append("availability %s -> %s" % (spec["availability"], node["availability"]))
        labels = dict(spec["labels"])
        for key, value in node["labels"].items():
            if labels.get(key) != value:
                result["actions"].append("label %s=%s" % (key, value))
                labels[key] = value
        if labels != spec["labels"]:
            changes["Labels"] = labels
        if changes and not self.check_mode:
            api = manager_client.api
            raw = manager_client.call("node %s" % node["name"], api.inspect_node, spec["id"])
            body = dict(raw["Spec"], **changes)
            manager_client.call("update node %s" % node["name"], api.update_node, spec["id"],
                                raw["Version"]["Index"], body)
            if "Role" in changes:  # the raft membership follows the spec: wait for it
                self._wait(lambda: _raft_role(manager_client, spec["id"]) == node["role"],
                           "%s to become a %s in the raft" % (node["name"], node["role"]))

    def _remove(self, node, clients, manager, spec, result):
        manager_client = clients[manager["name"]]
        if spec and spec["role"] == "manager":
            result["actions"].append("demote to worker")
            if not self.check_mode:
                self._update_spec(dict(node, role="worker", availability=spec["availability"], labels={}),
                                  manager_client, spec, {"actions": []})
        result["actions"].append("leave the swarm")
        if self.check_mode:
            return
        client = clients[node["name"]]
        try:
            client.call("swarm leave of %s" % node["name"], client.api.leave_swarm, force=False)
        except SwarmError as exc:
            if "not part of a swarm" not in str(exc):
                raise
        if spec:
            self._wait(lambda: manager_client.call("node", manager_client.api.inspect_node, spec["id"])
                       ["Status"]["State"] == "down", "%s to be seen down" % node["name"])
            manager_client.call("remove node %s" % node["name"], manager_client.api.remove_node, spec["id"])

    def _leave_removed(self, node, clients, states, result):
        """A node the swarm removed (docker node rm) that still believes it is a member: it leaves
        (--force: its membership is gone anyway), so that it joins again like a new node."""
        result["actions"].append("leave (removed from the swarm)")
        if self.check_mode:
            states[node["name"]] = dict(states[node["name"]], local_node_state="inactive", node_id=None)
            return
        client = clients[node["name"]]
        client.call("swarm leave of %s" % node["name"], client.api.leave_swarm, force=True)
        states[node["name"]] = client.swarm_state()

    def _wait_ready(self, manager_client, node_id, name):
        found = {}

        def ready():
            for summary in manager_client.nodes():
                if summary["id"] == node_id and summary["state"] == "ready":
                    found["spec"] = summary
                    return True
            return False

        self._wait(ready, "%s to be ready" % name)
        return found["spec"]

    def _wait(self, check, what):
        deadline = time.time() + self.join_timeout
        while not check():
            if time.time() > deadline:
                raise SwarmError("timed out after %ss waiting for %s" % (self.join_timeout, what))
            time.sleep(0.5)


def _removed_member(state, current, cluster):
    """Whether a node's daemon believes it is in our swarm although the managers no longer list it
    (removed with docker node rm, not by leaving): it cannot reach a swarm (pending, error), or it
    is active with our cluster's ID (a manager) or knows our managers (a worker). Any other active
    node belongs to another swarm."""
    if not state["node_id"] or state["node_id"] in current:
        return False
    if state["local_node_state"] in ("pending", "error"):
        return True
    if state["local_node_state"] != "active":
        return False
    ours = set(s["manager_addr"] for s in current.values() if s.get("manager_addr"))
    known = set(state.get("remote_managers") or ())
    return (cluster is not None and state["cluster_id"] == cluster) or bool(ours & known)


def _join_addr(manager_client):
    """host:port of the manager's swarm listener as it advertises it (the port need not be 2377)."""
    state = manager_client.swarm_state()
    for summary in manager_client.nodes():
        if summary["id"] == state["node_id"] and summary["manager_addr"]:
            return summary["manager_addr"]
    return "%s:%d" % (state["node_addr"], SWARM_PORT)


def _raft_role(manager_client, node_id):
    """'manager' once the node is a reachable raft member, 'worker' once it left the raft."""
    node = manager_client.call("node", manager_client.api.inspect_node, node_id)
    status = node.get("ManagerStatus") or {}
    if status.get("Reachability") == "reachable":
        return "manager"
    return "worker" if not status else "joining"


def _view(spec, node=None):
    """What the diff shows for a node: role, availability, labels (wanted values merged in)."""
    if spec is None and node is None:
        return None
    base = {"role": None, "availability": None, "labels": {}} if spec is None else {
        "role": spec["role"], "availability": spec["availability"], "labels": dict(spec["labels"])}
    if node is not None:
        base = {"role": node["role"], "availability": node["availability"],
                "labels": dict(base["labels"], **node["labels"])}
    return base
