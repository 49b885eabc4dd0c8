"""The lab's own Docker engine: a single-node Swarm manager and locally built images.

dockerd runs on its own unix socket with its own data root and its own containerd (started
here, so dockerd never falls back to a host containerd at /run/containerd); sockets live in a
short exec root under /run (unix socket paths must stay < 108 bytes wherever the checkout
is).  It never uses /var/run/docker.sock or any other daemon.  With --iptables=false there
is no NAT: a container that must reach package mirrors needs `--network host`.

Images (no registry is reachable, so they are built here once):
  s2p/debian:bookworm           mmdebstrap minbase + python3 + ca-certificates
  s2p/debian-molecule:bookworm  mmdebstrap minbase + what the molecule scenarios' roles install
                                (systemd, docker.io, chrony, openssh-server, sssd, ...)
  s2p/busybox:latest            busybox-static with its applet links (tiny service images, httpd)
Built on demand only (`ensure_image`, not by `up`):
  s2p/ee-base:bookworm          mmdebstrap minbase + python3, pip, venv, git: the lab's base image
                                of the AWX execution environment (lab/ee_build.py, `make ee`)
The Debian images carry a label with a hash of their mmdebstrap command line: an image built
from another package list is built again by the next `up`.

A swarm that lost its peers, sits in `error`/`locked`, or has no control plane is left
(--force) and initialised again.  Only the standard library is used.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import io
import json
import os
import shutil
import socket
import string
import subprocess
import tarfile
import time
import urllib.parse
from pathlib import Path

from common import HOST, Health, Lab, LabError, engine_call, engine_ping, run, wait_for

NAME = "dockerd"
APT = ["docker.io", "containerd", "mmdebstrap", "busybox-static"]

CONTAINERD = "dockerd-containerd"  # PID/log name of the containerd we start for dockerd
IMAGES = {"debian": "s2p/debian:bookworm", "molecule": "s2p/debian-molecule:bookworm",
          "busybox": "s2p/busybox:latest"}
# The Debian images: bookworm minbase with these packages (mmdebstrap installs no Recommends).
DEBIAN_PACKAGES = {
    "debian": ["python3", "ca-certificates"],
    # Everything the molecule scenarios install (molecule/*/, roles base, ca_trust and
    # docker_host), so their containers boot systemd at once and converge finds the packages
    # installed: no apt work, no package mirror. python3-apt for ansible.builtin.apt, iproute2
    # for Ansible's network facts and testinfra's socket checks.
    "molecule": ["python3", "python3-apt", "ca-certificates", "iproute2", "systemd", "systemd-sysv",
                 "chrony", "openssh-server", "sssd-ldap", "sssd-tools", "libnss-sss", "libpam-sss",
                 "docker.io"],
}
# Services the packages above enable: disabled in the image, so that a container booting it
# starts none of them before a role has configured it (base's sshd would take port 22 of the
# machine's network) and the roles' "enable and start" tasks do the work as on a new VM.
DISABLED_UNITS = {"molecule": ["ssh.service", "chrony.service", "sssd.service", "docker.service", "docker.socket",
                               "containerd.service"]}
# Built by ensure_image() when a tool asks for them, never by `up` (nothing in the lab runs them).
ON_DEMAND_IMAGES = {"ee-base": "s2p/ee-base:bookworm"}
DEBIAN_PACKAGES["ee-base"] = [
    # What ansible-builder's scripts run: `python3 -m pip` (Debian's pip: its ensurepip is
    # disabled for the system Python, so the definition sets skip_pip_install), assemble's
    # `python3 -m venv`; TLS to the package registries. git: the lab AWX runs its project updates
    # (a git clone, awx/playbooks/project_update.yml) in this image as its control-plane EE.
    "python3", "python3-pip", "python3-venv", "ca-certificates", "git"]
# Kept in the image's apt configuration: the EE's system packages come without Recommends.
APT_OPTIONS = {"ee-base": ['APT::Install-Recommends "false"']}
# The smoke run of a freshly built Debian image (default: python3 --version).
SMOKE = {"ee-base": ["sh", "-c", "git --version && python3 -c 'import pip, ssl, venv'"]}
RECIPE_LABEL = "s2p.recipe"
DEBIAN_CMD = "/bin/bash"
TEMPLATES = Path(__file__).resolve().parent.parent / "dockerd"
SWARM_LISTEN = f"{HOST}:2377"
# overlay2 where the kernel mounts overlayfs on the lab's disk (checked by storage_driver()),
# else vfs (LAB.md), which works everywhere but copies the whole image for every container
# (Debian: 4-30 s per container, against 0.2-0.5 s) and every layer of a build (an image
# build of the execution environment took 10-15 GB). S2P_DOCKER_STORAGE_DRIVER forces one.
# Changing it restarts dockerd and rebuilds the images (each driver has its own image store).
STORAGE_DRIVER = os.environ.get("S2P_DOCKER_STORAGE_DRIVER", "")
_DRIVER_FOUND: dict[str, str] = {}
DOCKERD_ENV = {"DOCKER_SERVICE_PREFER_OFFLINE_IMAGE": "1"}  # swarm tasks use local images, never pull
# Our own bridges, never docker0/docker_gwbridge: another dockerd on the host may own those
# (and a dockerd started with --bridge=none deletes docker0).  Outside Docker's default
# address pools (172.17-31/16, 192.168/16) and the model's site subnets (10.11-13/16).
BRIDGE, BRIDGE_CIDR = "s2plab0", "172.16.254.1/24"
GW_BRIDGE, GW_SUBNET, GW_GATEWAY = "s2plab-gw", "172.16.253.0/24", "172.16.253.1"
SOCKET_MAX = 100  # sun_path is 108 bytes; keep a margin


def storage_driver(lab: Lab) -> str:
    """overlay2 when an overlay mount works in the lab's folder (probed once per process), else vfs."""
    if STORAGE_DRIVER:
        return STORAGE_DRIVER
    key = str(lab.state)
    if key not in _DRIVER_FOUND:
        _DRIVER_FOUND[key] = "overlay2" if _overlay_mounts(lab.dir(NAME) / "overlay-probe") else "vfs"
    return _DRIVER_FOUND[key]


