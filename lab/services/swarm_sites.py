"""A three-site Docker Swarm: one dockerd per site (esoc, esec, esrin), all managers, and a registry.

Each site daemon runs in its own network namespace (entered with `nsenter --net=`; `ip netns
exec` remounts /sys and breaks dockerd), with its own containerd, data root and exec root.
The namespaces hang on one lab bridge through veth pairs; the host keeps `.1` of the bridge
subnet, the sites get `.11`, `.12`, `.13`.  Debian's docker-registry (distribution 2.8)
listens on the host's bridge address and every site daemon trusts it (--insecure-registry),
so every node pulls the same digests; the lab's busybox image is built once and pushed there.

The loopback dockerd (service `dockerd`) stays a separate single-node swarm: molecule runs
plain containers on it and its socket must not depend on these daemons.  Playbooks reach
this swarm through `swarm_sites.docker_host` (the esoc manager's unix socket) in
endpoints.json; no loopback port is used.

Names and the subnet derive from the state folder, so a scratch lab (S2P_LAB_DIR=/tmp/...)
never meets the shared one.  A swarm that lost its peers (a wiped node, a reset manager, a
node listed twice) is rebuilt: every site leaves (--force), esoc initialises, the others join.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import string
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from common import Health, Lab, LabError, engine_call, engine_ping, run, wait_for
from services import dockerd

NAME = "swarm_sites"
APT = ["docker.io", "containerd", "docker-registry", "busybox-static", "iproute2", "util-linux"]

SITES = ("esoc", "esec", "esrin")
REGISTRY = f"{NAME}-registry"  # PID/log name
REGISTRY_PORT = 5000
IMAGES = {"busybox": "s2p/busybox:latest"}
# Seconds for a restarted swarm to elect a leader and see every manager ready again (a node
# is reported down until its first heartbeats: slow on a loaded 2-core machine).
CONVERGE_TIMEOUT = 120


# --- names, addresses, paths ------------------------------------------------------------
def _tag(lab: Lab) -> str:
    return hashlib.sha256(str(lab.state).encode()).hexdigest()[:4]


def _octet(lab: Lab) -> int:
    """Third octet of the bridge subnet 172.16.X.0/24: fixed per state folder, outside the
    loopback dockerd's 172.16.253-254 and Docker's default pools; S2P_SWARM_SUBNET_OCTET overrides."""
    if os.environ.get("S2P_SWARM_SUBNET_OCTET"):
        return int(os.environ["S2P_SWARM_SUBNET_OCTET"])
    return 200 + int(_tag(lab), 16) % 50


def _net(lab: Lab) -> dict:
    tag, octet = _tag(lab), _octet(lab)
    sites = {}
    for index, site in enumerate(SITES):
        sites[site] = {
            "netns": f"s2p{tag}-{site}",
            "veth": f"s2p{tag}{site}",  # host side; <= 15 characters
            "address": f"172.16.{octet}.{11 + index}",
        }
    return {"bridge": f"s2pw{tag}", "host": f"172.16.{octet}.1", "prefix": 24, "sites": sites}


def registry_address(lab: Lab) -> str:
    return f"{_net(lab)['host']}:{REGISTRY_PORT}"


def _paths(lab: Lab, site: str) -> dict[str, Path]:
    folder = lab.dir(f"{NAME}/{site}")
    exec_root = Path("/run") / f"s2p-{_tag(lab)}-{hashlib.sha256(str(lab.state).encode()).hexdigest()[4:10]}-{site}"
    sock = folder / "docker.sock"
    if len(str(sock)) > dockerd.SOCKET_MAX:
        sock = exec_root / "docker.sock"
    return {
        "folder": folder, "sock": sock, "pidfile": folder / "docker.pid", "data": folder / "data",
        "daemon_json": folder / "daemon.json", "exec_root": exec_root,
        "containerd_conf": folder / "containerd.toml", "containerd_root": folder / "containerd",
        "containerd_state": exec_root / "containerd",
        "containerd_sock": exec_root / "containerd" / "containerd.sock",
    }


def _pidname(site: str) -> str:
    return f"{NAME}-{site}"


def _ctrname(site: str) -> str:
    return f"{NAME}-{site}-containerd"


def docker_host(lab: Lab, site: str = SITES[0]) -> str:
    return f"unix://{_paths(lab, site)['sock']}"


# --- Engine API ------------------------------------------------------------------------
def _engine(lab: Lab, site: str, method: str, path: str, body=None, timeout: float = 10):
    """(status, JSON or text) of an Engine API call on a site daemon; OSError when unreachable."""
    return engine_call(_paths(lab, site)["sock"], method, path, body, timeout, where=f" on {site}")


def _ping(lab: Lab, site: str) -> bool:
    return engine_ping(_paths(lab, site)["sock"])


# --- network namespaces, veths, bridge ----------------------------------------------------
def _netns_ok(lab: Lab, site: str) -> bool:
    spec = _net(lab)["sites"][site]
    if not Path(f"/var/run/netns/{spec['netns']}").exists():
        return False
    shown = subprocess.run(["ip", "-n", spec["netns"], "-o", "-4", "addr", "show", "dev", "eth0"],
                           capture_output=True, text=True, check=False).stdout
    return f" {spec['address']}/" in shown and Path(f"/sys/class/net/{spec['veth']}").exists()


def _ensure_bridge(lab: Lab) -> None:
    net = _net(lab)
    bridge, cidr = net["bridge"], f"{net['host']}/{net['prefix']}"
    if not Path(f"/sys/class/net/{bridge}").exists():
        run(["ip", "link", "add", bridge, "type", "bridge"])
    shown = subprocess.run(["ip", "-o", "-4", "addr", "show", "dev", bridge],
                           capture_output=True, text=True, check=False).stdout
    if f" {cidr} " not in shown:
        run(["ip", "addr", "add", cidr, "dev", bridge])
    run(["ip", "link", "set", bridge, "up"])


def _ensure_netns(lab: Lab, site: str) -> None:
    """(Re)create the site's namespace and veth pair; a half-built one is removed first."""
    net = _net(lab)
    spec = net["sites"][site]
    if _netns_ok(lab, site):
        return
    _delete_netns(lab, site)
    peer = f"{spec['veth'][:12]}p"
    run(["ip", "netns", "add", spec["netns"]])
    run(["ip", "link", "add", spec["veth"], "type", "veth", "peer", "name", peer])
    run(["ip", "link", "set", peer, "netns", spec["netns"]])
    run(["ip", "-n", spec["netns"], "link", "set", peer, "name", "eth0"])
    run(["ip", "-n", spec["netns"], "addr", "add", f"{spec['address']}/{net['prefix']}", "dev", "eth0"])
    run(["ip", "-n", spec["netns"], "link", "set", "eth0", "up"])
    run(["ip", "-n", spec["netns"], "link", "set", "lo", "up"])
    run(["ip", "link", "set", spec["veth"], "master", net["bridge"]])
    run(["ip", "link", "set", spec["veth"], "up"])


