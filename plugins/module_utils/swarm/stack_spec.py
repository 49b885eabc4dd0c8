# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation and normalisation of a batch of swarm stacks (pure Python, no Docker calls).

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

validate_stacks() checks the WHOLE batch and raises one ValidationError listing every
problem (item and field named) before anything is sent to a daemon. What it returns is
the normalised form the stack engine (swarm/stack.py) deploys and hashes: the same
input always gives the same normalised service, so a spec hash decides what changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re

from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems
from ansible_collections.esa.s2p.plugins.module_utils.model.naming import name_error, type_name
from ansible_collections.esa.s2p.plugins.module_utils.swarm.secrets import check_generate, value_version

DEFAULT_SITES = ("esoc", "esec", "esrin")
STACK_LABEL = "com.docker.stack.namespace"  # the label docker stack deploy uses: the CLI sees our stacks
SPEC_LABEL = "esa.s2p.spec"
HASH_LABEL = "esa.s2p.spec-hash"
OBJECT_LABEL = "esa.s2p.name"  # a secret's or config's name in the stack, without its version
MAX_SERVICE_NAME = 63
MAX_OBJECT_NAME = 64  # swarmkit's limit on secret and config names (their version suffix included)

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(
    r"^(?:(?P<domain>(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"(?::[0-9]+)?)/)?"
    r"(?P<path>" + _COMPONENT + r"(?:/" + _COMPONENT + r")*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$")
_MEMORY = re.compile(r"^([0-9]+)\s*([kmgKMG]?)[bB]?$")
_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_VAULT_PATH = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$")
_PROTOCOLS = ("tcp", "udp")
_MODES = ("replicated", "global")
_STATES = ("present", "absent")

_STACK_KEYS = ("name", "state", "services", "networks", "secrets", "configs")
_SERVICE_KEYS = ("name", "image", "mode", "replicas", "command", "args", "env", "ports", "healthcheck",
                 "resources", "sites", "constraints", "networks", "secrets", "configs", "update", "labels",
                 "stop_grace_period")


def parse_image(ref):
    """{domain, path, tag, digest} of a Docker image reference, or None when it is not one."""
    if not isinstance(ref, str):
        return None
    match = _IMAGE.match(ref)
    if not match or len(ref) > 255:
        return None
    return match.groupdict()


def content_hash(data):
    """Short content hash naming one version of a secret or config."""
    if not isinstance(data, bytes):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:12]


def spec_hash(normalised):
    return hashlib.sha256(json.dumps(normalised, sort_keys=True).encode("utf-8")).hexdigest()


def parse_memory(value):
    """Bytes from an integer or '64M'/'1G'/'512k' (binary units); None when invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    match = _MEMORY.match(str(value).strip()) if isinstance(value, str) else None
    if not match or int(match.group(1)) <= 0:
        return None
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


class _Checker(Problems):
    """Problems with the checks of a stack's fields; each returns the clean value (or a default)."""

    def name(self, where, kind, value):
        return self.check(where, name_error(kind, value))

    def keys(self, where, item, allowed):
        unknown = sorted(set(item) - set(allowed))
        if unknown:
            self.add(where, "unknown key(s) %s (known: %s)" % (", ".join(unknown), ", ".join(allowed)))

    def number(self, where, value, minimum=0, maximum=None, kind=int, default=None):
        if value is None:
            return default
        ok = isinstance(value, (int, float) if kind is float else int) and not isinstance(value, bool)
        if not ok or value < minimum or (maximum is not None and value > maximum):
            bounds = ">= %s" % minimum if maximum is None else "from %s to %s" % (minimum, maximum)
            self.add(where, "must be %s %s, got %r" % ("a number" if kind is float else "an integer", bounds, value))
            return default
        return value

    def strings(self, where, value):
        if value is None:
            return None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(where, "must be a list of strings, got %s" % type_name(value))
            return None
        return list(value)

    def mapping(self, where, value):
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(where, "must be a mapping, got %s" % type_name(value))
            return {}
        return value


def validate_stacks(stacks, known_sites=DEFAULT_SITES, name_key=None):
    """The normalised batch, or ValidationError listing every problem of every stack.

    name_key: the key of the names of secrets given as values (secrets.value_version)."""
    check = _Checker()
    if not isinstance(stacks, list):
        check.fail("stacks", "must be a list, got %s" % type_name(stacks))
    result, seen, published = [], set(), {}
    for index, stack in enumerate(stacks):
        where = "stacks[%d]" % index
        if not isinstance(stack, dict):
            check.add(where, "must be a mapping, got %s" % type_name(stack))
            continue
        if isinstance(stack.get("name"), str):
            where = "stack %s" % stack["name"]
        normalised = _stack(check, where, stack, known_sites, published, name_key)
        if normalised is None:
            continue
        if normalised["name"] in seen:
            check.add(where, "listed twice in the batch")
        seen.add(normalised["name"])
        result.append(normalised)
    check.raise_if_any()
    return result


