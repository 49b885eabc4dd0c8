# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading stacks: their services and tasks, and whether each service is healthy.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

"Healthy" is what promote.yml requires of a source environment: no rolled-back or paused
update, every wanted task running, and no task that failed recently (a service whose tasks
keep failing and restarting may have all its replicas running at the moment it is read).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack import docker_time
from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack_spec import HASH_LABEL, STACK_LABEL

RECENT = 300  # seconds in which a failed task makes its service unhealthy
_BAD_UPDATES = ("rollback_started", "rollback_completed", "rollback_paused", "paused")


def stack_info(client, names=None):
    """Services and tasks of the named stacks (every stack when names is empty), per stack."""
    api = client.api
    client.require_manager()
    services = client.call("service list", api.services, filters={"label": STACK_LABEL})
    nodes = dict((n["id"], n) for n in client.nodes())
    stacks = {}
    for service in services:
        labels = service["Spec"].get("Labels") or {}
        stack = labels.get(STACK_LABEL)
        if names and stack not in names:
            continue
        tasks = client.call("tasks of %s" % service["Spec"]["Name"], api.tasks, filters={"service": service["ID"]})
        mode = service["Spec"].get("Mode") or {}
        entry = {
            "name": service["Spec"]["Name"], "id": service["ID"],
            "image": service["Spec"]["TaskTemplate"]["ContainerSpec"].get("Image"),
            "mode": "global" if "Global" in mode else "replicated",
            "replicas": (mode.get("Replicated") or {}).get("Replicas"),
            "running": len([t for t in tasks if t["DesiredState"] == "running" and t["Status"]["State"] == "running"]),
            "update_status": (service.get("UpdateStatus") or {}).get("State"),
            "update_message": (service.get("UpdateStatus") or {}).get("Message"),
            "spec_hash": labels.get(HASH_LABEL),
            "tasks": [_task_summary(t, nodes) for t in _newest_first(tasks)],
        }
        entry.update(service_health(entry, time.time()))
        stacks.setdefault(stack, {"name": stack, "services": []})["services"].append(entry)
    for name in names or []:
        stacks.setdefault(name, {"name": name, "services": []})
    return [stacks[k] for k in sorted(stacks)]


def _newest_first(tasks):
    return sorted(tasks, key=lambda t: t.get("CreatedAt", ""), reverse=True)


def _task_summary(task, nodes):
    node = nodes.get(task.get("NodeID")) or {}
    status = task.get("Status") or {}
    return {"id": task["ID"], "slot": task.get("Slot"), "node": node.get("hostname"),
            "site": (node.get("labels") or {}).get("site"), "desired_state": task.get("DesiredState"),
            "state": status.get("State"), "error": status.get("Err"), "message": status.get("Message"),
            "image": task["Spec"]["ContainerSpec"].get("Image"), "created": task.get("CreatedAt"),
            "updated": status.get("Timestamp")}


def service_health(service, now, recent=RECENT):
    """{healthy, problem, failed_recently} of a service entry of stack_info (pure logic)."""
    problems = []
    if service["update_status"] in _BAD_UPDATES:
        problems.append("update %s%s" % (service["update_status"], ": %s" % service["update_message"]
                                         if service["update_message"] else ""))
    wanted = [t for t in service["tasks"] if t["desired_state"] == "running"]
    if service["replicas"] is not None and service["running"] < service["replicas"]:
        problems.append("%d/%d tasks running" % (service["running"], service["replicas"]))
    elif [t for t in wanted if t["state"] != "running"]:
        problems.append("%d of %d tasks not running" % (len([t for t in wanted if t["state"] != "running"]),
                                                        len(wanted)))
    failed = [t for t in service["tasks"] if t["state"] in ("failed", "rejected")
              and now - docker_time(t.get("updated") or t.get("created")) <= recent]
    if failed:
        problems.append("%d task(s) failed in the last %d s (newest: %s)" % (
            len(failed), recent, failed[0]["error"] or failed[0]["message"]))
    return {"healthy": not problems, "problem": "; ".join(problems) or None, "failed_recently": len(failed)}
