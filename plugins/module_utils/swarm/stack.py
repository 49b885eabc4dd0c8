# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deploying a batch of stacks through the Swarm API (never `docker stack deploy`).

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

StackEngine reads what each stack owns (objects labelled com.docker.stack.namespace),
plans against the normalised batch from swarm/stack_spec.py (a service changes only when
its spec hash changes), then, outside check mode, creates networks, versioned secrets and
configs, creates or updates services, waits until they converged (failing when Swarm
rolled one back or its tasks keep failing), and only then removes what the stack no
longer uses (old secret versions included). Objects of other stacks are never touched.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import time

from ansible_collections.esa.s2p.plugins.module_utils.swarm.client import NoQuorum, SwarmError, quorum
from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack_spec import (
    HASH_LABEL,
    OBJECT_LABEL,
    SPEC_LABEL,
    STACK_LABEL,
    parse_image,
    spec_hash,
)

NS = 1000000000
_ALIVE = ("assigned", "accepted", "preparing", "starting", "running")  # a task whose container may still run
UNSETTLED_UPDATES = ("updating", "paused", "rollback_started", "rollback_paused")
RECENT_FAILURES = 120  # seconds: a task that failed this recently makes a kept service unsettled


class ImageMissing(SwarmError):
    """An image reference that no registry the daemon can reach knows."""


class NameConflict(SwarmError):
    """A service or network of the wanted name exists but belongs to no stack or another stack."""


class NotConverged(SwarmError):
    """A service was rolled back by Swarm, its tasks keep failing, or it did not converge in time."""


def rollout_size(plan):
    """How many services the plan creates or updates."""
    return len(plan.get("create") or {}) + len(plan.get("update") or {})


def rollout_waves(plans, limit):
    """The plans in rollout order, cut into waves of stacks that create or update at most `limit`
    services together (0: one wave). A stack is never split, so a stack larger than the limit is a
    wave of its own; stacks with nothing to roll out join the current wave."""
    waves, wave, size = [], [], 0
    for plan in plans:
        count = rollout_size(plan)
        if limit and wave and size + count > limit:
            waves.append(wave)
            wave, size = [], 0
        wave.append(plan)
        size += count
    return waves + [wave] if wave else waves