def _stack(check, where, stack, known_sites, published, name_key):
    check.keys(where, stack, _STACK_KEYS)
    name = stack.get("name")
    if not check.name("%s: name" % where, "service", name):
        return None
    state = stack.get("state", "present")
    if state not in _STATES:
        check.add(where, "state must be one of %s, got %r" % (", ".join(_STATES), state))
    out = {"name": name, "state": state, "services": [], "networks": {}, "secrets": {}, "configs": {}}
    if state == "absent":
        return out
    for field in ("networks", "secrets", "configs"):
        out[field] = _objects(check, where, name, field, stack.get(field), name_key)
    services = stack.get("services")
    if not isinstance(services, list) or not services:
        check.add(where, "services: a present stack needs a non-empty list of services")
        return out
    names = set()
    for index, service in enumerate(services):
        swhere = "%s: services[%d]" % (where, index)
        if isinstance(service, dict) and isinstance(service.get("name"), str):
            swhere = "%s: service %s" % (where, service["name"])
        normalised = _service(check, swhere, name, service, out, known_sites, published)
        if normalised is None:
            continue
        if normalised["name"] in names:
            check.add(swhere, "service name listed twice in the stack")
        names.add(normalised["name"])
        out["services"].append(normalised)
    for service in out["services"]:
        if not service["networks"]:
            # Like docker stack deploy: a service on no network joins <stack>_default (without any
            # network a task has no interface, so its host-mode ports cannot be published either).
            out["networks"].setdefault("default", {"name": "default", "docker_name": "%s_default" % name,
                                                   "attachable": False})
            service["networks"] = [{"source": "default"}]
    return out


def _objects(check, where, stack, field, value, name_key=None):
    """networks/secrets/configs of a stack: {name: {...}} with the Docker object name."""
    found = {}
    if value is None:
        return found
    if not isinstance(value, list):
        check.add("%s: %s" % (where, field), "must be a list, got %s" % type_name(value))
        return found
    for index, item in enumerate(value):
        owhere = "%s: %s[%d]" % (where, field, index)
        if isinstance(item, str) and field == "networks":
            item = {"name": item}
        if isinstance(item, dict):  # options the module left unset arrive as None
            item = dict((k, v) for k, v in item.items() if v is not None)
        if not isinstance(item, dict):
            check.add(owhere, "must be a mapping, got %s" % type_name(item))
            continue
        name = item.get("name")
        if not check.name(owhere + ": name", "secret" if field != "networks" else "service", name):
            continue
        owhere = "%s: %s %s" % (where, field[:-1], name)
        if name in found:
            check.add(owhere, "listed twice")
        longest = "%s_%s_%s" % (stack, name, "v9999-12345678" if field == "secrets" else "123456789012")
        if field != "networks" and len(longest) > MAX_OBJECT_NAME:
            check.add(owhere, "Docker names such as %s would be longer than %d characters: shorten the stack or %s "
                      "name" % (longest, MAX_OBJECT_NAME, field[:-1]))
        if field == "networks":
            check.keys(owhere, item, ("name", "driver", "attachable"))
            driver = item.get("driver", "overlay")
            if driver != "overlay":
                check.add(owhere, "driver must be overlay (swarm services span nodes), got %r" % driver)
            found[name] = {"name": name, "docker_name": "%s_%s" % (stack, name),
                           "attachable": bool(item.get("attachable", False))}
            continue
        key = "value" if field == "secrets" else "data"
        if field == "secrets" and item.get("vault_path") is not None:
            check.keys(owhere, item, ("name", "vault_path", "vault_field", "generate"))
            found[name] = _vault_secret(check, owhere, name, item)
            continue
        check.keys(owhere, item, ("name", key, "generate") if field == "secrets" else ("name", key))
        if field == "secrets" and item.get("generate") is not None:
            check.add(owhere + ": generate", "needs vault_path (a generated value is kept in Vault)")
            continue
        data = item.get(key)
        if not isinstance(data, str) or data == "":
            check.add(owhere, "%s must be a non-empty string%s" % (
                key, " (or give vault_path to read it from Vault)" if field == "secrets" else ""))
            continue
        found[name] = value_version(stack, name, data, name_key) if field == "secrets" else _version(stack, name, data)
    return found


def _version(stack, name, data):
    """One version of a config: its Docker name carries the hash of its content (configs are not secret)."""
    version = content_hash(data)
    return {"name": name, "hash": version, "docker_name": "%s_%s_%s" % (stack, name, version), "data": data}


