"""esa.s2p.swarm_stack while managers of the lab's three-site swarm are down: with one of three
killed the stack keeps serving and deploys succeed; with two of three killed a deploy fails
fast with a clear quorum message. The lab's swarm is restored (`lab.py up swarm_sites`) after."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import LAB_DIR, ROOT

TASK = "stacks"


def _play(stack):
    return [{"name": "stacks", "hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/esa.s2p.swarm": "{{ s2p_swarm_connection }}"},
             "tasks": [{"name": TASK, "esa.s2p.swarm_stack": {"stacks": [stack], "wait_timeout": 120}}]}]


def _kill(site):
    pid = int((LAB_DIR / "pids" / f"swarm_sites-{site}.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    while Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]:
        time.sleep(0.1)


def _served(lab, port):
    for address in lab["swarm_sites"]["addresses"].values():
        try:
            with urllib.request.urlopen(f"http://{address}:{port}/", timeout=3) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            continue
    return False


def test_one_manager_down_keeps_serving_two_down_fail_fast(lab, prefix, run_playbook):
    port = random.randrange(30000, 31000)
    stack = {"name": f"{prefix}-ire", "services": [{
        "name": "web", "image": lab["swarm_sites"]["image_digests"]["busybox"], "replicas": 1,
        "sites": ["esoc"], "command": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
        "ports": [{"published": port, "target": 8080}], "env": {"VERSION": "1"}}]}
    assert run_playbook(_play(stack)).rc == 0
    try:
        _kill("esrin")
        assert _served(lab, port)
        stack["services"][0]["env"]["VERSION"] = "2"
        one_down = run_playbook(_play(stack))
        assert one_down.rc == 0 and one_down.changed == 1, one_down.stdout[-3000:]
        assert _served(lab, port)
        _kill("esec")
        stack["services"][0]["env"]["VERSION"] = "3"
        started = time.monotonic()
        two_down = run_playbook(_play(stack))
        elapsed = time.monotonic() - started
        assert two_down.rc != 0
        message = two_down.result(TASK)["msg"]
        assert "has no quorum" in message and "Bring managers back online" in message, message
        print(f"quorum failure reported after {elapsed:.1f}s")
    finally:
        restored = subprocess.run([sys.executable, str(ROOT / "lab" / "lab.py"), "up", "swarm_sites"],
                                  capture_output=True, text=True, timeout=400, check=False)
        run_playbook(_play({"name": f"{prefix}-ire", "state": "absent"}))
    assert restored.returncode == 0, restored.stdout + restored.stderr