class StackEngine(object):
    def __init__(self, client, check_mode=False, wait=True, wait_timeout=300, resolve_image=True, rollout_limit=0):
        self.client = client
        self.api = client.api
        self.check_mode = check_mode
        self.wait = wait
        self.wait_timeout = wait_timeout
        self.rollout_limit = rollout_limit
        self.resolve_image = resolve_image
        self.progress = []
        self._pinned = {}
        self._running_since = {}  # task id -> when this run first saw it running

    # --- entry point -------------------------------------------------------------------
    def converge(self, stacks, before_apply=None):
        """Plan (and outside check mode apply) every stack; returns (changed, results, diffs).

        before_apply(): the first write outside the swarm (secrets generated in Vault), once every
        stack is planned; when it returns True (a secret got another name than planned), plan again."""
        self.require_quorum()
        self._read_all()
        plans = [self.plan(stack) for stack in stacks]  # every read and check before any write
        if not self.check_mode and before_apply is not None and before_apply():
            plans = [self.plan(stack) for stack in stacks]
        self.find_unsettled(plans)
        if not self.check_mode:
            recheck = [s for p in plans for s in p["recheck"]]
            waves = rollout_waves(plans, self.rollout_limit if self.wait else 0)
            for number, wave in enumerate(waves, 1):
                if len(waves) > 1:
                    self.progress.append("rollout wave %d of %d: %d stack(s), %d service(s) to create or update" % (
                        number, len(waves), len(wave), sum(rollout_size(p) for p in wave)))
                for plan in wave:
                    self.apply(plan)
                if self.wait:
                    self.wait_converged([s for p in wave for s in p["touched"]] + recheck)
                    recheck = []
            removed = [sid for plan in plans for sid in self.remove_services(plan)]
            if removed and self.wait:
                self.wait_tasks_gone(removed)
            for plan in plans:
                self.cleanup(plan)
        results = [dict((k, p[k]) for k in ("name", "state", "changed", "actions", "unsettled")) for p in plans]
        diffs = [p["diff"] for p in plans if p["changed"]]
        return any(p["changed"] for p in plans), results, diffs

    def require_quorum(self):
        state = self.client.require_manager()
        nodes = self.client.nodes()
        q = quorum(nodes)
        if not q["has_quorum"]:
            raise NoQuorum("the swarm behind %s has no quorum: %d of %d managers reachable, %d needed "
                           "(unreachable: %s)" % (self.client.docker_host, q["reachable"], q["managers"],
                                                  q["needed"], ", ".join(q["unreachable"])),
                           hint="Bring managers back online before deploying")
        self.nodes = nodes
        return state

    # --- reading -------------------------------------------------------------------------
    def _read_all(self):
        """Every service and network, and the stack-labelled secrets and configs: four calls for
        the whole batch, whatever its size (planning never reads per stack)."""
        api = self.api
        self._all = {
            "services": self.client.call("service list", api.services),
            "networks": self.client.call("network list", api.networks),
            "secrets": self.client.call("secret list", api.secrets, filters={"label": STACK_LABEL}),
            "configs": self.client.call("config list", api.configs, filters={"label": STACK_LABEL}),
        }

    def _owned(self, kind, stack):
        return [o for o in self._all[kind] if ((o.get("Spec") or o).get("Labels") or {}).get(STACK_LABEL) == stack]

    def _by_name(self, kind, name):
        return [o for o in self._all[kind] if (o.get("Spec") or o).get("Name") == name]

    def pin(self, image):
        """image@digest from the registry (tags move; digests do not), cached per run."""
        ref = parse_image(image)
        if ref["digest"] or not self.resolve_image:
            return image
        if image not in self._pinned:
            try:
                answer = self.client.call("image %s" % image, self.api.inspect_distribution, image)
            except SwarmError as exc:
                raise ImageMissing("image %s cannot be resolved to a digest: %s" % (image, exc.message),
                                   hint="Push it to the registry, fix the reference, or pin it by digest") from None
            digest = (answer.get("Descriptor") or {}).get("digest")
            self._pinned[image] = "%s@%s" % (image, digest) if digest else image
        return self._pinned[image]

    # --- planning --------------------------------------------------------------------------
    def plan(self, stack):
        name = stack["name"]
        current = dict((kind, self._owned(kind, name)) for kind in ("services", "networks", "secrets", "configs"))
        services = dict((s["Spec"]["Name"], s) for s in current["services"])
        plan = {"name": name, "state": stack["state"], "stack": stack, "current": current, "actions": [],
                "touched": [], "create": {}, "update": {}, "remove": {}, "kept": {}, "unsettled": [], "recheck": []}
        before = {"services": dict((n, _spec_of(s)) for n, s in services.items()),
                  "networks": sorted(n["Name"] for n in current["networks"]),
                  "secrets": sorted(s["Spec"]["Name"] for s in current["secrets"]),
                  "configs": sorted(c["Spec"]["Name"] for c in current["configs"])}
        if stack["state"] == "absent":
            after = {"services": {}, "networks": [], "secrets": [], "configs": []}
            for kind in ("services", "networks", "secrets", "configs"):
                for item in before[kind]:
                    plan["actions"].append("remove %s %s" % (kind[:-1], item))
        else:
            after = self._plan_present(stack, plan, services, before)
        plan["changed"] = bool(plan["actions"])
        plan["diff"] = {"before_header": "stack %s" % name, "after_header": "stack %s" % name,
                        "before": before, "after": after}
        return plan

    def _plan_present(self, stack, plan, services, before):
        name = stack["name"]
        for secret in stack["secrets"].values():
            if secret.get("generate_pending"):
                plan["actions"].append("generate secret %s in Vault at %s" % (secret["name"], secret["vault_path"]))
        for kind in ("networks", "secrets", "configs"):
            wanted = sorted(o["docker_name"] for o in stack[kind].values())
            for docker_name in wanted:
                if docker_name not in before[kind]:
                    if kind == "networks" and self._by_name("networks", docker_name):
                        raise NameConflict("network %s exists but is not part of stack %s" % (docker_name, name),
                                           hint="Rename the network in the stack, or remove the other one")
                    plan["actions"].append("create %s %s" % (kind[:-1], docker_name))
            for docker_name in before[kind]:
                if docker_name not in wanted:
                    plan["actions"].append("remove %s %s" % (kind[:-1], docker_name))
        after_services = {}
        for service in stack["services"]:
            normalised = self.normalise(stack, service)
            after_services[service["docker_name"]] = normalised
            existing = services.get(service["docker_name"])
            if existing is None:
                for other in self._by_name("services", service["docker_name"]):
                    owner = (other["Spec"].get("Labels") or {}).get(STACK_LABEL)
                    raise NameConflict("service %s exists and belongs to %s" % (
                        service["docker_name"], "stack %s" % owner if owner else "no stack"),
                        hint="Remove or rename it; only services of stack %s are managed here" % name)
                plan["actions"].append("create service %s" % service["docker_name"])
                plan["create"][service["docker_name"]] = normalised
            elif (existing["Spec"].get("Labels") or {}).get(HASH_LABEL) != spec_hash(normalised):
                plan["actions"].append("update service %s" % service["docker_name"])
                plan["update"][service["docker_name"]] = (existing, normalised)
            else:
                drift = live_changes(existing, normalised)  # scaled or re-imaged by hand: the hash still matches
                if drift:
                    plan["actions"].append("update service %s (%s)" % (service["docker_name"], "; ".join(drift)))
                    plan["update"][service["docker_name"]] = (existing, normalised)
                else:
                    plan["kept"][service["docker_name"]] = (existing, normalised)
        for docker_name in services:
            if docker_name not in after_services:
                plan["actions"].append("remove service %s" % docker_name)
        return {"services": after_services,
                "networks": sorted(o["docker_name"] for o in stack["networks"].values()),
                "secrets": sorted(o["docker_name"] for o in stack["secrets"].values()),
                "configs": sorted(o["docker_name"] for o in stack["configs"].values())}

    def normalise(self, stack, service):
        """What the spec hash covers: the validated service with pinned image and object versions."""
        out = dict((k, v) for k, v in service.items() if k not in ("secrets", "configs", "networks"))
        out["image"] = self.pin(service["image"])
        out["networks"] = sorted(stack["networks"][r["source"]]["docker_name"] for r in service["networks"])
        for kind in ("secrets", "configs"):
            out[kind] = [{"name": stack[kind][r["source"]]["docker_name"], "target": r["target"]}
                         for r in service[kind]]
        return out

    def update_order(self, normalised):
        """start-first, unless the service publishes host-mode ports and no node is left free for
        the new task to start beside the old one (every node could then only stop first)."""
        if not normalised["ports"]:
            return "start-first"
        if normalised["mode"] == "global":
            return "stop-first"
        eligible = [n for n in self.nodes if n["availability"] == "active"
                    and _matches(n["labels"], normalised["constraints"])]
        return "start-first" if normalised["replicas"] < len(eligible) else "stop-first"

    # --- applying ----------------------------------------------------------------------------
    def apply(self, plan):
        name, stack, current = plan["name"], plan["stack"], plan["current"]
        labels = {STACK_LABEL: name}
        if plan["state"] == "absent":
            return
        have = dict((n["Name"], n["Id"]) for n in current["networks"])
        for network in stack["networks"].values():
            if network["docker_name"] not in have:
                created = self.client.call("create network %s" % network["docker_name"], self.api.create_network,
                                           network["docker_name"], driver="overlay", labels=labels,
                                           attachable=network["attachable"], scope="swarm")
                have[network["docker_name"]] = created["Id"]
        ids = {"secrets": dict((s["Spec"]["Name"], s["ID"]) for s in current["secrets"]),
               "configs": dict((c["Spec"]["Name"], c["ID"]) for c in current["configs"])}
        for kind, create in (("secrets", self.api.create_secret), ("configs", self.api.create_config)):
            for obj in stack[kind].values():
                if obj["docker_name"] not in ids[kind]:
                    created = self.client.call("create %s %s" % (kind[:-1], obj["docker_name"]), create,
                                               obj["docker_name"], obj["data"].encode("utf-8"),
                                               labels=dict(labels, **{OBJECT_LABEL: obj["name"]}))
                    ids[kind][obj["docker_name"]] = created["ID"]
        for docker_name, normalised in plan["create"].items():
            spec = _service_spec(name, normalised, have, ids, self.update_order(normalised))
            created = self.client.call("create service %s" % docker_name, self.api.create_service, **spec)
            plan["touched"].append((docker_name, created["ID"], time.time(), normalised, True))
        for docker_name, (existing, normalised) in plan["update"].items():
            spec = _service_spec(name, normalised, have, ids, self.update_order(normalised))
            started = time.time()
            self._update_service(docker_name, existing, spec)
            plan["touched"].append((docker_name, existing["ID"], started, normalised, False))

    def _update_service(self, docker_name, existing, spec):
        """Update at the version read; Swarm bumps a service's version on its own (status updates while
        a node goes away), which fails the update "out of sequence": read the version again and retry."""
        version = existing["Version"]["Index"]
        for attempt in range(3):
            try:
                return self.client.call("update service %s" % docker_name, self.api.update_service, existing["ID"],
                                        version, **spec)
            except SwarmError as exc:
                if "out of sequence" not in exc.message or attempt == 2:
                    raise
            version = self.client.call("service %s" % docker_name, self.api.inspect_service,
                                       existing["ID"])["Version"]["Index"]

    def remove_services(self, plan):
        """After convergence: the services the stack no longer has (all of them when absent); their IDs."""
        keep = set(s["docker_name"] for s in plan["stack"]["services"]) if plan["state"] == "present" else set()
        removed = []
        for service in plan["current"]["services"]:
            if service["Spec"]["Name"] not in keep:
                self.client.call("remove service %s" % service["Spec"]["Name"], self.api.remove_service,
                                 service["ID"])
                removed.append(service["ID"])
        return removed

    def wait_tasks_gone(self, service_ids):
        """Until the tasks of removed services stopped: a node keeps its copy of an overlay network while
        a container is attached, and the swarm keeps the network while a node has a copy."""
        deadline = time.time() + min(120, self.wait_timeout)
        removed = set(service_ids)
        while True:
            alive = [t for t in self.client.call("task list", self.api.tasks)
                     if t.get("ServiceID") in removed and t["Status"]["State"] in _ALIVE]
            if not alive:
                return
            if time.time() > deadline:
                self.progress.append("%d task(s) of removed services still stopping; their networks may "
                                     "stay until they stopped" % len(alive))
                return
            time.sleep(1)

    def cleanup(self, plan):
        """After convergence: networks, secret and config versions the stack no longer uses."""
        stack, current = plan["stack"], plan["current"]
        wanted = dict((k, set(o["docker_name"] for o in stack.get(k, {}).values()))
                      for k in ("networks", "secrets", "configs"))
        for secret in current["secrets"]:
            if secret["Spec"]["Name"] not in wanted["secrets"]:
                self._retry("remove secret %s" % secret["Spec"]["Name"], self.api.remove_secret, secret["ID"])
        for config in current["configs"]:
            if config["Spec"]["Name"] not in wanted["configs"]:
                self._retry("remove config %s" % config["Spec"]["Name"], self.api.remove_config, config["ID"])
        for network in current["networks"]:
            if network["Name"] not in wanted["networks"]:
                self._retry("remove network %s" % network["Name"], self.api.remove_network, network["Id"])

    def _retry(self, what, func, *args):
        """Removals race the shutdown of old tasks ("in use", "active endpoints"): retry a while."""
        deadline = time.time() + min(60, self.wait_timeout)
        while True:
            try:
                return self.client.call(what, func, *args)
            except SwarmError as exc:
                if "not found" in exc.message.lower():
                    return None
                if time.time() > deadline or "in use" not in exc.message.lower() and "active endpoints" \
                        not in exc.message.lower():
                    raise
                time.sleep(1)

    def find_unsettled(self, plans):
        """Services this run leaves as they are although an earlier run left them unsettled (it was
        killed while it waited, or ran with wait=false): see unsettled_reason. One task list for the
        whole batch; each is reported in `unsettled` and, outside check mode, waited for and judged
        like a service this run changed, so an unhealthy service never counts as converged."""
        kept = [(plan, name, existing, normalised) for plan in plans
                for name, (existing, normalised) in sorted(plan["kept"].items())]
        if not kept:
            return
        tasks = self.client.call("task list", self.api.tasks, filters={"service": [k[2]["ID"] for k in kept]})
        by_service = {}
        for task in tasks:
            by_service.setdefault(task.get("ServiceID"), []).append(task)
        now = time.time()
        for plan, name, existing, normalised in kept:
            reason = unsettled_reason(existing, by_service.get(existing["ID"], []), normalised, now)
            if reason:
                plan["unsettled"].append("service %s: %s" % (name, reason))
                update = existing.get("UpdateStatus") or {}
                started = docker_time(update.get("StartedAt")) or docker_time(existing.get("UpdatedAt"))
                plan["recheck"].append((name, existing["ID"], started, normalised, not existing.get("PreviousSpec")))

    # --- waiting -----------------------------------------------------------------------------------
    def wait_converged(self, touched):
        deadline = time.time() + self.wait_timeout
        pending = list(touched)
        while pending:
            still = []
            services, tasks = self._poll(pending)
            for item in pending:
                done, note = self._converged(services, tasks, *item)
                if not done:
                    still.append(item)
                if note and (not self.progress or self.progress[-1] != note):
                    self.progress.append(note)
            pending = still
            if pending and time.time() > deadline:
                services, tasks = self._poll(pending)
                raise NotConverged("did not converge within %ss: %s" % (
                    self.wait_timeout, "; ".join(self._converged(services, tasks, *i)[1] for i in pending)),
                    hint="Check the tasks with esa.s2p.swarm_stack_info or docker service ps")
            if pending:
                time.sleep(1)

    def _poll(self, pending):
        """The pending services and their tasks in two calls per round, whatever their number (a
        service and a task list per service made the wait of a first run 2 calls per service and
        second): ({service ID: service}, {service ID: [tasks]})."""
        ids = [item[1] for item in pending]
        listed = self.client.call("service list", self.api.services, filters={"id": ids})
        services = dict((s["ID"], s) for s in listed)
        tasks = {}
        for task in self.client.call("task list", self.api.tasks, filters={"service": ids}):
            tasks.setdefault(task["ServiceID"], []).append(task)
        return services, tasks

    def _converged(self, services, all_tasks, name, service_id, started, normalised, new=False):
        service = services.get(service_id)
        if service is None:  # removed meanwhile: the inspection fails with the daemon's own words
            service = self.client.call("service %s" % name, self.api.inspect_service, service_id)
        update = service.get("UpdateStatus") or {}
        state = update.get("State")
        fresh = update and docker_time(update.get("StartedAt")) >= started - 2
        if fresh and state in ("rollback_started", "rollback_completed", "rollback_paused", "paused"):
            if state == "rollback_started":
                return False, "%s: Swarm is rolling the update back (%s)" % (name, update.get("Message"))
            raise NotConverged("Swarm rolled back service %s: %s" % (name, update.get("Message") or state),
                               hint="The previous version keeps running; fix the image, command or healthcheck "
                                    "and deploy again")
        tasks = all_tasks.get(service_id, [])
        expected = normalised["replicas"] if normalised["mode"] == "replicated" else None
        current, running = running_tasks(tasks, normalised)
        settling = self._settling(running, normalised["update"]["monitor"])
        if fresh and state in ("updating", "rollback_started"):
            return False, "%s: updating (%d/%s running)" % (name, len(running), expected or len(current))
        recent = [t for t in tasks if docker_time(t.get("CreatedAt")) >= started - 2]
        failed = [t for t in recent if t["Status"]["State"] in ("failed", "rejected")]
        if len(failed) >= max(3, 2 * (expected or 1)):
            last = sorted(failed, key=lambda t: t.get("UpdatedAt", ""))[-1]
            reason = last["Status"].get("Err") or last["Status"].get("Message")
            if new:
                raise NotConverged("new service %s never became healthy and there is no previous version to "
                                   "roll back to: its tasks keep failing (%d failed): %s" % (name, len(failed), reason),
                                   hint="The service stays deployed and Swarm keeps restarting its tasks; fix the "
                                        "image, command, healthcheck or placement and deploy again, or remove the "
                                        "stack with state absent")
            raise NotConverged("tasks of service %s keep failing (%d failed): %s" % (name, len(failed), reason),
                               hint="Fix the image, command, healthcheck or placement and deploy again")
        stopping = [t for t in tasks if t["DesiredState"] != "running" and t["Status"]["State"] in _ALIVE]
        if expected is not None:
            done = len(running) == expected and len(current) == expected and not stopping
        else:
            done = bool(current) and len(running) == len(current) and not stopping
        note = "%s: %d/%s running" % (name, len(running), expected if expected is not None else len(current))
        if done and settling:
            monitor = normalised["update"]["monitor"]
            return False, note + " (%d for less than the %gs monitor period)" % (settling, monitor)
        return done, note

    def _settling(self, running, monitor):
        """How many running tasks this run has seen running for less than the monitor period.

        A task whose command exits at once is "running" for a few milliseconds before it fails: a
        new service (Swarm monitors only updates) counts as healthy only once each task has kept
        running for update.monitor seconds, the period Swarm itself uses for updates."""
        now = time.time()
        return sum(1 for t in running if now - self._running_since.setdefault(t["ID"], now) < monitor)


