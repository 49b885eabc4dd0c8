"""The S2P lab: real backends on loopback.  Usage: lab.py {install,up,status,down,clean} [service...]

Without names, up starts the default services; install, status, down and clean also take the
optional ones (awx: its Debian packages come with `install`, so CI's stages never run apt at once).

`up` is idempotent: a healthy service is left alone, a stale one (dead PID, leftover
socket) is cleaned and started again.  `down` stops only the lab's own PIDs.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import STATE, Lab, LabError

# Start order matters: BIND before Pebble (its DNS-01 resolver), the CA before all.
SERVICES = ["vcsim", "slapd", "openbao", "bind", "pebble", "dockerd", "swarm_sites"]
# Known but started only when named (`lab.py up awx`: minutes on a fresh machine; it starts
# git_server, the git server of its project, too). `status` and
# `down` without names include them: status shows one never started as "not started" (healthy),
# one started and since dead as DOWN; down stops it.
OPTIONAL = ["awx", "git_server"]
# What the lab itself needs before any service: the lab CA is made with openssl.
BASE_APT = ["openssl", "ca-certificates"]


def load(name: str):
    return importlib.import_module(f"services.{name}")


def apt_install(names: list[str]) -> None:
    """Install the Debian packages that are not installed yet (one apt run, quiet)."""
    missing = [n for n in names if subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", n],
        capture_output=True, text=True, check=False).stdout != "install ok installed"]
    if not missing:
        return
    print(f"lab: installing Debian packages: {' '.join(missing)}", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt_lists = Path("/var/lib/apt/lists")
    if not any(apt_lists.glob("*Packages*")):
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
    result = subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
                            env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], check=True, env=env)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"install", "up", "status", "down", "clean"}:
        print(__doc__)
        return 2
    action = argv[0]
    every = SERVICES + OPTIONAL
    names = argv[1:] or (SERVICES if action == "up" else every)
    unknown = sorted(set(names) - set(every))
    if unknown:
        print(f"lab: unknown service(s) {', '.join(unknown)}; known: {', '.join(every)}")
        return 2
    modules = [load(n) for n in names]
    lab = Lab()
    try:
        if action in {"install", "up"}:
            apt_install(sorted({*BASE_APT, *(pkg for m in modules for pkg in m.APT)}))
        if action == "install":
            return 0
        if action == "up":
            lab.set_endpoint("ca_file", str(lab.ensure_ca()))
            for module in modules:
                started = time.monotonic()
                outcome = module.up(lab)
                print(f"lab: {module.NAME:<8} {outcome} ({time.monotonic() - started:.1f}s)", flush=True)
            return _print_status(lab, modules)
        if action == "status":
            return _print_status(lab, modules)
        for module in reversed(modules):
            print(f"lab: {module.NAME:<8} {module.down(lab)}", flush=True)
        if action == "clean" and names == every:
            shutil.rmtree(STATE, ignore_errors=True)
            print(f"lab: removed {STATE}")
        return 0
    except LabError as err:
        print(f"lab: ERROR: {err}", file=sys.stderr)
        return 1


def _print_status(lab: Lab, modules) -> int:
    healths = [m.status(lab) for m in modules]
    width = max(len(h.endpoint) for h in healths)
    for health in healths:
        state = "healthy" if health.healthy else "DOWN"
        print(f"{health.name:<8} {state:<8} {health.endpoint:<{width}}  {health.detail}")
    return 0 if all(h.healthy for h in healths) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
