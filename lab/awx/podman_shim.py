"""LAB-ONLY `podman` for the lab AWX: runs the container on the lab's dockerd instead.

ansible-runner, as AWX drives it, wraps every job in `podman run ... IMAGE cmd` (AWX hard-codes
podman).  lab/services/awx.py writes a `podman` script running this file into the folder the
receptor stand-in puts first on its units' PATH; it hands the command to the Docker CLI at
$S2P_AWX_DOCKER_HOST, translated:
- podman-only options are dropped (--quiet, --authfile=..., --userns=keep-id, --group-add=root);
- every container gets the host's network (--network=host, replacing any --network): the lab's
  servers listen on 127.0.0.1 and the lab's dockerd has no NAT;
- the job's container is killed when the job is (SIGTERM/SIGINT/SIGHUP: `docker kill NAME`).
Other subcommands (images, rmi, inspect) pass through unchanged.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

DROPPED = ("--quiet", "--userns=keep-id", "--group-add=root")
DROPPED_PREFIXES = ("--authfile=",)
VALUE_OPTIONS_DROPPED = ("--network", "--net", "--authfile", "--userns")


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
    args = translate(argv)
    env = {**os.environ, "DOCKER_HOST": host}
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
