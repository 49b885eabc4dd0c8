"""LAB-ONLY `podman` for the lab AWX: runs the container on the lab's dockerd instead.

ansible-runner, as AWX drives it, wraps every job in `podman run ... IMAGE cmd` (AWX hard-codes
podman).  lab/services/awx.py writes a `podman` script running this file into the folder the
receptor stand-in puts first on its units' PATH; it hands the command to the Docker CLI at
$S2P_AWX_DOCKER_HOST, translated:
- podman-only options are dropped (--quiet, --authfile=..., --userns=keep-id, --group-add=root);
- every container gets the host's network (--network=host, replacing any --network): the lab's
  servers listen on 127.0.0.1 and the lab's dockerd has no NAT;
- the unix sockets of the lab's swarm managers (swarm_sites in $S2P_AWX_LAB_ENDPOINTS, the lab's
  endpoints.json) are mounted into every container at their own path: a job reaches them as
  production jobs reach their managers over TCP (the lab's sites have no TCP endpoint);
- the job's container is killed when the job is (SIGTERM/SIGINT/SIGHUP: `docker kill NAME`).
The job's environment is the CLI's (ansible-runner passes every variable as `-e NAME`, the value
taken from the environment), but the Docker CLI must reach the lab dockerd: the variables that
would steer the CLI itself (CONNECTION: DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, set by
the job's Docker credential for the swarm it drives) are taken out of the CLI's environment and
handed to the container as `-e NAME=value` instead (none of them is secret).
Other subcommands (images, rmi, inspect) pass through unchanged.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

DROPPED = ("--quiet", "--userns=keep-id", "--group-add=root")
DROPPED_PREFIXES = ("--authfile=",)
VALUE_OPTIONS_DROPPED = ("--network", "--net", "--authfile", "--userns")
CONNECTION = ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH", "DOCKER_CONTEXT")


def cli_environment(args: list[str], environ: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """(docker arguments, the CLI's environment): the job's CONNECTION variables move from the
    environment into `run`'s arguments, before the image."""
    env = {name: value for name, value in environ.items() if name not in CONNECTION}
    if args[:1] != ["run"]:
        return args, env
    options, rest = _split_options(args[1:])
    moved = [f"--env={name}={environ[name]}" for name in CONNECTION if name in environ]
    return ["run", *options, *moved, *rest], env


def translate(argv: list[str]) -> list[str]:
    """podman arguments (without the program name) as docker arguments."""
    if not argv or argv[0] != "run":
        return list(argv)
    out: list[str] = ["run"]
    options, rest = _split_options(argv[1:])
    skip = False
    for index, arg in enumerate(options):
        if skip:
            skip = False
            continue
        if arg in VALUE_OPTIONS_DROPPED and index + 1 < len(options):
            skip = True
            continue
        if arg in DROPPED or arg.startswith(DROPPED_PREFIXES):
            continue
        if any(arg.startswith(f"{name}=") for name in VALUE_OPTIONS_DROPPED):
            continue
        out.append(arg)
    return [*out, "--network=host", *rest]


# Options of `podman run` that ansible-runner and AWX pass with their value as the next word.
_VALUE_OPTIONS = {"--workdir", "-w", "-v", "--volume", "--env-file", "--name", "--network", "--net", "--user",
                  "-u", "--authfile", "--userns", "--group-add", "--ipc", "--pull", "-e", "--env",
                  "--security-opt", "--label", "--entrypoint"}


def _split_options(args: list[str]) -> tuple[list[str], list[str]]:
    """(options, [IMAGE, cmd...]): the image is the first word that is neither an option nor
    an option's value."""
    index = 0
    while index < len(args):
        arg = args[index]
        if not arg.startswith("-"):
            break
        index += 2 if arg in _VALUE_OPTIONS else 1
    return args[:index], args[index:]


def lab_socket_mounts(endpoints_file: str | None) -> list[str]:
    """`--volume=S:S` for each unix socket of the lab's swarm managers that exists."""
    path = Path(endpoints_file) if endpoints_file else None
    if path is None or not path.is_file():
        return []
    managers = json.loads(path.read_text()).get("swarm_sites", {}).get("managers", {})
    sockets = sorted({url[len("unix://"):] for url in managers.values() if url.startswith("unix://")})
    return [f"--volume={socket}:{socket}" for socket in sockets if Path(socket).exists()]


def with_mounts(args: list[str], mounts: list[str]) -> list[str]:
    """`run` arguments with the mounts added before the image."""
    if args[:1] != ["run"] or not mounts:
        return args
    options, rest = _split_options(args[1:])
    return ["run", *options, *mounts, *rest]


def container_name(argv: list[str]) -> str | None:
    for index, arg in enumerate(argv):
        if arg == "--name" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--name="):
            return arg.split("=", 1)[1]
    return None


def main(argv: list[str]) -> int:
    docker = os.environ.get("S2P_AWX_DOCKER_CLI", "/usr/bin/docker")
    host = os.environ.get("S2P_AWX_DOCKER_HOST")
    if not host:
        print("podman (lab stand-in): S2P_AWX_DOCKER_HOST is not set; it names the lab dockerd's socket",
              file=sys.stderr)
        return 125
    args = with_mounts(translate(argv), lab_socket_mounts(os.environ.get("S2P_AWX_LAB_ENDPOINTS")))
    args, env = cli_environment(args, dict(os.environ))
    env["DOCKER_HOST"] = host
    proc = subprocess.Popen([docker, *args], env=env)
    name = container_name(args) if args[:1] == ["run"] else None

    def stop(signum, _frame):
        if name:
            subprocess.run([docker, "kill", name], env=env, capture_output=True, check=False)
        proc.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