def _delete_netns(lab: Lab, site: str) -> None:
    spec = _net(lab)["sites"][site]
    if Path(f"/sys/class/net/{spec['veth']}").exists():
        subprocess.run(["ip", "link", "delete", spec["veth"]], capture_output=True, check=False)
    if Path(f"/var/run/netns/{spec['netns']}").exists():
        subprocess.run(["ip", "netns", "delete", spec["netns"]], capture_output=True, check=False)


# --- processes ------------------------------------------------------------------------------
def _check_pids(lab: Lab) -> None:
    for site in SITES:
        paths = _paths(lab, site)
        lab.check_pid(_pidname(site), "dockerd", str(paths["data"]))
        lab.check_pid(_ctrname(site), "containerd", str(paths["containerd_conf"]))
    lab.check_pid(REGISTRY, "docker-registry", str(lab.dir(NAME) / "registry.yml"))


def _dockerd_argv(lab: Lab, site: str) -> list[str]:
    paths = _paths(lab, site)
    return [
        "nsenter", f"--net=/var/run/netns/{_net(lab)['sites'][site]['netns']}",
        "dockerd", "-H", f"unix://{paths['sock']}", "--config-file", str(paths["daemon_json"]),
        "--data-root", str(paths["data"]), "--exec-root", str(paths["exec_root"]),
        "--pidfile", str(paths["pidfile"]), "--containerd", str(paths["containerd_sock"]),
        "--iptables=false", "--ip-masq=false", "--bridge=none",
        f"--storage-driver={dockerd.storage_driver(lab)}", f"--insecure-registry={registry_address(lab)}",
        "--label", f"site={site}",
    ]