def _overlay_mounts(probe: Path) -> bool:
    dirs = {name: probe / name for name in ("lower", "upper", "work", "merged")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    options = f"lowerdir={dirs['lower']},upperdir={dirs['upper']},workdir={dirs['work']}"
    mounted = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(dirs["merged"])],
                             capture_output=True, check=False).returncode == 0
    if mounted:
        subprocess.run(["umount", str(dirs["merged"])], capture_output=True, check=False)
    shutil.rmtree(probe, ignore_errors=True)
    return mounted


# --- paths ---------------------------------------------------------------------------
def _paths(lab: Lab) -> dict[str, Path]:
    folder = lab.dir(NAME)
    # Short, stable per state folder: CI may check out under a long path.
    exec_root = Path("/run") / f"s2p-lab-{hashlib.sha256(str(lab.state).encode()).hexdigest()[:10]}"
    sock = folder / "docker.sock"
    if len(str(sock)) > SOCKET_MAX:
        sock = exec_root / "docker.sock"
    return {
        "folder": folder,
        "sock": sock,
        "pidfile": folder / "docker.pid",
        "data": folder / "data",
        "daemon_json": folder / "daemon.json",
        "exec_root": exec_root,
        "containerd_conf": folder / "containerd.toml",
        "containerd_root": folder / "containerd",
        "containerd_state": exec_root / "containerd",
        "containerd_sock": exec_root / "containerd" / "containerd.sock",
    }


def docker_host(lab: Lab) -> str:
    return f"unix://{_paths(lab)['sock']}"


def _docker_cli() -> str:
    """The Debian docker.io CLI (matches the engine); another `docker` may come first on PATH."""
    return "/usr/bin/docker" if Path("/usr/bin/docker").exists() else (shutil.which("docker") or "docker")


# --- Engine API over the unix socket ---------------------------------------------------
def _engine(lab: Lab, method: str, path: str, body: dict | None = None, timeout: float = 10):
    """(status, parsed JSON or text) of an Engine API call; raises OSError when unreachable."""
    return engine_call(_paths(lab)["sock"], method, path, body, timeout)


