"""A private vcsim for one test module or one benchmark run, never the shared lab's.

Some tests and benchmarks need a vcsim the lab's cannot be: thousands of VMs, or a slow
clone. They start their OWN process of the lab's vcsim build on a free loopback port with
its own state folder, and stop it by PID at the end; the shared lab vcsim is never touched.

The binary is the lab's build when it was built from the same sources as this checkout
(lab/vcsim/, hash stamp), otherwise this checkout's sources are built once into
~/.cache/s2p-vcsim/<hash>/ (lab/vcsim/build.sh, offline, 20-40 s).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAB_DIR = Path(os.environ.get("S2P_LAB_DIR", ROOT / ".lab"))
USERNAME = "s2p-admin@vsphere.local"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "s2p-vcsim"


def _source_hash() -> str:
    sys.path.insert(0, str(ROOT / "lab"))
    try:
        from services import vcsim as lab_vcsim  # lab/services/vcsim.py of this checkout
    finally:
        sys.path.pop(0)
    return lab_vcsim._source_hash()


def binary() -> Path:
    """The vcsim binary built from this checkout's lab/vcsim sources (built once when needed)."""
    wanted = _source_hash()
    lab_binary = LAB_DIR / "vcsim" / "bin" / "vcsim"
    stamp = lab_binary.with_name("vcsim.stamp")
    if lab_binary.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return lab_binary
    folder = CACHE / wanted[:20]
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "vcsim"
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test processes never build at once
        if not out.exists():
            build = folder / "build"
            subprocess.run(["bash", str(ROOT / "lab" / "vcsim" / "build.sh"), str(build), str(out)], check=True,
                           capture_output=True, env={**os.environ, "HOME": os.environ.get("HOME", "/root")})
            shutil.rmtree(build, ignore_errors=True)
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnVcsim:
    """`with OwnVcsim(vms=1000) as sim:` -> sim.endpoint (the lab's vcsim endpoint shape plus
    `password` and `ca_file`), sim.pid. Extra flags go to the binary (e.g. clone delays)."""

    def __init__(self, vms: int = 0, extra_args: list[str] | None = None, start_timeout: float | None = None):
        self.vms = vms
        self.extra_args = list(extra_args or [])
        self.start_timeout = start_timeout or 90 + vms / 20
        self.proc: subprocess.Popen | None = None
        self.dir: Path | None = None
        self.endpoint: dict = {}

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def __enter__(self) -> OwnVcsim:
        lab = json.loads((LAB_DIR / "endpoints.json").read_text())
        cert = LAB_DIR / "ca" / "vcsim" / "server.crt"
        key = LAB_DIR / "ca" / "vcsim" / "server.key"
        exe = binary()
        self.dir = Path(tempfile.mkdtemp(prefix="s2p-own-vcsim-"))
        password = secrets.token_urlsafe(18)
        (self.dir / "password").write_text(password + "\n")
        port = _free_port()
        self.log = self.dir / "vcsim.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [str(exe), "-listen", f"127.0.0.1:{port}", "-cert", str(cert), "-key", str(key),
                 "-username", USERNAME, "-password-file", str(self.dir / "password"),
                 "-datastores", str(self.dir / "datastores"), "-vms", str(self.vms), *self.extra_args],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.endpoint = {"hostname": "127.0.0.1", "port": port, "url": f"https://127.0.0.1:{port}/sdk",
                         "username": USERNAME, "password_file": str(self.dir / "password"), "password": password,
                         "ca_file": lab["ca_file"], "datacenters": ["ESOC", "ESEC", "ESRIN"],
                         "template": "debian-12-template"}
        try:
            self._wait_serving(port, lab["ca_file"])
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_serving(self, port: int, ca_file: str) -> None:
        """vcsim listens only once the whole inventory is built: wait for a TLS handshake."""
        context = ssl.create_default_context(cafile=ca_file)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"own vcsim exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
                    with context.wrap_socket(raw, server_hostname="127.0.0.1"):
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"own vcsim not serving after {self.start_timeout:.0f}s: {self.log.read_text()[-2000:]}")

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