def _write_configs(lab: Lab, site: str) -> bool:
    """containerd.toml, daemon.json and dockerd.args of one site; True when all were current."""
    paths = _paths(lab, site)
    template = string.Template((dockerd.TEMPLATES / "containerd.toml").read_text())
    wanted = {
        paths["containerd_conf"]: template.substitute(
            root=paths["containerd_root"], state=paths["containerd_state"], socket=paths["containerd_sock"]),
        paths["daemon_json"]: "{}\n",
        paths["folder"] / "dockerd.args": json.dumps({"argv": _dockerd_argv(lab, site)}) + "\n",
    }
    current = True
    for path, text in wanted.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            current = False
    paths["exec_root"].mkdir(mode=0o700, parents=True, exist_ok=True)
    return current


def _containerd_ok(lab: Lab, site: str) -> bool:
    return lab.pid(_ctrname(site)) is not None and _paths(lab, site)["containerd_sock"].is_socket()


def _start_site(lab: Lab, site: str) -> bool:
    """Start the site's containerd (if needed) and dockerd inside its namespace, without waiting
    for dockerd: a manager restarted without quorum answers only after its swarm start-up
    timeout (~20 s), so the three start together and are awaited together. True if spawned."""
    paths = _paths(lab, site)
    if not _containerd_ok(lab, site):
        lab.stop(_pidname(site), timeout=60)  # dockerd holds a client of the dead containerd
        lab.stop(_ctrname(site))
        for stale in (paths["containerd_sock"], Path(f"{paths['containerd_sock']}.ttrpc")):
            stale.unlink(missing_ok=True)
        paths["containerd_state"].mkdir(mode=0o711, parents=True, exist_ok=True)
        lab.spawn(_ctrname(site), ["containerd", "--config", str(paths["containerd_conf"])])
        lab.wait_started(_ctrname(site), paths["containerd_sock"].is_socket,
                         f"containerd of {site}", timeout=30)
    if lab.pid(_pidname(site)) and not _ping(lab, site):
        lab.stop(_pidname(site), timeout=60)  # hung
    if lab.pid(_pidname(site)):
        return False
    if _ping(lab, site):
        raise LabError(f"a dockerd that is not the lab's serves {paths['sock']}; stop it and run up again")
    paths["pidfile"].unlink(missing_ok=True)
    paths["sock"].unlink(missing_ok=True)
    paths["data"].mkdir(mode=0o710, exist_ok=True)
    lab.spawn(_pidname(site), _dockerd_argv(lab, site))
    return True