def _ping(lab: Lab) -> bool:
    return engine_ping(_paths(lab)["sock"])


def _containerd_ok(lab: Lab) -> bool:
    if not lab.pid(CONTAINERD):
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(_paths(lab)["containerd_sock"]))
        return True
    except OSError:
        return False


def _swarm_problem(lab: Lab) -> str:
    """'' when this node is an active manager of a swarm whose managers are all reachable."""
    return _swarm_check(lab)[0]


def _swarm_check(lab: Lab) -> tuple[str, bool]:
    """(problem or '', whether waiting cannot help: inactive, locked, error or peers gone)."""
    status, info = _engine(lab, "GET", "/info")
    swarm = info.get("Swarm", {}) if status == 200 and isinstance(info, dict) else {}
    state = swarm.get("LocalNodeState", "unknown")
    peers = [m["Addr"] for m in swarm.get("RemoteManagers") or [] if m.get("NodeID") != swarm.get("NodeID")]
    peers_gone = bool(peers) and not any(_tcp_open(addr) for addr in peers)
    if state != "active":
        detail = f" ({swarm.get('Error')})" if swarm.get("Error") else ""
        return f"swarm {state}{detail}", state in ("inactive", "locked", "error") or peers_gone
    if not swarm.get("ControlAvailable"):
        return "swarm active but this node is not a manager with control", peers_gone
    status, nodes = _engine(lab, "GET", "/nodes")
    if status != 200:
        return f"swarm has no working control plane ({status}: {nodes})", peers_gone
    unreachable = [n["Description"]["Hostname"] + "/" + n["ID"][:12] for n in nodes
                   if (n.get("ManagerStatus") or {}).get("Reachability", "reachable") != "reachable"]
    if unreachable:
        return f"swarm managers unreachable: {', '.join(unreachable)}", peers_gone
    return "", False


def _tcp_open(addr: str) -> bool:
    host, _colon, port = addr.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except (OSError, ValueError):
        return False


def _images_to_build(lab: Lab) -> dict[str, str]:
    """{key: "missing" or "outdated"} of IMAGES; outdated: built from another recipe."""
    todo = {}
    for key, ref in IMAGES.items():
        status, image = _engine(lab, "GET", f"/images/{urllib.parse.quote(ref, safe='/:')}/json")
        if status != 200:
            todo[key] = "missing"
        elif key in DEBIAN_PACKAGES and _labels(image).get(RECIPE_LABEL) != _recipe(key):
            todo[key] = "outdated"
    return todo


def _labels(image) -> dict:
    return ((image.get("Config") or {}).get("Labels") or {}) if isinstance(image, dict) else {}


# --- service contract ----------------------------------------------------------------
def status(lab: Lab) -> Health:
    endpoint = docker_host(lab)
    if not _ping(lab):
        running = "process running" if lab.pid(NAME) else "not running"
        return Health(NAME, False, endpoint, f"no answer to /_ping ({running})")
    if not _containerd_ok(lab):
        return Health(NAME, False, endpoint, f"the lab's containerd is not running ({_paths(lab)['containerd_sock']})")
    if not _bridge_ok():
        return Health(NAME, False, endpoint, f"bridge {BRIDGE} ({BRIDGE_CIDR}) is missing")
    try:
        problem = _swarm_problem(lab)
        todo = _images_to_build(lab)
    except OSError as err:
        return Health(NAME, False, endpoint, str(err))
    if problem:
        return Health(NAME, False, endpoint, problem)
    if todo:
        return Health(NAME, False, endpoint, "image(s) " + ", ".join(f"{IMAGES[k]} {why}" for k, why in todo.items()))
    _status, version = _engine(lab, "GET", "/version")
    return Health(NAME, True, endpoint, f"Engine {version.get('Version')}, swarm manager active, "
                                        f"images {', '.join(IMAGES.values())}")


