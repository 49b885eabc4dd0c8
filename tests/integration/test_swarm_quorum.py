"""esa.s2p.swarm_stack while managers of a three-site swarm are down: with one of three
killed the stack keeps serving and deploys succeed; with two of three killed a deploy fails
fast with a clear quorum message. The swarm is a scratch one of this test's own (the lab's
swarm_sites service in a scratch folder and subnet, scratch_lab.py), never the shared lab's,
which other tests use at the same time."""

from __future__ import annotations

import random
import time

import pytest
from scratch_lab import ScratchLab
from swarm_helpers import kill_site, served

TASK = "stacks"


def _play(stack):
    return [{"name": "stacks", "hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/esa.s2p.swarm": "{{ s2p_swarm_connection }}"},
             "tasks": [{"name": TASK, "esa.s2p.swarm_stack": {"stacks": [stack], "wait_timeout": 120}}]}]


@pytest.fixture
def scratch_swarm(lab):
    with ScratchLab(lab, ["swarm_sites"], prefix="s2p-quorum-") as scratch:
        yield scratch


def test_one_manager_down_keeps_serving_two_down_fail_fast(scratch_swarm, prefix, run_playbook):
    swarm = scratch_swarm.endpoints["swarm_sites"]
    env = scratch_swarm.env
    port = random.randrange(30000, 31000)
    stack = {"name": f"{prefix}-ire", "services": [{
        "name": "web", "image": swarm["image_digests"]["busybox"], "replicas": 1,
        "sites": ["esoc"], "command": ["httpd", "-f", "-p", "8080", "-h", "/var/www"],
        "update": {"monitor": 2},
        "ports": [{"published": port, "target": 8080}], "env": {"VERSION": "1"}}]}
    first = run_playbook(_play(stack), envvars=env)
    assert first.rc == 0, first.stdout[-3000:]
    kill_site(scratch_swarm.folder, "esrin")
    assert served(swarm, port)
    stack["services"][0]["env"]["VERSION"] = "2"
    one_down = run_playbook(_play(stack), envvars=env)
    assert one_down.rc == 0 and one_down.changed == 1, one_down.stdout[-3000:]
    assert served(swarm, port)
    kill_site(scratch_swarm.folder, "esec")
    stack["services"][0]["env"]["VERSION"] = "3"
    started = time.monotonic()
    two_down = run_playbook(_play(stack), envvars=env)
    elapsed = time.monotonic() - started
    assert two_down.rc != 0
    message = two_down.result(TASK)["msg"]
    assert "has no quorum" in message and "back online" in message, message
    print(f"quorum failure reported after {elapsed:.1f}s")