def _stop_site(lab: Lab, site: str, final: bool = False) -> bool:
    """Stop the site's dockerd then its containerd, by PID; final: also end what a killed
    daemon left (tasks, mounts, the exec root)."""
    paths = _paths(lab, site)
    stopped = lab.stop(_pidname(site), timeout=60)
    if final and _containerd_ok(lab, site):
        ctr = ["ctr", "--address", str(paths["containerd_sock"]), "--namespace", "moby"]
        tasks = subprocess.run([*ctr, "tasks", "ls", "-q"],
                               capture_output=True, text=True, timeout=30, check=False).stdout.split()
        for task in tasks:
            subprocess.run([*ctr, "tasks", "kill", "--signal", "SIGKILL", task],
                           capture_output=True, timeout=30, check=False)
        for task in tasks:
            subprocess.run([*ctr, "tasks", "delete", "--force", task], capture_output=True, timeout=30, check=False)
    stopped = lab.stop(_ctrname(site), timeout=20) or stopped
    if final:
        roots = (str(paths["data"]), str(paths["exec_root"]))
        with open("/proc/self/mountinfo") as handle:
            points = [line.split()[4] for line in handle]
        for point in sorted({m for m in points if any(m == r or m.startswith(r + "/") for r in roots)},
                            key=len, reverse=True):
            subprocess.run(["umount", point], capture_output=True, check=False)
        shutil.rmtree(paths["exec_root"], ignore_errors=True)
    return stopped


# --- registry -------------------------------------------------------------------------------
def _registry_ok(lab: Lab) -> bool:
    try:
        with urllib.request.urlopen(f"http://{registry_address(lab)}/v2/", timeout=3) as answer:
            return answer.status == 200
    except (OSError, urllib.error.URLError):
        return False


