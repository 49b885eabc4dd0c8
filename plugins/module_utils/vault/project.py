# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Least-privilege Vault access per project environment: the policy text, the AppRole settings,
and the plan against what Vault holds. Pure Python (the client is passed in).

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

The policy of <project>/<env> (named by naming.vault_policy_name) grants read on the KV v2 data
and read/list on the metadata under the project environment's own folder (the folder of
naming.vault_kv_path), nothing else; the AppRole of the same name carries only that policy,
with bounded secret_id TTL and uses.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.esa.s2p.plugins.module_utils.core.concurrency import bounded_map_or_raise
from ansible_collections.esa.s2p.plugins.module_utils.model import naming
from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems, item_path

DURATION = re.compile(r"^(\d+)([smhd]?)$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_SECRET_ID_TTL = 30 * 86400
MAX_SECRET_ID_USES = 1000
ROLE_FIELDS = ("token_policies", "secret_id_ttl", "secret_id_num_uses", "token_ttl", "token_max_ttl",
               "bind_secret_id")


def seconds(value):
    """A Vault duration (3600, "90m", "24h", "7d") in seconds, or None when it is not one."""
    match = DURATION.match(str(value)) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    return int(match.group(1)) * UNITS[match.group(2)] if match else None


def project_folder(segment, project, env):
    """The KV folder of a project environment, from the naming rule of its secrets' paths."""
    return naming.vault_kv_path(segment, project, env, "x").rsplit("/", 1)[0]


def policy_text(mount, folder):
    return ('# Managed by esa.s2p.vault_project: read-only access to one project environment.\n'
            'path "{m}/data/{f}/*" {{\n  capabilities = ["read"]\n}}\n'
            'path "{m}/metadata/{f}/*" {{\n  capabilities = ["read", "list"]\n}}\n'
            'path "{m}/metadata/{f}" {{\n  capabilities = ["list"]\n}}\n').format(m=mount, f=folder)


def validate(items, mount):
    errors, out, seen = Problems(), [], {}
    for index, item in enumerate(items):
        where = item_path("projects", index)
        try:
            naming.check_mount(mount, "mount")
            name = naming.vault_policy_name(item.get("project"), item.get("environment"))
            folder = project_folder(item.get("segment"), item.get("project"), item.get("environment"))
        except naming.NamingError as exc:
            errors.add("%s.%s" % (where, exc.obj), exc.message)
            continue
        where = item_path("projects", index, name)
        settings = {"token_policies": [name], "bind_secret_id": True}
        for field, maximum in (("secret_id_ttl", MAX_SECRET_ID_TTL), ("token_ttl", None), ("token_max_ttl", None)):
            value = seconds(item.get(field))
            if value is None or value < 1 or (maximum and value > maximum):
                errors.add("%s.%s" % (where, field), "%r is not a duration from 1s%s (e.g. 3600, 90m, 24h)" % (
                    item.get(field), " to %dd" % (maximum // 86400) if maximum else ""))
            settings[field] = value
        uses = item.get("secret_id_num_uses")
        if isinstance(uses, bool) or not isinstance(uses, int) or not 1 <= uses <= MAX_SECRET_ID_USES:
            errors.add(where + ".secret_id_num_uses", "must be from 1 to %d (0, unlimited, is not allowed), got %r"
                       % (MAX_SECRET_ID_USES, uses))
        settings["secret_id_num_uses"] = uses
        if (settings["token_ttl"] or 0) > (settings["token_max_ttl"] or 0) and settings["token_max_ttl"]:
            errors.add(where + ".token_ttl", "longer than token_max_ttl")
        if name in seen:
            errors.add(where, "%s is already %s" % (name, seen[name]))
        seen[name] = where
        out.append({"name": name, "where": where, "state": item.get("state") or "present",
                    "policy": policy_text(mount, folder), "settings": settings, "folder": folder})
    errors.raise_if_any()
    return out


def role_differences(wanted, current):
    """Names of the AppRole fields that differ (None current: the role does not exist)."""
    if current is None:
        return list(ROLE_FIELDS)
    return [f for f in ROLE_FIELDS if (sorted(current.get(f) or []) if f == "token_policies" else current.get(f))
            != (sorted(wanted[f]) if f == "token_policies" else wanted[f])]


# Reads in flight at once: Vault has no bulk read of policies, AppRoles or role IDs, so each
# project environment costs its own requests; a few at a time keep that from adding up.
WORKERS = 8


def plan(vault, items):
    plans = []
    current = bounded_map_or_raise(lambda item: (vault.policy_read(item["name"]), vault.approle_read(item["name"])),
                                   items, WORKERS)
    for item, (policy, role) in zip(items, current):
        if item["state"] == "absent":
            action = "delete" if policy is not None or role is not None else "none"
            plans.append(dict(item=item, action=action, policy_changes=policy is not None,
                              role_changes=[] if role is None else ["delete"],
                              before={"policy": policy, "role": _shown(role)}, after={}))
            continue
        policy_changes = (policy or "").strip() != item["policy"].strip()
        role_changes = role_differences(item["settings"], role)
        if not (policy_changes or role_changes):
            action = "none"
        else:
            action = "create" if policy is None and role is None else "update"
        plans.append(dict(item=item, action=action, policy_changes=policy_changes, role_changes=role_changes,
                          before={"policy": policy, "role": _shown(role)},
                          after={"policy": item["policy"], "role": dict(item["settings"])}))
    return plans


def _shown(role):
    return None if role is None else dict((f, role.get(f)) for f in ROLE_FIELDS)


def apply(vault, plans):
    for p in plans:
        name = p["item"]["name"]
        if p["action"] == "delete":
            if p["role_changes"]:
                vault.approle_delete(name)
            if p["policy_changes"]:
                vault.policy_delete(name)
        elif p["action"] in ("create", "update"):
            if p["policy_changes"]:
                vault.policy_write(name, p["item"]["policy"])
            if p["role_changes"]:
                vault.approle_write(name, p["item"]["settings"])


def converge(vault, items, write, role_ids=True):
    """The vault_project batch over one login: plan, apply when `write` (not in check mode), and
    read the AppRoles' role IDs when `role_ids`. Returns (changed, result, diff) for
    vault.adapter.run_batch."""
    plans = plan(vault, items)
    changed = any(p["action"] != "none" for p in plans)
    if changed and write:
        apply(vault, plans)
    found = {}
    if role_ids:
        names = [p["item"]["name"] for p in plans
                 if p["item"]["state"] == "present" and (p["action"] == "none" or write)]
        found = dict(zip(names, bounded_map_or_raise(vault.approle_role_id, names, WORKERS)))
    result = dict(projects=[dict(name=p["item"]["name"], folder=p["item"]["folder"], action=p["action"],
                                 **({"role_id": found.get(p["item"]["name"])} if role_ids else {})) for p in plans])
    diff = dict(before=dict((p["item"]["name"], p["before"]) for p in plans if p["action"] != "none"),
                after=dict((p["item"]["name"], p["after"]) for p in plans if p["action"] != "none"))
    return changed, result, diff