def running_tasks(tasks, normalised):
    """(the tasks Swarm wants running, those of them running the wanted spec)."""
    wanted = spec_hash(normalised)
    current = [t for t in tasks if t["DesiredState"] == "running"]
    running = [t for t in current if t["Status"]["State"] == "running"
               and (t["Spec"]["ContainerSpec"].get("Labels") or {}).get(HASH_LABEL) == wanted]
    return current, running


def unsettled_reason(service, tasks, normalised, now, recent=RECENT_FAILURES):
    """Why a service whose spec is already the wanted one is not settled, or None: its update is
    still running or paused, fewer tasks run the wanted spec than it should, or some of its tasks
    failed in the last `recent` seconds (a service in a restart loop)."""
    update = service.get("UpdateStatus") or {}
    if update.get("State") in UNSETTLED_UPDATES:
        message = update.get("Message")
        return "its update is %s%s" % (update["State"].replace("_", " "), " (%s)" % message if message else "")
    current, running = running_tasks(tasks, normalised)
    expected = normalised["replicas"] if normalised["mode"] == "replicated" else len(current)
    if len(running) < expected:
        return "%d of %d tasks running" % (len(running), expected)
    failed = [t for t in tasks if t["Status"]["State"] in ("failed", "rejected")
              and docker_time(t.get("UpdatedAt")) >= now - recent]
    if failed:
        return "%d task(s) failed in the last %ds" % (len(failed), recent)
    return None