def up(lab: Lab) -> str:
    _check_pids(lab)
    configs_current = _write_configs(lab)
    if configs_current and status(lab).healthy:
        _set_endpoint(lab)
        return "already running"
    if not configs_current:  # a changed configuration takes a restart of both
        _stop_engine(lab)
    if not _containerd_ok(lab):
        _stop_engine(lab)  # dockerd holds a client of the dead containerd: restart it too
        _start_containerd(lab)
    if not _bridge_ok():
        lab.stop(NAME, timeout=60)  # dockerd attaches the bridge at start only
        _ensure_bridge()
    if lab.pid(NAME) and not _ping(lab):
        lab.stop(NAME, timeout=60)  # hung
    if not lab.pid(NAME):
        _start_dockerd(lab)
    _ensure_swarm(lab)
    _ensure_images(lab)
    _set_endpoint(lab)
    health = status(lab)
    if not health.healthy:
        raise LabError(f"{NAME} started but is not healthy: {health.detail} (log: {lab.log(NAME)})")
    return "started"


def down(lab: Lab) -> str:
    _check_pids(lab)
    stopped = _stop_engine(lab, final=True)
    _delete_bridges()
    return "stopped" if stopped else "not running"


# --- processes -------------------------------------------------------------------------
def _check_pids(lab: Lab) -> None:
    paths = _paths(lab)
    lab.check_pid(NAME, "dockerd", str(paths["data"]))
    lab.check_pid(CONTAINERD, "containerd", str(paths["containerd_conf"]))


def _write_configs(lab: Lab) -> bool:
    """Render containerd.toml, daemon.json and dockerd.args; True when all were current."""
    paths = _paths(lab)
    template = string.Template((TEMPLATES / "containerd.toml").read_text())
    wanted = {
        paths["containerd_conf"]: template.substitute(
            root=paths["containerd_root"], state=paths["containerd_state"], socket=paths["containerd_sock"]),
        # Our own (empty) daemon.json, so a host /etc/docker/daemon.json is never merged in.
        paths["daemon_json"]: "{}\n",
        # The command line and environment we start dockerd with: a change takes a restart.
        paths["folder"] / "dockerd.args": json.dumps({"argv": _dockerd_argv(lab), "env": DOCKERD_ENV}) + "\n",
    }
    current = True
    for path, text in wanted.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            current = False
    paths["exec_root"].mkdir(mode=0o700, parents=True, exist_ok=True)
    record = paths["folder"] / "exec-root"  # where the sockets went, for humans and cleanup
    if not record.exists() or record.read_text().strip() != str(paths["exec_root"]):
        record.write_text(f"{paths['exec_root']}\n")
    return current


def _start_containerd(lab: Lab) -> None:
    paths = _paths(lab)
    lab.stop(CONTAINERD)
    for stale in (paths["containerd_sock"], Path(f"{paths['containerd_sock']}.ttrpc")):
        stale.unlink(missing_ok=True)  # left by a killed run; its PID is verified dead above
    paths["containerd_state"].mkdir(mode=0o711, parents=True, exist_ok=True)
    lab.spawn(CONTAINERD, ["containerd", "--config", str(paths["containerd_conf"])])
    wait_for(lambda: _containerd_ok(lab) or not lab.pid(CONTAINERD),
             f"containerd on {paths['containerd_sock']}", timeout=30, log=lab.log(CONTAINERD))
    if not lab.pid(CONTAINERD):
        raise LabError(f"containerd exited at start-up; see {lab.log(CONTAINERD)}")


def _dockerd_argv(lab: Lab) -> list[str]:
    paths = _paths(lab)
    return [
        "dockerd", "-H", f"unix://{paths['sock']}", "--config-file", str(paths["daemon_json"]),
        "--data-root", str(paths["data"]), "--exec-root", str(paths["exec_root"]),
        "--pidfile", str(paths["pidfile"]), "--containerd", str(paths["containerd_sock"]),
        "--iptables=false", f"--storage-driver={storage_driver(lab)}", f"--bridge={BRIDGE}",
    ]


