# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker Swarm client over the docker SDK's low-level APIClient.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

SwarmClient connects lazily to one daemon (a swarm manager) and sends every API call
through `call`, which turns SDK, HTTP and socket failures into one SwarmError subclass
naming the daemon and what to fix. Swarm modules (clusters, stacks, services) use
`api` for what is not wrapped here yet, always through `call`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import (
    ConnectionFailure,
    MissingLibrary,
    ValidationError,
)
from ansible_collections.esa.s2p.plugins.module_utils.core.health import HealthReport

try:
    import docker
    import docker.errors
    import docker.tls
    import docker.utils
    import requests.exceptions
except ImportError:
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
USER_AGENT = "esa.s2p"


class SwarmError(ConnectionFailure):
    """The Docker daemon or the swarm failed a request."""


class DaemonUnreachable(SwarmError):
    """No Docker daemon answered at docker_host (socket missing, connection refused, TLS failure)."""


class NotSwarmManager(SwarmError):
    """The daemon is not part of a swarm, or is a worker; swarm state is only readable on managers."""


class NoQuorum(SwarmError):
    """Too few managers are reachable to elect a leader; the swarm cannot change state."""


class APIVersionError(SwarmError):
    """The client and daemon cannot agree on a Docker API version."""


if HAS_DOCKER:
    class _APIClient(docker.APIClient):
        """docker.APIClient whose TLS trust is the one it was given.

        requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace a session's `verify` on every
        request (Session.merge_environment_settings), so ca_path (and validate_certs false) would be
        silently ignored wherever those variables are set. The session's verify wins here unless it
        is plain True (no ca_path: then the environment's bundle is a legitimate way to give a CA);
        proxies and the rest of the environment still apply."""

        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            settings = super(_APIClient, self).merge_environment_settings(url, proxies, stream, verify, cert)
            if verify is None and self.verify is not True:
                settings["verify"] = self.verify
            return settings


