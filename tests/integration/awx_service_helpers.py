"""The lab AWX from a test: a small REST client (admin, basic auth) and a tiny execution
environment image on the lab's dockerd.

The image stands in for the real one (s2p/ee, built from execution-environment.yml) in the
tests of the lab service: s2p/debian:bookworm with ansible-core and ansible-runner, installed on
the host with pip --target (bookworm's Python is the host's 3.11) and copied in, so the build
needs no network inside a container.  It carries a marker file, /etc/s2p-awx-test-ee, holding a
token also kept in its label: a job that prints the token ran inside the image.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

TEST_IMAGE = "s2p/awx-test-ee:2"
MARKER_FILE = "/etc/s2p-awx-test-ee"
MARKER_LABEL = "s2p.awx-test-ee.marker"
# ansible-core as in the project's venv; the runner AWX 24.6.1 uses
IMAGE_PACKAGES = ["ansible-core>=2.17,<2.20", "ansible-runner==2.4.0"]
DOCKER = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"


class AwxError(AssertionError):
    pass


class Awx:
    def __init__(self, url: str, username: str, password: str):
        self.url, self._auth = url.rstrip("/"), base64.b64encode(f"{username}:{password}".encode()).decode()

    def call(self, method: str, path: str, body: dict | None = None, expect=(200, 201, 202, 204), raw=False):
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         data=json.dumps(body).encode() if body is not None else None)
        request.add_header("Authorization", f"Basic {self._auth}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, data = response.status, response.read()
        except urllib.error.HTTPError as err:
            status, data = err.code, err.read()
        if status not in expect:
            raise AwxError(f"{method} {path} -> {status}: {data[:2000].decode(errors='replace')}")
        if raw:
            return data.decode(errors="replace")
        return json.loads(data) if data else {}

    def create(self, path: str, body: dict) -> dict:
        return self.call("POST", path, body, expect=(201,))

    def delete(self, path: str, timeout: float = 180) -> None:
        """DELETE, waiting while AWX refuses it because a finished job's events are still being saved.

        For a minute after a job ends AWX refuses to delete the job (400 "Job has not finished processing
        events.") or an object that ran it (403 "Related job ... is still processing events.") until the
        callback receiver has stored all its events: seconds on a quiet lab, longer under CI's load.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.call("DELETE", path, expect=(202, 204, 404))
                return
            except AwxError as err:
                if "processing events" not in str(err) or time.monotonic() > deadline:
                    raise
            time.sleep(2)

    def wait_job(self, job_id: int, timeout: float = 600) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            job = self.call("GET", f"/api/v2/jobs/{job_id}/")
            if job["status"] in ("successful", "failed", "error", "canceled"):
                return job
            if time.monotonic() > deadline:
                raise AwxError(f"job {job_id} still {job['status']} after {timeout:.0f}s")
            time.sleep(2)


def docker(docker_host: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run([DOCKER, *args], env={**os.environ, "DOCKER_HOST": docker_host}, capture_output=True,
                          text=True, check=False, **kwargs)
    if proc.returncode != 0:
        raise AwxError(f"docker {' '.join(args[:3])} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc


def image_marker(docker_host: str) -> str | None:
    proc = subprocess.run([DOCKER, "image", "inspect", "--format", f'{{{{index .Config.Labels "{MARKER_LABEL}"}}}}',
                           TEST_IMAGE], env={**os.environ, "DOCKER_HOST": docker_host}, capture_output=True, text=True,
                          check=False)
    marker = proc.stdout.strip()
    return marker if proc.returncode == 0 and marker and marker != "<no value>" else None


def ensure_test_image(docker_host: str, base: str) -> str:
    """Build TEST_IMAGE on the lab's dockerd unless it is there; return its marker token."""
    marker = image_marker(docker_host)
    if marker:
        return marker
    marker = secrets.token_hex(12)
    with tempfile.TemporaryDirectory(prefix="s2p-awx-ee-") as tmp:
        # One COPY of one tree: one layer (dockerd's vfs driver stores every layer as a full copy).
        rootfs = Path(tmp) / "rootfs"
        site = rootfs / "usr" / "local" / "lib" / "python3.11" / "dist-packages"
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-compile",
                        "--only-binary=:all:", "--target", str(site), *IMAGE_PACKAGES], check=True)
        for script in (site / "bin").iterdir():  # console scripts name the host's Python: use the image's
            lines = script.read_text().splitlines(keepends=True)
            script.write_text("#!/usr/bin/python3\n" + "".join(lines[1:]))
            script.chmod(0o755)
        shutil.move(str(site / "bin"), rootfs / "usr" / "local" / "bin")
        (rootfs / "etc").mkdir()
        (rootfs / MARKER_FILE.lstrip("/")).write_text(marker + "\n")
        (Path(tmp) / "Dockerfile").write_text(
            f"FROM {base}\nCOPY rootfs/ /\nENV LANG=C.UTF-8\nLABEL {MARKER_LABEL}={marker}\n")
        docker(docker_host, "build", "--network", "host", "-q", "-t", TEST_IMAGE, tmp)
    return marker
