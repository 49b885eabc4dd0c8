"""Lab services of a test's own: for tests that stop, kill or break a server.

The shared lab is never stopped, restarted or broken by a test: other tests run beside it
(pytest-xdist). A test that needs a server to go away starts its OWN instance of the lab
service (lab/services/<name>.py, the same code `make lab-up` runs) in a state folder of its
own on free loopback ports (S2P_LAB_DIR, S2P_LAB_PORTS; the three-site swarm on a bridge
subnet of its own, S2P_SWARM_SUBNET_OCTET), and stops it by PID at the end.

The scratch folder holds a copy of the shared lab's CA (so the scratch server's certificate
chains to the CA the inventory trusts) and an endpoints.json that is the shared lab's with
the scratch services replacing their shared counterparts: `run_playbook(...,
envvars=scratch.env)` runs the lab inventory against the shared lab except for those.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAB_PY = ROOT / "lab" / "lab.py"
LAB_DIR = Path(os.environ.get("S2P_LAB_DIR", ROOT / ".lab"))
# Ports by service and name, as lab/common.py's PORTS (only the names matter here).
PORT_NAMES = {
    "vcsim": ["https"],
    "slapd": ["ldap", "ldaps"],
    "openbao": ["api", "cluster"],
    "bind": ["dns"],
    "pebble": ["acme", "management", "http01", "tlsalpn01"],
    "dockerd": [],
    "swarm_sites": [],
}
# Third octets of 172.16.X.0/24 that scratch swarms may take (the shared lab's is derived
# from its folder in 200-249 and skipped; the loopback dockerd has 253-254).
OCTETS = range(249, 199, -1)
RESERVATIONS = Path(tempfile.gettempdir()) / "s2p-scratch-octets"


def _free_ports(count: int) -> list[int]:
    socks = []
    try:
        for _index in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _pid_alive(pid: int) -> bool:
    """lab/common.py's liveness check (a zombie counts as gone), as the lab itself uses it."""
    sys.path.insert(0, str(ROOT / "lab"))
    try:
        from common import _alive  # lab/common.py of this checkout
    finally:
        sys.path.pop(0)
    return _alive(pid)


def _octets_in_use() -> set[int]:
    shown = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=False).stdout
    used = set()
    for word in shown.split():
        if word.startswith("172.16."):
            used.add(int(word.split(".")[2]))
    return used


def reserve_octet(shared_endpoints: dict) -> int:
    """A bridge subnet octet no other swarm (shared lab, another worker's scratch) uses.
    Reserved by a file naming this process; a reservation of a dead process is stale."""
    RESERVATIONS.mkdir(exist_ok=True)
    shared = shared_endpoints.get("swarm_sites", {}).get("registry", "172.16.0.1:0").split(".")[2]
    with open(RESERVATIONS / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        used = _octets_in_use() | {int(shared)}
        for octet in OCTETS:
            path = RESERVATIONS / str(octet)
            if path.exists():
                try:
                    if _pid_alive(int(path.read_text())):
                        continue
                except ValueError:
                    pass
            if octet in used:
                continue
            path.write_text(str(os.getpid()))
            return octet
    raise RuntimeError(f"no free 172.16.X.0/24 octet for a scratch swarm (reservations in {RESERVATIONS})")


def release_octet(octet: int) -> None:
    path = RESERVATIONS / str(octet)
    if path.exists() and path.read_text() == str(os.getpid()):
        path.unlink()


class ScratchLab:
    """`with ScratchLab(shared_endpoints, ["slapd"]) as scratch:` -> scratch.endpoints (the
    merged endpoints), scratch.env (for run_playbook and lab.py), scratch.lab_py("down")."""

    def __init__(self, shared_endpoints: dict, services: list[str], prefix: str = "s2p-scratch-"):
        unknown = sorted(set(services) - set(PORT_NAMES))
        if unknown:
            raise ValueError(f"unknown lab service(s): {', '.join(unknown)}")
        self.services = list(services)
        self.shared = shared_endpoints
        # Short: unix socket paths of dockerd live below it (< 108 bytes).
        self.folder = Path(tempfile.mkdtemp(prefix=prefix))
        ports = {}
        for service in self.services:
            names = PORT_NAMES[service]
            ports[service] = dict(zip(names, _free_ports(len(names)), strict=True)) if names else {}
        self.ports = {service: p for service, p in ports.items() if p}
        self.octet = reserve_octet(shared_endpoints) if "swarm_sites" in self.services else None
        self.env = {"S2P_LAB_DIR": str(self.folder)}
        self.lab_env = {**os.environ, **self.env, "S2P_LAB_PORTS": json.dumps(self.ports)}
        if self.octet is not None:
            self.lab_env["S2P_SWARM_SUBNET_OCTET"] = str(self.octet)
        self._seed()

    def _seed(self) -> None:
        shared_ca = Path(self.shared["ca_file"])
        ca = self.folder / "ca"
        ca.mkdir(mode=0o700)
        for name in ("ca.crt", "ca.key"):
            shutil.copy2(shared_ca.parent / name, ca / name)
        merged = copy.deepcopy(self.shared)
        for service in self.services:
            merged.pop(service, None)
        merged["ca_file"] = str(ca / "ca.crt")
        (self.folder / "endpoints.json").write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")

    @property
    def endpoints(self) -> dict:
        return json.loads((self.folder / "endpoints.json").read_text())

    def lab_py(self, *args: str, timeout: float = 400) -> subprocess.CompletedProcess:
        """lab.py ACTION on the scratch services (all of them unless named after the action)."""
        action, names = args[0], list(args[1:]) or self.services
        return subprocess.run([sys.executable, str(LAB_PY), action, *names], env=self.lab_env,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def up(self) -> ScratchLab:
        result = self.lab_py("up")
        if result.returncode != 0:
            self.down()
            raise AssertionError(f"scratch {', '.join(self.services)} did not start:\n{result.stdout}{result.stderr}")
        return self

    def down(self) -> None:
        self.lab_py("down")
        if self.octet is not None:
            release_octet(self.octet)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> ScratchLab:
        return self.up()

    def __exit__(self, *exc) -> None:
        self.down()