class SwarmClient:
    """One Docker daemon, expected to be a swarm manager."""

    def __init__(self, docker_host=None, tls=False, validate_certs=False, ca_path=None, client_cert=None,
                 client_key=None, timeout=60, api_version="auto"):
        if not HAS_DOCKER:
            raise MissingLibrary("docker", DOCKER_IMPORT_ERROR)
        if bool(client_cert) != bool(client_key):
            raise ValidationError(["client_cert and client_key must be given together"])
        self.docker_host = docker_host or DEFAULT_DOCKER_HOST
        self.timeout = timeout
        self.api_version = api_version or "auto"
        self.tls_config = _tls_config(tls, validate_certs, ca_path, client_cert, client_key)
        try:
            docker.utils.parse_host(self.docker_host, tls=bool(self.tls_config))
        except docker.errors.DockerException as exc:
            raise ValidationError(["docker_host %s: %s" % (self.docker_host, exc)]) from None
        self._api = None

    @property
    def api(self):
        """docker.APIClient, connected on first use (version "auto" asks the daemon once)."""
        if self._api is None:
            self._api = self.call(None, _APIClient, base_url=self.docker_host, version=self.api_version,
                                  timeout=self.timeout, tls=self.tls_config or False, user_agent=USER_AGENT)
        return self._api

    # --- the one error path -------------------------------------------------------
    def call(self, what, func, *args, **kwargs):
        """Run func(*args, **kwargs); every failure becomes a SwarmError naming the daemon and `what`.

        `what` names the request in the message ("node list"); None for the connection itself.
        """
        try:
            return func(*args, **kwargs)
        except docker.errors.APIError as exc:
            raise self._api_error(exc, what) from exc
        except docker.errors.InvalidVersion as exc:
            raise APIVersionError("Docker API version %s is not usable: %s" % (self.api_version, exc), obj=what,
                                  hint="Leave api_version at auto, or set a version the daemon supports") from exc
        except requests.exceptions.ReadTimeout:
            raise SwarmError("the Docker daemon at %s did not answer within %ss" % (self.docker_host, self.timeout),
                             obj=what, hint="The daemon may be overloaded or hung; raise timeout or check it") from None
        except (requests.exceptions.RequestException, docker.errors.DockerException, OSError) as exc:
            raise DaemonUnreachable("Docker daemon unreachable at %s: %s" % (self.docker_host, _root_cause(exc)),
                                    obj=what, hint="Check docker_host (DOCKER_HOST), that dockerd runs there, and the "
                                                   "TLS options if it listens on TCP") from exc

    def _api_error(self, exc, what):
        text = exc.explanation or str(exc)
        lowered = text.lower()
        if "is too new" in lowered or ("api version" in lowered and exc.status_code == 400):
            return APIVersionError("the Docker daemon at %s rejected API version %s: %s" % (
                self.docker_host, self.api_version, text), obj=what,
                hint="Leave api_version at auto, or set a version the daemon supports")
        if "not a swarm manager" in lowered or "not part of a swarm" in lowered:
            return NotSwarmManager("the Docker daemon at %s is not a swarm manager: %s" % (self.docker_host, text),
                                   obj=what, hint="Point docker_host at a manager node of the swarm")
        if "does not have a leader" in lowered or "quorum" in lowered:
            return NoQuorum("the swarm behind %s has no quorum: %s" % (self.docker_host, text), obj=what,
                            hint="Bring enough managers back online, or recover with docker swarm init "
                                 "--force-new-cluster on one manager")
        if exc.status_code == 500 and "rpc error" in lowered and "deadline exceeded" in lowered:
            # A manager that lost its majority forwards calls to a leader no one elects, until the
            # raft call times out; which of the two errors comes first depends on timing.
            return NoQuorum("the swarm behind %s most likely has no quorum: the manager timed out asking the "
                            "swarm's leader (%s)" % (self.docker_host, text), obj=what,
                            hint="Check that a majority of the managers are up and reachable (docker node ls on "
                                 "another manager); bring enough managers back online, or recover with docker "
                                 "swarm init --force-new-cluster on one manager")
        return SwarmError("the Docker daemon at %s answered HTTP %s: %s" % (self.docker_host, exc.status_code, text),
                          obj=what)

    # --- reading ------------------------------------------------------------------------
    def ping(self):
        return self.call("ping", self.api.ping)

    def version(self):
        return self.call("version", self.api.version)

    def info(self):
        return self.call("info", self.api.info)

    def swarm_state(self, info=None):
        """This node's view of the swarm, from `docker info` (works on any daemon, manager or not)."""
        swarm = (info or self.info()).get("Swarm") or {}
        cluster = swarm.get("Cluster") or {}
        return {
            "local_node_state": swarm.get("LocalNodeState") or "inactive",
            "control_available": bool(swarm.get("ControlAvailable")),
            "node_id": swarm.get("NodeID") or None,
            "node_addr": swarm.get("NodeAddr") or None,
            "cluster_id": cluster.get("ID") or None,
            "managers": swarm.get("Managers") or 0,
            "nodes": swarm.get("Nodes") or 0,
            "error": swarm.get("Error") or None,
            "remote_managers": sorted(m.get("Addr") for m in swarm.get("RemoteManagers") or [] if m.get("Addr")),
        }

    def require_manager(self, state=None):
        """Raise NotSwarmManager unless this daemon is an active manager; return its swarm state."""
        state = state or self.swarm_state()
        if state["local_node_state"] != "active":
            raise NotSwarmManager("the Docker daemon at %s is not in an active swarm (LocalNodeState %s%s)" % (
                self.docker_host, state["local_node_state"], ": " + state["error"] if state["error"] else ""),
                hint="Run docker swarm init or join, or point docker_host at a swarm manager")
        if not state["control_available"]:
            raise NotSwarmManager("the Docker daemon at %s is a swarm worker, not a manager" % self.docker_host,
                                  hint="Point docker_host at a manager node of the swarm")
        return state

    def nodes(self):
        """Every node of the swarm (manager only), reduced to what roles and checks use."""
        return [_node_summary(node) for node in self.call("node list", self.api.nodes)]


_VERSION_FACTS = ("Version", "ApiVersion", "MinAPIVersion", "Os", "Arch", "KernelVersion")


def _refusal(client, state):
    """The client's own message for why this daemon cannot manage the swarm."""
    try:
        client.require_manager(state)
    except SwarmError as exc:
        return str(exc)
    return "this node manages the swarm"


