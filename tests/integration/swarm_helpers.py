"""Shared helpers of the swarm integration tests: what the sites serve, and killing a site's dockerd."""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from pathlib import Path


def served(swarm_sites: dict, port: int) -> bool:
    """Whether any site answers 200 on the host-mode `port` (swarm_sites: the lab's endpoint data)."""
    for address in swarm_sites["addresses"].values():
        try:
            with urllib.request.urlopen(f"http://{address}:{port}/", timeout=3) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            continue
    return False


def kill_site(lab_dir: Path, site: str) -> None:
    """SIGKILL the dockerd of `site` of the swarm_sites service in lab folder `lab_dir`, and wait for it."""
    pid = int((lab_dir / "pids" / f"swarm_sites-{site}.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    while Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]:
        time.sleep(0.1)
