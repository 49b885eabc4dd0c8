"""esa.s2p.swarm_stack while managers of the lab's three-site swarm are down: with one of three
killed the stack keeps serving and deploys succeed; with two of three killed a deploy fails
fast with a clear quorum message. The lab's swarm is restored (`lab.py up swarm_sites`) after."""

from __future__ import annotations

import random
import subprocess
import sys
import time

from conftest import LAB_DIR, ROOT
from swarm_helpers import kill_site, served

TASK = "stacks"


def _play(stack):
    return [{"name": "stacks", "hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/esa.s2p.swarm": "{{ s2p_swarm_connection }}"},
             "tasks": [{"name": TASK, "esa.s2p.swarm_stack": {"stacks": [stack], "wait_timeout": 120}}]}]


def test_one_manager_down_keeps_serving_two_down_fail_fast(lab, prefix, run_playbook):
    port = random.randrange(30000, 31000)
    stack = {"name": f"{prefix}-ire", "services": [{
        "name": "web", "image": lab["swarm_sites"]["image_digests"]["busybox"], "replicas": 1,
        "sites": ["esoc"], "command": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
        "ports": [{"published": port, "target": 8080}], "env": {"VERSION": "1"}}]}
    assert run_playbook(_play(stack)).rc == 0
    try:
        kill_site(LAB_DIR, "esrin")
        assert served(lab["swarm_sites"], port)
        stack["services"][0]["env"]["VERSION"] = "2"
        one_down = run_playbook(_play(stack))
        assert one_down.rc == 0 and one_down.changed == 1, one_down.stdout[-3000:]
        assert served(lab["swarm_sites"], port)
        kill_site(LAB_DIR, "esec")
        stack["services"][0]["env"]["VERSION"] = "3"
        started = time.monotonic()
        two_down = run_playbook(_play(stack))
        elapsed = time.monotonic() - started
        assert two_down.rc != 0
        message = two_down.result(TASK)["msg"]
        assert "has no quorum" in message and "back online" in message, message
        print(f"quorum failure reported after {elapsed:.1f}s")
    finally:
        restored = subprocess.run([sys.executable, str(ROOT / "lab" / "lab.py"), "up", "swarm_sites"],
                                  capture_output=True, text=True, timeout=400, check=False)
        run_playbook(_play({"name": f"{prefix}-ire", "state": "absent"}))
    assert restored.returncode == 0, restored.stdout + restored.stderr