def docker_time(text):
    """Seconds since the epoch of a Docker timestamp (nanoseconds dropped); 0 when absent."""
    if not text:
        return 0
    text = text.split(".")[0].rstrip("Z")
    try:
        moment = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return 0
    return (moment - datetime.datetime(1970, 1, 1)).total_seconds()


def _matches(labels, constraints):
    """Whether a node with `labels` passes the node.labels.* constraints (others are not judged here)."""
    for constraint in constraints:
        op = "!=" if "!=" in constraint else "=="
        key, value = [part.strip() for part in constraint.split(op, 1)]
        if not key.startswith("node.labels."):
            continue
        actual = labels.get(key[len("node.labels."):])
        if (actual == value) != (op == "=="):
            return False
    return True


def _spec_of(service):
    """The normalised spec we stored on a service, for diffs, with the replicas and image it has
    now (changed by hand, they differ); services not made here: their image."""
    labels = service["Spec"].get("Labels") or {}
    live_image = service["Spec"]["TaskTemplate"]["ContainerSpec"].get("Image")
    try:
        spec = json.loads(labels[SPEC_LABEL])
    except (KeyError, ValueError):
        return {"image": live_image}
    replicas = _live_replicas(service)
    if spec.get("mode") == "replicated" and replicas is not None:
        spec["replicas"] = replicas
    if spec.get("image") != live_image and _image_drifted(live_image, spec.get("image")):
        spec["image"] = live_image
    return spec


