"""Shared pieces of bench_vsphere_*.py: the lab's vcsim endpoint, an HTTPS counting proxy in
front of it (so request counts are measured the same way for us and the community
collections), and running ansible commands with the project's configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / ".build" / "collections"))

from counting_proxies import proxy_cert  # noqa: E402
from counting_proxy import CountingProxy  # noqa: E402

LAB_DIR = Path(os.environ.get("S2P_LAB_DIR", ROOT / ".lab"))
VENV_BIN = Path(sys.executable).parent


def endpoint() -> dict:
    lab = json.loads((LAB_DIR / "endpoints.json").read_text())
    vcsim = dict(lab["vcsim"])
    vcsim["password"] = Path(vcsim["password_file"]).read_text().strip()
    vcsim["ca_file"] = lab["ca_file"]
    return vcsim


def proxy(vcsim: dict, workdir: Path) -> CountingProxy:
    """An HTTPS counting proxy to vcsim; clients connect with validate_certs=false."""
    cert, key = proxy_cert(workdir)
    return CountingProxy(vcsim["hostname"], vcsim["port"], vcsim["ca_file"], certfile=cert, keyfile=key)


def ansible(cmd: list[str], env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), S2P_LAB_DIR=str(LAB_DIR),
                    PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", ANSIBLE_NOCOLOR="1",
                    **(env or {}))
    result = subprocess.run([str(VENV_BIN / cmd[0]), *cmd[1:]], env=full_env, capture_output=True, text=True,
                            check=False, cwd=str(ROOT))
    if check and result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="s2p-bench-"))
