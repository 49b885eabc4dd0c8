"""Build the AWX execution environment (execution-environment.yml) on the lab's dockerd.

Usage: ee_build.py [--without NAME]... [--tag REF]... [--no-cache]   (make ee; with the venv's Python)

Default: the collection tarball, then `ansible-builder build` as s2p/ee:<galaxy.yml version> and
s2p/ee:latest on the lab's base image s2p/ee-base:bookworm (built first when missing or
outdated), unless the image's label s2p.ee.inputs already records the hash of the inputs
(lab/ee_inputs.py): then nothing is built. EE_BASE_IMAGE=<ref> builds on another base image
(production: a digest-pinned one). --without NAME leaves a requirement of requirements.txt out
(test images, with --tag). The build runs with host networking (the lab's dockerd has no NAT)
and pip configured like the build host's; its full output goes to .build/ee/<tag>.log.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ee_inputs
from common import ROOT, Lab, LabError
from services import dockerd

INPUTS_LABEL = "s2p.ee.inputs"
STEP = re.compile(r"^#\d+ \[([\w-]+ +\d+/\d+)\] (.*)")  # BuildKit's plain progress: "#9 [base 3/8] RUN ..."


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--without", action="append", default=[], metavar="NAME",
                        help="leave this requirement of requirements.txt out (a test image)")
    parser.add_argument("--tag", action="append", default=[], metavar="REF",
                        help="tag(s) of the image (default: s2p/ee:<version> and s2p/ee:latest)")
    parser.add_argument("--no-cache", action="store_true",
                        help="build every step again, without Docker's layer cache (times a build from scratch)")
    args = parser.parse_args(argv)
    if args.without and not args.tag:
        parser.error("--without builds a test image: name it with --tag")
    try:
        tags = args.tag or [f"s2p/ee:{ee_inputs.collection_version()}", "s2p/ee:latest"]
        print(build(tags, tuple(args.without), args.no_cache))
    except LabError as err:
        print(f"ee: {err}", file=sys.stderr)
        return 1
    return 0


def build(tags: list[str], without: tuple[str, ...] = (), no_cache: bool = False) -> str:
    """Build the image unless it is current; returns a line saying which and how long it took."""
    started = time.monotonic()
    lab = Lab()
    if not dockerd.status(lab).healthy:
        raise LabError(f"the lab's dockerd is not healthy ({dockerd.status(lab).detail}); run `make lab-up`")
    base = os.environ.get("EE_BASE_IMAGE") or dockerd.ensure_image(lab, "ee-base")
    work = ROOT / ".build" / "ee" / _slug(tags[0])
    tarball = ee_inputs.collection_tarball(work / "esa-s2p.tar.gz", without) if without \
        else ee_inputs.collection_tarball()
    left_out = ee_inputs.write_pip_dir(ee_inputs.pip_settings())
    if left_out:
        print(f"ee: pip settings of this host not used in the build (local paths): {', '.join(left_out)}")
    definition = ee_inputs.resolve_definition(work, tarball, without)
    inputs = ee_inputs.inputs_hash(definition, tarball, f"{base}@{_image(lab, base).get('Id', '')}")
    current = all(_label(lab, tag) == inputs for tag in tags) and len({_image(lab, tag)["Id"] for tag in tags}) == 1
    if current and not no_cache:
        return f"ee: {', '.join(tags)} current (inputs {inputs}), nothing to build ({time.monotonic() - started:.1f}s)"
    old = {_image(lab, tag).get("Id", "") for tag in tags} - {""}
    _ansible_builder(lab, definition, work, tags, base, f"--label {INPUTS_LABEL}={inputs}"
                     + (" --no-cache" if no_cache else ""))
    _smoke(lab, tags[0])
    for image_id in old - {_image(lab, tags[0]).get("Id")}:
        # The image it replaced, unless a container still uses it (409: it stays, untagged).
        dockerd._engine(lab, "DELETE", f"/images/{image_id}", timeout=300)
    return f"ee: built {', '.join(tags)} on {base} in {time.monotonic() - started:.0f}s (inputs {inputs})"


def _ansible_builder(lab: Lab, definition: Path, work: Path, tags: list[str], base: str, extra: str) -> None:
    log = work.parent / f"{_slug(tags[0])}.log"
    with tempfile.TemporaryDirectory() as cli_dir:
        # The Debian docker CLI, which matches the lab's engine, whatever else PATH holds.
        os.symlink(dockerd._docker_cli(), Path(cli_dir) / "docker")
        env = {**os.environ, "PATH": f"{cli_dir}:{os.environ['PATH']}", "DOCKER_HOST": dockerd.docker_host(lab),
               "DOCKER_BUILDKIT": "1"}  # BuildKit: ENV/ARG steps cost nothing, stages build side by side
        argv = [str(ee_inputs.BIN / "ansible-builder"), "build", "-f", str(definition), "-c", str(work / "context"),
                "--container-runtime", "docker", "-v", "3", *(f"--tag={tag}" for tag in tags),
                f"--build-arg=EE_BASE_IMAGE={base}",
                f"--extra-build-cli-args=--network host --progress plain {extra}"]
        print(f"ee: building {', '.join(tags)} on {base} (log: {log.relative_to(ROOT)})", flush=True)
        with open(log, "w") as out:
            proc = subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, text=True, errors="replace")
            shown = set()
            for line in proc.stdout:
                out.write(line)
                step = STEP.match(line)
                if step and step[1] not in shown:  # progress: one line per Containerfile step
                    shown.add(step[1])
                    print(f"ee: {step[1]}: {step[2][:100]}", flush=True)
            out.flush()
            if proc.wait() != 0:
                tail = log.read_text().splitlines()[-30:]
                raise LabError(f"ansible-builder build failed (exit {proc.returncode}); the end of {log}:\n"
                               + "\n".join(tail))


def _smoke(lab: Lab, tag: str) -> None:
    proc = subprocess.run([dockerd._docker_cli(), "-H", dockerd.docker_host(lab), "run", "--rm", "--network", "none",
                           tag, "ansible-galaxy", "collection", "list", "esa.s2p"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0 or "esa.s2p" not in proc.stdout:
        raise LabError(f"{tag} was built but `ansible-galaxy collection list esa.s2p` in it fails:\n"
                       f"{proc.stdout}{proc.stderr}")


def _image(lab: Lab, ref: str) -> dict:
    status, image = dockerd._engine(lab, "GET", f"/images/{urllib.parse.quote(ref, safe='/:@')}/json")
    return image if status == 200 and isinstance(image, dict) else {}


def _label(lab: Lab, ref: str) -> str:
    return ((_image(lab, ref).get("Config") or {}).get("Labels") or {}).get(INPUTS_LABEL, "")


def _slug(tag: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", tag)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