def _registry_digest(lab: Lab, ref: str) -> str | None:
    """Digest of repo:tag in our registry, or None."""
    repo, tag = ref.rsplit(":", 1)
    request = urllib.request.Request(
        f"http://{registry_address(lab)}/v2/{repo}/manifests/{tag}", method="HEAD",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.headers.get("Docker-Content-Digest")
    except (OSError, urllib.error.URLError):
        return None


def _start_registry(lab: Lab) -> None:
    folder = lab.dir(NAME)
    config = folder / "registry.yml"
    text = (
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {lab.dir(f'{NAME}/registry')}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: {registry_address(lab)}\n"
    )
    if not config.exists() or config.read_text() != text:
        config.write_text(text)
        lab.stop(REGISTRY)
    if lab.pid(REGISTRY) and _registry_ok(lab):
        return
    lab.stop(REGISTRY)
    lab.spawn(REGISTRY, ["docker-registry", "serve", str(config)])
    lab.wait_started(REGISTRY, lambda: _registry_ok(lab), f"docker-registry on {registry_address(lab)}", timeout=30)


def _push_images(lab: Lab) -> dict[str, str]:
    """Build the busybox image on esoc, push it to the registry once; {key: ref@digest}."""
    pinned = {}
    for key, ref in IMAGES.items():
        remote = f"{registry_address(lab)}/{ref}"
        digest = _registry_digest(lab, ref)
        if digest is None:
            cli = [dockerd._docker_cli(), "-H", docker_host(lab)]
            proc = subprocess.run([*cli, "import", "-c", 'CMD ["/bin/sh"]', "-", remote],
                                  input=dockerd._busybox_rootfs(), capture_output=True, check=False)
            if proc.returncode != 0:
                raise LabError(f"docker import {remote} on esoc failed: {proc.stderr.decode(errors='replace')}")
            run([*cli, "push", remote])
            digest = _registry_digest(lab, ref)
            if digest is None:
                raise LabError(f"pushed {remote} but the registry does not list it")
        pinned[key] = f"{remote.rsplit(':', 1)[0]}@{digest}"
    return pinned


# --- swarm ----------------------------------------------------------------------------------
def _swarm_problem(lab: Lab) -> str:
    """'' when the three sites form one swarm of three reachable, ready, labelled managers."""
    clusters = {}
    for site in SITES:
        try:
            status, info = _engine(lab, site, "GET", "/info", timeout=15)
        except OSError as err:
            return f"{site}: {err}"
        swarm = info.get("Swarm") or {} if status == 200 else {}
        if swarm.get("LocalNodeState") != "active" or not swarm.get("ControlAvailable"):
            return f"{site}: swarm state {swarm.get('LocalNodeState')!r}, manager={swarm.get('ControlAvailable')}"
        clusters[site] = (swarm.get("Cluster") or {}).get("ID")
    if len(set(clusters.values())) != 1:
        return f"sites are in different swarms: {clusters}"
    try:
        status, nodes = _engine(lab, SITES[0], "GET", "/nodes", timeout=10)
    except OSError as err:
        return str(err)
    if status != 200:
        return f"listing nodes failed ({status}): {nodes}"
    seen = {}
    for node in nodes:
        manager = node.get("ManagerStatus") or {}
        label = (node.get("Spec", {}).get("Labels") or {}).get("site")
        if manager.get("Reachability") != "reachable" or node.get("Status", {}).get("State") != "ready":
            return f"node {node['Description'].get('Hostname')} {node['ID'][:12]} (site={label}) is " \
                   f"{manager.get('Reachability', 'not a manager')}/{node.get('Status', {}).get('State')}"
        seen[label] = node["ID"]
    if sorted(seen) != sorted(SITES) or len(nodes) != len(SITES):
        return (f"expected one manager per site {list(SITES)}, "
                f"found labels {sorted(map(str, seen))} on {len(nodes)} node(s)")
    return ""


def _local_state(lab: Lab, site: str) -> dict:
    """The site's own view of its swarm membership; {} while its daemon does not answer."""
    try:
        status, info = _engine(lab, site, "GET", "/info", timeout=30)
    except OSError:
        return {}
    return (info.get("Swarm") or {}) if status == 200 else {}


def _rebuild_swarm(lab: Lab) -> None:
    """Every site leaves (--force); esoc initialises, the others join as managers; labels."""
    net = _net(lab)
    for site in SITES:
        if _local_state(lab, site).get("LocalNodeState") not in (None, "inactive"):
            status, answer = _engine(lab, site, "POST", "/swarm/leave?force=true", timeout=60)
            if status not in (200, 503):
                raise LabError(f"swarm leave on {site} failed ({status}): {answer}")
    first = SITES[0]
    address = net["sites"][first]["address"]
    status, answer = _engine(lab, first, "POST", "/swarm/init",
                             {"ListenAddr": "0.0.0.0:2377", "AdvertiseAddr": address, "DataPathAddr": address},
                             timeout=60)
    if status != 200:
        raise LabError(f"swarm init on {first} failed ({status}): {answer}")
    _status, swarm = _engine(lab, first, "GET", "/swarm")
    token = swarm["JoinTokens"]["Manager"]  # never printed
    for site in SITES[1:]:
        own = net["sites"][site]["address"]
        status, answer = _engine(lab, site, "POST", "/swarm/join", {
            "ListenAddr": "0.0.0.0:2377", "AdvertiseAddr": own, "DataPathAddr": own,
            "RemoteAddrs": [f"{address}:2377"], "JoinToken": token}, timeout=90)
        if status != 200:
            raise LabError(f"swarm join of {site} failed ({status}): {str(answer).replace(token, '<token>')}")
    _label_nodes(lab)


def _label_nodes(lab: Lab) -> None:
    """Label every node site=<its site>, read from the engine label each daemon starts with."""
    _status, nodes = _engine(lab, SITES[0], "GET", "/nodes")
    for node in nodes:
        engine_labels = node.get("Description", {}).get("Engine", {}).get("Labels") or {}
        site = engine_labels.get("site")
        spec = node["Spec"]
        if site and (spec.get("Labels") or {}).get("site") != site:
            spec["Labels"] = {**(spec.get("Labels") or {}), "site": site}
            status, answer = _engine(lab, SITES[0], "POST",
                                     f"/nodes/{node['ID']}/update?version={node['Version']['Index']}", spec)
            if status != 200:
                raise LabError(f"labelling node of {site} failed ({status}): {answer}")


def _ensure_swarm(lab: Lab) -> None:
    """Wait for a restarted swarm to converge; rebuild it when waiting cannot help."""
    deadline = time.monotonic() + CONVERGE_TIMEOUT
    problem = _swarm_problem(lab)
    while problem and time.monotonic() < deadline:
        states = {s: _local_state(lab, s).get("LocalNodeState") for s in SITES}
        if any(state in ("inactive", "error", "locked") for state in states.values()):
            break  # a node outside any swarm, or broken: waiting will not fix it
        if "labels" in problem or "labelled" in problem:
            _label_nodes(lab)
        time.sleep(1)
        problem = _swarm_problem(lab)
    if problem:
        print(f"lab: {NAME}: {problem}; rebuilding the three-site swarm", flush=True)
        _rebuild_swarm(lab)
        wait_for(lambda: not _swarm_problem(lab), "the three-site swarm to converge", timeout=CONVERGE_TIMEOUT)


# --- service entry points ----------------------------------------------------------------------
def _set_endpoint(lab: Lab, pinned: dict[str, str]) -> None:
    net = _net(lab)
    lab.set_endpoint(NAME, {
        "docker_host": docker_host(lab),
        "managers": {site: docker_host(lab, site) for site in SITES},
        "addresses": {site: net["sites"][site]["address"] for site in SITES},
        "netns": {site: net["sites"][site]["netns"] for site in SITES},
        "registry": registry_address(lab),
        "images": {key: f"{registry_address(lab)}/{ref}" for key, ref in IMAGES.items()},
        "image_digests": pinned,
    })


def status(lab: Lab) -> Health:
    endpoint = docker_host(lab)
    _check_pids(lab)
    down = [s for s in SITES if not lab.pid(_pidname(s)) or not _ping(lab, s)]
    if down:
        return Health(NAME, False, endpoint, f"site daemon(s) not running: {', '.join(down)}")
    if not lab.pid(REGISTRY) or not _registry_ok(lab):
        return Health(NAME, False, endpoint, f"registry {registry_address(lab)} does not answer /v2/")
    problem = _swarm_problem(lab)
    if problem:
        return Health(NAME, False, endpoint, problem)
    missing = [ref for ref in IMAGES.values() if _registry_digest(lab, ref) is None]
    if missing:
        return Health(NAME, False, endpoint, f"image(s) missing in the registry: {', '.join(missing)}")
    return Health(NAME, True, endpoint, f"3 managers reachable ({', '.join(SITES)}), registry {registry_address(lab)}")


def up(lab: Lab) -> str:
    _check_pids(lab)
    written = [_write_configs(lab, site) for site in SITES]  # every site, even after a False
    current = all(written)
    if current and all(_netns_ok(lab, s) for s in SITES) and status(lab).healthy:
        _set_endpoint(lab, {k: f"{registry_address(lab)}/{r.rsplit(':', 1)[0]}@{_registry_digest(lab, r)}"
                            for k, r in IMAGES.items()})
        return "already running"
    _ensure_bridge(lab)
    for site in SITES:
        if not current:
            lab.stop(_pidname(site), timeout=60)  # a changed command line takes a restart
        if not _netns_ok(lab, site):
            lab.stop(_pidname(site), timeout=60)  # its namespace went away under it
            _ensure_netns(lab, site)
    _start_registry(lab)
    started = [site for site in SITES if _start_site(lab, site)]
    for site in started:
        lab.wait_started(_pidname(site), lambda s=site: _ping(lab, s), f"dockerd of {site}", timeout=90)
    _ensure_swarm(lab)
    pinned = _push_images(lab)
    _set_endpoint(lab, pinned)
    health = status(lab)
    if not health.healthy:
        raise LabError(f"{NAME} started but is not healthy: {health.detail}")
    return "started"


def down(lab: Lab) -> str:
    _check_pids(lab)
    stopped = False
    for site in SITES:
        stopped = _stop_site(lab, site, final=True) or stopped
        _delete_netns(lab, site)
    stopped = lab.stop(REGISTRY) or stopped
    bridge = _net(lab)["bridge"]
    if Path(f"/sys/class/net/{bridge}").exists():
        subprocess.run(["ip", "link", "delete", bridge], capture_output=True, check=False)
    return "stopped" if stopped else "not running"
