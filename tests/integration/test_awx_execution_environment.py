"""The AWX execution environment, built for real on the lab's dockerd (lab/ee_build.py, `make ee`)
and run as an AWX job runs it: the repository's preflight.yml inside s2p/ee:latest against the
lab, with nothing of this machine's Python mounted (only the playbooks, the inventory and the
lab's state), checks all six backends through the collection installed in the image, which
imports every library of requirements.txt. A test image built from the same definition
without hvac fails the Vault check with the collection's missing-library message.

Builds are slow (minutes), so the images are module fixtures on one worker and are kept: a
build whose inputs did not change is skipped (the image's label s2p.ee.inputs). `make test`
runs this module in its own stage `ee` (marker `ee`), beside integration.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ee, pytest.mark.xdist_group("ee")]

ROOT = Path(__file__).resolve().parents[2]
LAB = (ROOT / ".lab").resolve()
# Debian's docker CLI, which matches the lab's engine (as lab/services/dockerd.py picks it).
DOCKER = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"
WITHOUT_HVAC = "s2p/ee-test:without-hvac"
READY = re.compile(r"(\d+) backend\(s\), (\d+) check\(s\), 0 failed, all ready")


def ee_build(*args: str) -> tuple[str, float]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(ROOT / "lab" / "ee_build.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"lab/ee_build.py {' '.join(args)} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc.stdout, time.monotonic() - started


def docker(*args: str) -> subprocess.CompletedProcess:
    docker_host = json.loads((LAB / "endpoints.json").read_text())["dockerd"]["docker_host"]
    return subprocess.run([DOCKER, "-H", docker_host, *args], capture_output=True, text=True,
                          check=False)


def image_id(ref: str) -> str:
    return docker("image", "inspect", "--format", "{{.Id}}", ref).stdout.strip()


def run_job(image: str, *ansible_args: str) -> subprocess.CompletedProcess:
    """ansible-playbook in `image` against the lab: host network (the lab listens on loopback),
    the lab's state read-only at its own path (endpoints.json names files there), the playbooks
    and inventories of the checkout, the image's collections only."""
    mounts = [f"{LAB}:{LAB}:ro", f"{ROOT / 'playbooks'}:/runner/project/playbooks:ro",
              f"{ROOT / 'inventories'}:/runner/project/inventories:ro"]
    # root in the container: the lab's credential files are root's (mode 0600)
    return docker("run", "--rm", "--network", "host", "--user", "0", *(f"--volume={m}" for m in mounts),
                  f"--env=S2P_LAB_DIR={LAB}", "--env=ANSIBLE_COLLECTIONS_PATH=/usr/share/ansible/collections",
                  image, "bash", "-c", 'ansible-galaxy collection list esa.s2p && exec ansible-playbook "$@"', "job",
                  "-i", "/runner/project/inventories/lab", "/runner/project/playbooks/preflight.yml", *ansible_args)


@pytest.fixture(scope="module")
def ee_image() -> str:
    out, seconds = ee_build()
    print(f"make ee: {out.strip().splitlines()[-1]} ({seconds:.0f}s)")
    return "s2p/ee:latest"


@pytest.fixture(scope="module")
def ee_without_hvac(ee_image) -> str:
    out, seconds = ee_build("--without", "hvac", "--tag", WITHOUT_HVAC)
    print(f"test image: {out.strip().splitlines()[-1]} ({seconds:.0f}s)")
    return WITHOUT_HVAC


def test_a_second_build_with_nothing_changed_builds_nothing(ee_image):
    before = image_id(ee_image)
    out, seconds = ee_build()
    assert "current" in out and "nothing to build" in out, out
    assert image_id(ee_image) == before
    version = re.search(r"^version:\s*(\S+)", (ROOT / "galaxy.yml").read_text(), re.M)[1]
    assert image_id(f"s2p/ee:{version}") == before
    assert seconds < 60, f"the no-op build took {seconds:.0f}s"


def test_the_image_runs_preflight_against_the_lab_with_its_own_python(ee_image):
    """Six health modules: pyvmomi, ldap3, hvac, dnspython, acme (josepy, cryptography,
    requests) and docker, all imported from the image's Python."""
    proc = run_job(ee_image)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert re.search(r"/usr/share/ansible/collections/ansible_collections\s+.*esa\.s2p\s+\d", output, re.S), output
    ready = READY.search(output)
    assert ready and ready[1] == "6", output[-4000:]
    assert "Failed to import" not in output


def test_a_job_needing_a_library_left_out_of_the_image_fails_clearly(ee_without_hvac):
    proc = run_job(ee_without_hvac, "-e", '{"preflight__backends": ["vault"]}')
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-4000:]
    assert "Preflight failed, 1 problem(s) to fix" in output, output[-4000:]
    assert "vault module: the vault health check could not run: Failed to import the required Python " \
           "library (hvac) on" in output, output[-4000:]
    assert "Traceback" not in output