def _vault_secret(check, where, name, item):
    """A secret whose value is read from Vault KV v2 later (fill_vault_secrets); data unknown yet."""
    path, field = item.get("vault_path"), item.get("vault_field") or "value"
    if not isinstance(path, str) or not _VAULT_PATH.match(path) or ".." in path.split("/"):
        check.add(where + ": vault_path", "%r is not a KV path inside the mount such as pd/neocc/ire/db-password "
                  "(filter esa.s2p.vault_path)" % (path,))
    if not isinstance(field, str) or not field:
        check.add(where + ": vault_field", "must be a non-empty string, got %r" % (field,))
    generate = check_generate(check.add, where + ": generate", item.get("generate"))
    return {"name": name, "vault_path": path, "vault_field": field, "generate": generate, "docker_name": None,
            "data": None}


def _service(check, where, stack, service, out, known_sites, published):
    if not isinstance(service, dict):
        check.add(where, "must be a mapping, got %s" % type_name(service))
        return None
    check.keys(where, service, _SERVICE_KEYS)
    name = service.get("name")
    if not check.name(where + ": name", "service", name):
        return None
    docker_name = "%s_%s" % (stack, name)
    if len(docker_name) > MAX_SERVICE_NAME:
        check.add(where, "service name %s is longer than %d characters" % (docker_name, MAX_SERVICE_NAME))
    image = service.get("image")
    if parse_image(image) is None:
        check.add(where + ": image", "%r is not a valid image reference (registry/path:tag or @sha256:digest)"
                  % (image,))
    mode = service.get("mode", "replicated")
    if mode not in _MODES:
        check.add(where + ": mode", "must be one of %s, got %r" % (", ".join(_MODES), mode))
    replicas = service.get("replicas")
    if mode == "global" and replicas is not None:
        check.add(where + ": replicas", "a global service runs one task per node and takes no replicas")
    replicas = check.number(where + ": replicas", replicas, 0, 1000, default=1) if mode != "global" else None
    env = check.mapping(where + ": env", service.get("env"))
    bad_keys = sorted(str(k) for k in env if not (isinstance(k, str) and _ENV_KEY.match(k)))
    if bad_keys:
        check.add(where + ": env", "invalid variable name(s) %s" % ", ".join(bad_keys))
    bad_values = sorted(str(k) for k, v in env.items() if isinstance(v, (dict, list)) or v is None)
    if bad_values:
        check.add(where + ": env", "value(s) of %s must be strings or numbers" % ", ".join(bad_values))
    labels = check.mapping(where + ": labels", service.get("labels"))
    normalised = {
        "name": name, "docker_name": docker_name, "image": image, "mode": mode, "replicas": replicas,
        "command": check.strings(where + ": command", service.get("command")),
        "args": check.strings(where + ": args", service.get("args")),
        "env": sorted("%s=%s" % (k, _env_value(v)) for k, v in env.items() if k not in bad_values),
        "labels": dict((str(k), str(v)) for k, v in labels.items()),
        "ports": _ports(check, where, stack, service.get("ports"), published),
        "healthcheck": _healthcheck(check, where, service.get("healthcheck")),
        "resources": _resources(check, where, service.get("resources")),
        "constraints": _placement(check, where, service, known_sites),
        "networks": _refs(check, where, "networks", service.get("networks"), out["networks"], target=False),
        "secrets": _refs(check, where, "secrets", service.get("secrets"), out["secrets"]),
        "configs": _refs(check, where, "configs", service.get("configs"), out["configs"]),
        "update": _update(check, where, service.get("update")),
        "stop_grace_period": check.number(where + ": stop_grace_period", service.get("stop_grace_period"),
                                          0, 3600, kind=float, default=10),
    }
    return normalised


def _env_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _ports(check, where, stack, value, published):
    ports = []
    if value is None:
        return ports
    if not isinstance(value, list):
        check.add(where + ": ports", "must be a list, got %s" % type_name(value))
        return ports
    for index, port in enumerate(value):
        pwhere = "%s: ports[%d]" % (where, index)
        if not isinstance(port, dict):
            check.add(pwhere, "must be a mapping with published and target, got %s" % type_name(port))
            continue
        check.keys(pwhere, port, ("published", "target", "protocol"))
        target = check.number(pwhere + ": target", port.get("target"), 1, 65535)
        public = check.number(pwhere + ": published", port.get("published"), 1, 65535)
        protocol = port.get("protocol", "tcp")
        if protocol not in _PROTOCOLS:
            check.add(pwhere + ": protocol", "must be tcp or udp, got %r" % (protocol,))
        if target is None or public is None:
            if port.get("target") is None or port.get("published") is None:
                check.add(pwhere, "needs both published and target")
            continue
        key = (public, protocol)
        if key in published:
            check.add(pwhere, "published port %d/%s is already used by %s (host-mode ports are per node)"
                      % (public, protocol, published[key]))
        published[key] = "%s_%s" % (stack, where.rsplit("service ", 1)[-1])
        ports.append({"published": public, "target": target, "protocol": protocol})
    return ports