def _live_replicas(service):
    return ((service["Spec"].get("Mode") or {}).get("Replicated") or {}).get("Replicas")


def _image_drifted(live, wanted):
    """A tag-only wanted image matches a live `tag@digest` (what `docker service` resolves)."""
    live = live or ""
    if "@" not in (wanted or ""):
        live = live.split("@")[0]
    return live != wanted


def live_changes(existing, normalised):
    """What was changed on a service behind the collection's back that the spec hash label
    cannot show (`docker service scale`, `docker service update --image`): one phrase each."""
    out = []
    if normalised["mode"] == "replicated":
        replicas = _live_replicas(existing)
        if replicas != normalised["replicas"]:
            out.append("%s replicas, not %d" % (replicas, normalised["replicas"]))
    elif "Global" not in (existing["Spec"].get("Mode") or {}):
        out.append("not global")
    image = existing["Spec"]["TaskTemplate"]["ContainerSpec"].get("Image")
    if _image_drifted(image, normalised["image"]):
        out.append("image %s, not %s" % (image, normalised["image"]))
    return out


def _service_spec(stack, normalised, networks, ids, order="start-first"):
    """Keyword arguments of APIClient.create_service/update_service for a normalised service."""
    health = normalised["healthcheck"]
    container = {"Image": normalised["image"], "Env": normalised["env"],
                 "Labels": {STACK_LABEL: stack, HASH_LABEL: spec_hash(normalised)},
                 "StopGracePeriod": int(normalised["stop_grace_period"] * NS)}
    if normalised["command"]:
        container["Command"] = normalised["command"]
    if normalised["args"]:
        container["Args"] = normalised["args"]
    if health:
        container["Healthcheck"] = {"Test": health["test"], "Interval": int(health["interval"] * NS),
                                    "Timeout": int(health["timeout"] * NS), "Retries": health["retries"],
                                    "StartPeriod": int(health["start_period"] * NS)}
    for kind, key, id_key, name_key in (("secrets", "Secrets", "SecretID", "SecretName"),
                                        ("configs", "Configs", "ConfigID", "ConfigName")):
        refs = []
        for ref in normalised[kind]:
            target = ref["target"]
            refs.append({"File": {"Name": target, "UID": "0", "GID": "0", "Mode": 0o444},
                         id_key: ids[kind].get(ref["name"], ref["name"]), name_key: ref["name"]})
        if refs:
            container[key] = refs
    resources = {}
    res = normalised["resources"]
    for section, cpus, memory in (("Limits", "limit_cpus", "limit_memory"),
                                  ("Reservations", "reserve_cpus", "reserve_memory")):
        part = {}
        if res.get(cpus):
            part["NanoCPUs"] = int(res[cpus] * NS)
        if res.get(memory):
            part["MemoryBytes"] = res[memory]
        if part:
            resources[section] = part
    task = {"ContainerSpec": container, "RestartPolicy": {"Condition": "any", "Delay": 5 * NS},
            "Placement": {"Constraints": normalised["constraints"],
                          "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.site"}}]},
            "Networks": [{"Target": networks.get(n, n), "Aliases": [normalised["name"]]}
                         for n in normalised["networks"]]}
    if resources:
        task["Resources"] = resources
    update = normalised["update"]
    mode = ({"Replicated": {"Replicas": normalised["replicas"]}} if normalised["mode"] == "replicated"
            else {"Global": {}})
    labels = dict(normalised["labels"])
    labels.update({STACK_LABEL: stack, SPEC_LABEL: json.dumps(normalised, sort_keys=True),
                   HASH_LABEL: spec_hash(normalised)})
    return {
        "task_template": task, "name": normalised["docker_name"], "labels": labels, "mode": mode,
        "update_config": {"Parallelism": update["parallelism"], "Delay": int(update["delay"] * NS),
                          "FailureAction": "rollback", "Monitor": int(update["monitor"] * NS),
                          "MaxFailureRatio": update["max_failure_ratio"], "Order": order},
        "rollback_config": {"Parallelism": update["parallelism"], "Delay": 0, "FailureAction": "pause",
                            "Monitor": int(update["monitor"] * NS), "MaxFailureRatio": 0, "Order": "stop-first"},
        "endpoint_spec": {"Mode": "vip",
                          "Ports": [{"Protocol": p["protocol"], "TargetPort": p["target"],
                                     "PublishedPort": p["published"], "PublishMode": "host"}
                                    for p in normalised["ports"]]},
    }