def health_report(client):
    """{healthy, checks, docker_host, nodes, daemon, swarm, quorum}. Each check needs the one
    before it; the first failure ends the run."""
    report = HealthReport(docker_host=client.docker_host, nodes=[])
    facts = report.facts
    try:
        client.ping()
        version = client.version()
        facts["daemon"] = dict((k, version.get(k)) for k in _VERSION_FACTS)
        daemon = "Docker %s (API %s) at %s" % (version.get("Version"), version.get("ApiVersion"), client.docker_host)
        facts["swarm"] = state = client.swarm_state()
    except SwarmError as exc:
        report.add("daemon answers", False, str(exc))
        return report.as_dict()
    report.add("daemon answers", True, daemon)
    active = state["local_node_state"] == "active"
    report.add("swarm active", active, "LocalNodeState active" if active else _refusal(client, state))
    if not active:
        return report.as_dict()
    manager = state["control_available"]
    report.add("node is a manager", manager, "ControlAvailable: node %s can manage the swarm" % (
        state["node_id"]) if manager else _refusal(client, state))
    if not manager:
        return report.as_dict()
    try:
        facts["nodes"] = nodes = client.nodes()
    except SwarmError as exc:
        report.add("manager quorum", False, str(exc))
        return report.as_dict()
    facts["quorum"] = q = quorum(nodes)
    report.add("manager quorum", q["has_quorum"], quorum_message(q))
    lost = sorted(n["hostname"] for n in nodes if n["state"] != "ready" and n["availability"] == "active")
    if lost:
        msg = ("node(s) %s not ready but their availability is active: bring them back or drain them "
               "(docker node update --availability drain NODE)" % ", ".join(lost))
    else:
        msg = "%d nodes, all active ones ready" % len(nodes)
    report.add("active nodes ready", not lost, msg)
    return report.as_dict()


def quorum_message(q):
    """The `manager quorum` check's message for a quorum() result."""
    return "%d/%d managers reachable, quorum needs %d%s" % (
        q["reachable"], q["managers"], q["needed"],
        "" if q["has_quorum"] else ": bring back %s, or recover with docker swarm init --force-new-cluster"
        % ", ".join(q["unreachable"]))


def quorum(nodes):
    """Raft quorum of the managers among `nodes`: floor(managers/2)+1 of them must be reachable."""
    managers = [n for n in nodes if n["role"] == "manager"]
    reachable = [n for n in managers if n["reachability"] == "reachable"]
    needed = len(managers) // 2 + 1
    return {"managers": len(managers), "reachable": len(reachable), "needed": needed,
            "has_quorum": bool(managers) and len(reachable) >= needed,
            "unreachable": sorted(n["hostname"] for n in managers if n["reachability"] != "reachable")}


def _node_summary(node):
    spec, status = node.get("Spec") or {}, node.get("Status") or {}
    manager = node.get("ManagerStatus") or {}
    return {
        "id": node.get("ID"),
        "hostname": (node.get("Description") or {}).get("Hostname"),
        "role": spec.get("Role"),
        "availability": spec.get("Availability"),
        "labels": spec.get("Labels") or {},
        "state": status.get("State"),
        "addr": status.get("Addr"),
        "leader": bool(manager.get("Leader")),
        "reachability": manager.get("Reachability"),
        "manager_addr": manager.get("Addr"),
    }


def _tls_config(tls, validate_certs, ca_path, client_cert, client_key):
    """docker.tls.TLSConfig as community.docker builds it: validate_certs implies tls."""
    if not (tls or validate_certs):
        return None
    cert = (client_cert, client_key) if client_cert else None
    try:
        if validate_certs:
            return docker.tls.TLSConfig(client_cert=cert, ca_cert=ca_path, verify=True)
        return docker.tls.TLSConfig(client_cert=cert, verify=False)
    except docker.errors.TLSParameterError as exc:
        raise ValidationError(["TLS options: %s" % exc]) from exc


def _root_cause(exc):
    """The innermost error of a chain (docker wraps requests wraps urllib3 wraps the socket error)."""
    seen, depth = exc, 0
    while depth < 10:
        depth += 1
        inner = seen.__cause__ or getattr(seen, "reason", None)
        if inner is None and seen.args and isinstance(seen.args[-1], BaseException):
            inner = seen.args[-1]
        if not isinstance(inner, BaseException) or inner is seen:
            break
        seen = inner
    if isinstance(seen, OSError) and seen.strerror:
        return seen.strerror
    return str(seen)