def _healthcheck(check, where, value):
    if value is None:
        return None
    hwhere = where + ": healthcheck"
    if not isinstance(value, dict):
        check.add(hwhere, "must be a mapping, got %s" % type_name(value))
        return None
    check.keys(hwhere, value, ("test", "interval", "timeout", "retries", "start_period"))
    test = check.strings(hwhere + ": test", value.get("test"))
    if not test:
        check.add(hwhere + ": test", "needs a command, e.g. [CMD, wget, -q, -O-, http://127.0.0.1:8080/]")
    elif test[0] not in ("CMD", "CMD-SHELL", "NONE"):
        test = ["CMD-SHELL", " ".join(test)] if len(test) == 1 else ["CMD"] + test
    return {
        "test": test,
        "interval": check.number(hwhere + ": interval", value.get("interval"), 1, 3600, float, 10),
        "timeout": check.number(hwhere + ": timeout", value.get("timeout"), 1, 3600, float, 5),
        "retries": check.number(hwhere + ": retries", value.get("retries"), 1, 100, int, 3),
        "start_period": check.number(hwhere + ": start_period", value.get("start_period"), 0, 3600, float, 0),
    }


def _resources(check, where, value):
    rwhere = where + ": resources"
    value = check.mapping(rwhere, value)
    check.keys(rwhere, value, ("limit_cpus", "limit_memory", "reserve_cpus", "reserve_memory"))
    out = {}
    for key in ("limit_cpus", "reserve_cpus"):
        if value.get(key) is not None:
            out[key] = check.number("%s: %s" % (rwhere, key), value[key], 0.01, 256, float)
    for key in ("limit_memory", "reserve_memory"):
        if value.get(key) is not None:
            out[key] = parse_memory(value[key])
            if out[key] is None:
                check.add("%s: %s" % (rwhere, key), "must be a size such as 64M or 1G, got %r" % (value[key],))
    return out


def _placement(check, where, service, known_sites):
    """Constraints: sites become node.labels.site != <each other site> (swarm ANDs constraints)."""
    sites = check.strings(where + ": sites", service.get("sites"))
    constraints = check.strings(where + ": constraints", service.get("constraints")) or []
    if sites is not None:
        unknown = sorted(set(sites) - set(known_sites))
        if unknown:
            check.add(where + ": sites", "unknown site label(s) %s (known: %s)" % (
                ", ".join(unknown), ", ".join(known_sites)))
        elif not sites:
            check.add(where + ": sites", "must name at least one site")
        else:
            constraints = constraints + ["node.labels.site!=%s" % s for s in sorted(known_sites) if s not in sites]
    for constraint in constraints:
        if not re.match(r"^[\w.-]+\s*(==|!=)\s*\S+$", constraint):
            check.add(where + ": constraints", "%r is not a placement constraint (node.labels.x==y)" % constraint)
    return sorted(set(constraints))


def _refs(check, where, field, value, defined, target=True):
    refs = []
    for index, item in enumerate(value or []):
        if isinstance(item, str):
            item = {"source": item}
        if not isinstance(item, dict) or not isinstance(item.get("source"), str):
            check.add("%s: %s[%d]" % (where, field, index), "must be a name or a mapping with source")
            continue
        if item["source"] not in defined:
            check.add("%s: %s" % (where, field), "unknown %s %r (the stack defines: %s)" % (
                field[:-1], item["source"], ", ".join(sorted(defined)) or "none"))
            continue
        ref = {"source": item["source"]}
        if target:
            ref["target"] = str(item.get("target") or (item["source"] if field == "secrets"
                                                       else "/" + item["source"]))
        refs.append(ref)
    if value is not None and not isinstance(value, list):
        check.add("%s: %s" % (where, field), "must be a list, got %s" % type_name(value))
    return refs


def _update(check, where, value):
    uwhere = where + ": update"
    value = check.mapping(uwhere, value)
    check.keys(uwhere, value, ("parallelism", "delay", "monitor", "max_failure_ratio"))
    return {
        "parallelism": check.number(uwhere + ": parallelism", value.get("parallelism"), 0, 100, int, 1),
        "delay": check.number(uwhere + ": delay", value.get("delay"), 0, 3600, float, 0),
        "monitor": check.number(uwhere + ": monitor", value.get("monitor"), 0, 3600, float, 10),
        "max_failure_ratio": check.number(uwhere + ": max_failure_ratio", value.get("max_failure_ratio"),
                                          0, 1, float, 0),
    }