def _start_dockerd(lab: Lab) -> None:
    paths = _paths(lab)
    if _ping(lab):
        raise LabError(f"a dockerd that is not the lab's (no live PID in {lab.pidfile(NAME)}) serves "
                       f"{paths['sock']}; stop it and run up again")
    # Our dockerd is dead (checked by PID): its pidfile and socket are stale.
    paths["pidfile"].unlink(missing_ok=True)
    paths["sock"].unlink(missing_ok=True)
    paths["data"].mkdir(mode=0o710, exist_ok=True)
    _ensure_bridge()
    lab.spawn(NAME, _dockerd_argv(lab), env=DOCKERD_ENV)
    wait_for(lambda: _ping(lab) or not lab.pid(NAME), f"dockerd on {paths['sock']}", timeout=90, log=lab.log(NAME))
    if not lab.pid(NAME):
        raise LabError(f"dockerd exited at start-up; see {lab.log(NAME)}")


def _stop_engine(lab: Lab, final: bool = False) -> bool:
    """Stop our dockerd (it stops its containers), then our containerd; by PID only.

    final (down): also end the containers a killed dockerd left running (through our
    containerd, started again if a killed run left only its shims), unmount what it left
    under our data and exec roots, and remove the exec root.
    """
    stopped = lab.stop(NAME, timeout=60)
    if final and not _containerd_ok(lab) and _our_shims(lab):
        _start_containerd(lab)
    if final and _containerd_ok(lab):
        _kill_tasks(lab)
    stopped = lab.stop(CONTAINERD, timeout=20) or stopped
    if final:
        _unmount_leftovers(lab)
        if not _our_shims(lab):
            shutil.rmtree(_paths(lab)["exec_root"], ignore_errors=True)  # runtime state under /run
    return stopped


def _our_shims(lab: Lab) -> list[int]:
    """PIDs of containerd shims serving our containerd (found by its unique socket path)."""
    address = str(_paths(lab)["containerd_sock"])
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and b"containerd-shim" in argv[0] and address.encode() in argv:
            found.append(int(entry.name))
    return found


def _kill_tasks(lab: Lab) -> None:
    ctr = ["ctr", "--address", str(_paths(lab)["containerd_sock"]), "--namespace", "moby"]
    tasks = subprocess.run([*ctr, "tasks", "ls", "-q"],
                           capture_output=True, text=True, timeout=30, check=False).stdout.split()
    for task in tasks:
        subprocess.run([*ctr, "tasks", "kill", "--signal", "SIGKILL", task],
                       capture_output=True, timeout=30, check=False)
    for task in tasks:
        subprocess.run([*ctr, "tasks", "delete", "--force", task], capture_output=True, timeout=30, check=False)


def _unmount_leftovers(lab: Lab) -> None:
    paths = _paths(lab)
    roots = (str(paths["data"]), str(paths["exec_root"]))
    with open("/proc/self/mountinfo") as handle:
        points = [line.split()[4] for line in handle]
    ours = [m for m in points if any(m == r or m.startswith(r + "/") for r in roots)]
    for point in sorted(set(ours), key=len, reverse=True):
        subprocess.run(["umount", point], capture_output=True, check=False)


# --- bridges -----------------------------------------------------------------------------
def _bridge_ok() -> bool:
    if not Path(f"/sys/class/net/{BRIDGE}").exists():
        return False
    shown = subprocess.run(["ip", "-o", "-4", "addr", "show", "dev", BRIDGE],
                           capture_output=True, text=True, check=False).stdout
    return f" {BRIDGE_CIDR} " in shown


def _ensure_bridge() -> None:
    """Create our default bridge with its address (dockerd uses, never creates, a named bridge)."""
    if not Path(f"/sys/class/net/{BRIDGE}").exists():
        run(["ip", "link", "add", BRIDGE, "type", "bridge"])
    if not _bridge_ok():
        run(["ip", "addr", "add", BRIDGE_CIDR, "dev", BRIDGE])
    run(["ip", "link", "set", BRIDGE, "up"])


