"""Health of a stack's service as promote.yml judges it, module_utils/swarm/stack_info.py (pure logic)."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack import docker_time
from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack_info import service_health

NOW = docker_time("2026-11-26T05:00:00.123456789Z")


def stamp(seconds_ago):
    moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=NOW - seconds_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + ".5Z"


def task(state, desired="running", ago=1000, error=None):
    return {"state": state, "desired_state": desired, "updated": stamp(ago), "created": stamp(ago + 5),
            "error": error, "message": state}


def service(tasks, replicas=2, update=None, message=None):
    return {"name": "demo-ire_web", "replicas": replicas, "update_status": update, "update_message": message,
            "running": len([t for t in tasks if t["desired_state"] == "running" and t["state"] == "running"]),
            "tasks": tasks}


def test_all_running_and_old_failures_are_healthy():
    health = service_health(service([task("running"), task("running"), task("failed", "shutdown", ago=3600)]), NOW)
    assert health == {"healthy": True, "problem": None, "failed_recently": 0}


@pytest.mark.parametrize("entry, words", [
    (service([task("running"), task("starting")]), "1/2 tasks running"),
    (service([task("running"), task("running"), task("failed", "shutdown", ago=30, error="exit 1")]),
     "1 task(s) failed in the last 300 s (newest: exit 1)"),
    (service([task("running")] * 2, update="rollback_completed", message="update rolled back"),
     "update rollback_completed: update rolled back"),
    (service([task("running")] * 2, update="paused"), "update paused"),
    (service([task("running"), task("preparing")], replicas=None), "1 of 2 tasks not running"),
    (service([task("rejected", "shutdown", ago=10, error="no suitable node")], replicas=1),
     "0/1 tasks running; 1 task(s) failed in the last 300 s (newest: no suitable node)"),
])
def test_unhealthy_services_say_why(entry, words):
    health = service_health(entry, NOW)
    assert health["healthy"] is False and health["problem"] == words, health