def _ensure_gateway_network(lab: Lab) -> None:
    """Before `swarm init`: docker_gwbridge on our own Linux bridge (Docker's documented way)."""
    status, network = _engine(lab, "GET", "/networks/docker_gwbridge")
    if status == 200:
        if (network.get("Options") or {}).get("com.docker.network.bridge.name") == GW_BRIDGE:
            return
        if network.get("Containers"):
            return  # in use: leave it rather than break running containers
        _engine(lab, "DELETE", "/networks/docker_gwbridge")
    status, answer = _engine(lab, "POST", "/networks/create", {
        "Name": "docker_gwbridge", "Driver": "bridge", "CheckDuplicate": True,
        "IPAM": {"Config": [{"Subnet": GW_SUBNET, "Gateway": GW_GATEWAY}]},
        "Options": {"com.docker.network.bridge.name": GW_BRIDGE,
                    "com.docker.network.bridge.enable_icc": "false",
                    "com.docker.network.bridge.enable_ip_masquerade": "true"}})
    if status != 201:
        raise LabError(f"creating docker_gwbridge on {GW_BRIDGE} failed ({status}): {answer}")


def _delete_bridges() -> None:
    for name in (BRIDGE, GW_BRIDGE):
        if Path(f"/sys/class/net/{name}").exists():
            subprocess.run(["ip", "link", "delete", name], capture_output=True, check=False)


# --- swarm -------------------------------------------------------------------------------
def _ensure_swarm(lab: Lab) -> None:
    # Right after a restart the node may still be loading its raft state: give it time,
    # unless waiting cannot help (no swarm, locked, error, or every other manager gone).
    problem, hopeless = "not checked", False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not hopeless:
        try:
            problem, hopeless = _swarm_check(lab)
        except OSError as err:
            problem = str(err)
        if not problem:
            return
        if not hopeless:
            time.sleep(0.5)
    if not problem.startswith("swarm inactive"):
        print(f"lab: {NAME}: {problem}; leaving the swarm (--force) and initialising a new one")
        status, answer = _engine(lab, "POST", "/swarm/leave?force=true", timeout=60)
        if status not in (200, 503):  # 503: not part of a swarm any more
            raise LabError(f"swarm leave failed ({status}): {answer}")
    _ensure_gateway_network(lab)
    status, answer = _engine(lab, "POST", "/swarm/init",
                             {"ListenAddr": SWARM_LISTEN, "AdvertiseAddr": HOST}, timeout=60)
    if status != 200:
        raise LabError(f"swarm init failed ({status}): {answer}")
    wait_for(lambda: not _swarm_problem(lab), "the new swarm to become active", timeout=30, log=lab.log(NAME))


# --- images --------------------------------------------------------------------------------
def _ensure_images(lab: Lab) -> None:
    todo = _images_to_build(lab)
    if "busybox" in todo:
        started = time.monotonic()
        _import(lab, IMAGES["busybox"], _busybox_rootfs(), cmd="/bin/sh")
        _smoke(lab, IMAGES["busybox"], ["busybox", "httpd", "--help"], started)
    # The Debian images side by side: mostly downloads and unpacking, each in its own mmdebstrap.
    debian = [key for key in DEBIAN_PACKAGES if key in todo]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(debian))) as pool:
        for build in [pool.submit(_build_debian, lab, key) for key in debian]:
            build.result()


def _recipe(key: str) -> str:
    """Hash of what makes Debian image `key`: its mmdebstrap command line and CMD."""
    return hashlib.sha256(json.dumps([_mmdebstrap_argv(key), DEBIAN_CMD]).encode()).hexdigest()[:16]


def _mmdebstrap_argv(key: str) -> list[str]:
    argv = ["mmdebstrap", "--variant=minbase", f"--include={','.join(DEBIAN_PACKAGES[key])}"]
    argv += [f"--aptopt={option}" for option in APT_OPTIONS.get(key, [])]
    if DISABLED_UNITS.get(key):
        argv.append(f'--customize-hook=chroot "$1" systemctl disable --quiet {" ".join(DISABLED_UNITS[key])}')
    return [*argv, "bookworm", "-"]


def ensure_image(lab: Lab, key: str) -> str:
    """Build on-demand Debian image `key` when it is missing or was built from another recipe.

    Returns its reference. The lab's dockerd must be up (lab.py up dockerd)."""
    ref = ON_DEMAND_IMAGES[key]
    status, image = _engine(lab, "GET", f"/images/{urllib.parse.quote(ref, safe='/:')}/json")
    if status != 200 or _labels(image).get(RECIPE_LABEL) != _recipe(key):
        _build_debian(lab, key)
    return ref


def _build_debian(lab: Lab, key: str) -> None:
    """mmdebstrap | docker import, labelled with the recipe; the image it replaces is deleted."""
    ref, started = {**IMAGES, **ON_DEMAND_IMAGES}[key], time.monotonic()
    old = _image_id(lab, ref)
    log = lab.log(f"{NAME}-images-{key}")
    with open(log, "ab") as errors:
        debootstrap = subprocess.Popen(_mmdebstrap_argv(key), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=errors)
    try:
        _import(lab, ref, debootstrap.stdout, cmd=DEBIAN_CMD, label=f"{RECIPE_LABEL}={_recipe(key)}")
    finally:
        debootstrap.stdout.close()
        if debootstrap.wait() != 0:
            raise LabError(f"mmdebstrap for {ref} failed; see {log}")
    _smoke(lab, ref, SMOKE.get(key, ["python3", "--version"]), started)
    if old and old != _image_id(lab, ref):
        # The image it replaced, unless a container still uses it (409: it stays, untagged).
        _engine(lab, "DELETE", f"/images/{old}", timeout=120)


def _image_id(lab: Lab, ref: str) -> str:
    status, image = _engine(lab, "GET", f"/images/{urllib.parse.quote(ref, safe='/:')}/json")
    return image.get("Id", "") if status == 200 and isinstance(image, dict) else ""


def _import(lab: Lab, ref: str, tar_stream, cmd: str, label: str = "") -> None:
    """`docker import` a rootfs tar stream (bytes or a pipe) as image `ref`."""
    changes = ["-c", f'CMD ["{cmd}"]', *(["-c", f"LABEL {label}"] if label else [])]
    proc = subprocess.run(
        [_docker_cli(), "-H", docker_host(lab), "import", *changes, "-", ref],
        input=tar_stream if isinstance(tar_stream, bytes) else None,
        stdin=None if isinstance(tar_stream, bytes) else tar_stream,
        capture_output=True, check=False)
    if proc.returncode != 0:
        raise LabError(f"docker import {ref} failed: {proc.stderr.decode(errors='replace')}")


def _smoke(lab: Lab, ref: str, argv: list[str], started: float) -> None:
    proc = subprocess.run([_docker_cli(), "-H", docker_host(lab), "run", "--rm", "--network", "none", ref, *argv],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise LabError(f"image {ref} was built but `{' '.join(argv)}` fails in it: {proc.stdout}{proc.stderr}")
    output = (proc.stdout or proc.stderr).strip().splitlines()
    print(f"lab: {NAME}: built {ref} in {time.monotonic() - started:.1f}s ({output[0] if output else 'ok'})")


def _busybox_rootfs() -> bytes:
    """A tar of a minimal root filesystem: static busybox, its applet links, /etc basics."""
    listing = subprocess.run(["dpkg", "-L", "busybox-static"], capture_output=True, text=True, check=False).stdout
    binary = next((line for line in listing.splitlines() if line.endswith("bin/busybox")), "")
    if not binary or not Path(binary).exists():
        raise LabError("busybox-static is not installed (its static /bin/busybox is needed)")
    applets = subprocess.run([binary, "--list-full"], capture_output=True, text=True, check=True).stdout.split()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        def add_dir(name: str, mode: int = 0o755) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)

        def add_file(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))

        for folder in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root", "var", "var/www",
                       "proc", "sys", "dev", "run"):
            add_dir(folder)
        add_dir("tmp", 0o1777)
        add_file("bin/busybox", Path(binary).read_bytes(), 0o755)
        for applet in applets:
            if applet != "bin/busybox":
                info = tarfile.TarInfo(applet)
                info.type, info.linkname = tarfile.SYMTYPE, "/bin/busybox"
                tar.addfile(info)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        add_file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        add_file("var/www/index.html", b"s2p busybox\n")
    return buffer.getvalue()


def _set_endpoint(lab: Lab) -> None:
    lab.set_endpoint(NAME, {"docker_host": docker_host(lab), "images": dict(IMAGES)})
