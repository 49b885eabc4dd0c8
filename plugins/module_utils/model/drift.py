# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift report of playbooks/drift.yml: what the check-mode run of the site stages says
would change, as one row per object and site, and a short table of them.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Pure Python over the normalised model (s2p_model) and the results the stages registered (the
same input as site_summary, plus the swarm_cluster result). A row never holds a secret: the
modules return none (credentials report only an action), and values of keys that name one
(password, token, ...) are hidden anyway.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.esa.s2p.plugins.module_utils.model.site_summary import QUIET, names_by_site, result_items

ALL_SITES = "all"
HIDDEN = "(hidden)"
SECRET_KEY = re.compile(r"password|passwd|secret_id|token|private|^value$", re.IGNORECASE)
CREDENTIAL_CHANGES = {
    "create": "no password in Vault yet: one would be created",
    "rotate": "the password is older than its rotation period: it would be rotated",
    "complete": "a rotation left pending in Vault would be completed",
    "reapply": "LDAP does not accept Vault's current secret version: it would be applied again",
    "metadata": "the secret's metadata differs from the model",
}
COLUMNS = (("site", 6), ("backend", 13), ("kind", 19), ("name", 38))


def scrub(value):
    """`value` with the values of every key that names a secret replaced by (hidden)."""
    if isinstance(value, dict):
        return dict((k, HIDDEN if SECRET_KEY.search(str(k)) else scrub(v)) for k, v in value.items())
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def differing(before, after, depth=2):
    """(before, after) reduced to the keys whose values differ, `depth` levels down."""
    if depth == 0 or not isinstance(before, dict) or not isinstance(after, dict):
        return before, after
    keys = [k for k in sorted(set(before) | set(after), key=str) if before.get(k) != after.get(k)]
    pairs = dict((k, differing(before.get(k), after.get(k), depth - 1)) for k in keys)
    return (dict((k, b) for k, (b, _a) in pairs.items() if k in before),
            dict((k, a) for k, (_b, a) in pairs.items() if k in after))


def _short(value, width=40):
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= width else text[:width - 3] + "..."


def describe(before, after):
    """'key: before -> after' for each top-level key that differs; 'missing' for an object the
    backend does not have, 'not in the model' for one it should not have."""
    if not before and after:
        return "missing"
    if before and not after:
        return "not in the model"
    if not isinstance(before, dict) or not isinstance(after, dict):
        return "%s -> %s" % (_short(before), _short(after))
    return ", ".join("%s: %s -> %s" % (k, _short(before.get(k, "-")), _short(after.get(k, "-")))
                     for k in sorted(set(before) | set(after), key=str))


def _diff_of(result, key):
    """The before/after of one object in a module's `diff` (a list of per-object diffs with
    headers, or one {before: {key: ...}, after: {key: ...}}); (None, None) when not there."""
    diff = result.get("diff") if isinstance(result, dict) else None
    if isinstance(diff, list):
        for one in diff:
            if isinstance(one, dict) and one.get("before_header") in (key, "stack %s" % key):
                return one.get("before"), one.get("after")
    elif isinstance(diff, dict) and isinstance(diff.get("before"), dict):
        if key in diff["before"] or key in (diff.get("after") or {}):
            return diff["before"].get(key), (diff.get("after") or {}).get(key)
    return None, None


def _results(part):
    return part if isinstance(part, list) else [part] if isinstance(part, dict) else []


class _Rows(object):
    """Collects rows: one per object and each site it lives at (ALL_SITES when none is known)."""

    def __init__(self, model, timestamp):
        self.where = names_by_site(model)
        self.policy_sites = dict((d["vault_policy"], d["sites"]) for d in model.get("deployments", []))
        self.sites = set(model.get("sites", {}))
        self.timestamp = timestamp
        self.rows = []
        self.seen = set()

    def sites_of(self, kind, name):
        if kind == "policies":
            return self.policy_sites.get(name) or [ALL_SITES]
        if kind == "nodes":
            return [name] if name in self.sites else [ALL_SITES]
        return self.where.get(kind, {}).get(name) or [ALL_SITES]

    def add(self, backend, kind, name, change, where, summary="", before=None, after=None):
        if (kind, name) in self.seen:  # an object two results report (a stage run twice): its first row
            return
        self.seen.add((kind, name))
        if before is not None or after is not None:
            before, after = differing(scrub(before), scrub(after))
            summary = summary or describe(before, after)
        for site in sorted(self.sites_of(where[0], where[1])):
            row = {"timestamp": self.timestamp, "site": site, "backend": backend, "kind": kind, "name": name,
                   "change": change, "summary": summary}
            if before is not None or after is not None:
                row.update(before=before, after=after)
            self.rows.append(row)


def _stage_rows(rows, part):
    """The rows of the VM, DNS, certificate, account and credential stages."""
    for result in _results(part.get("vms")):
        for vm in result_items(result, "vms"):
            if vm.get("changed"):
                before, after = _diff_of(result, vm["name"])
                rows.add("vsphere", "vm", vm["name"], vm.get("action"), ("VMs", vm["name"]),
                         "" if before or after else ", ".join(vm.get("changes") or []), before, after)
    for result in _results(part.get("dns")):
        for change in result_items(result, "changes"):
            name = change["name"].rstrip(".")
            owned = name[len("_s2p-owner."):] if change.get("ownership") else name
            kind = "%s record%s" % (change.get("type"), " (ownership)" if change.get("ownership") else "")
            rows.add("dns", kind, name, change.get("action"), ("DNS names", owned), "",
                     change.get("before") or {}, change.get("after") or {})
    for result in _results(part.get("certificates")):
        for cert in result_items(result, "certificates"):
            if cert.get("action") not in QUIET:
                before, after = _diff_of(result, cert["name"])
                rows.add("certificates", "certificate", cert["name"], cert.get("action"),
                         ("certificates", cert["name"]), cert.get("reason") or "", before, after)
    for result in _results(part.get("accounts")):
        for account in result_items(result, "accounts"):
            if account.get("action") not in QUIET:
                before, after = _diff_of(result, account.get("dn"))
                attributes = ", ".join(account.get("changed_attributes") or [])
                rows.add("identity", "ldap account", account["uid"], account.get("action"),
                         ("accounts", account["uid"]), "attributes: " + attributes if attributes else "",
                         before, after)
    for result in _results(part.get("credentials")):
        for cred in result_items(result, "credentials"):
            if cred.get("action") not in QUIET:
                rows.add("vault", "credential", cred["uid"], cred.get("action"), ("accounts", cred["uid"]),
                         CREDENTIAL_CHANGES.get(cred.get("action"), "the secret differs from the model"))


def drift_rows(model, results, timestamp):
    """The report's rows: every object the check-mode run says would change, per site."""
    results = results or {}
    rows = _Rows(model, timestamp)
    _stage_rows(rows, results)
    for result in _results(results.get("groups")):
        for group in result_items(result, "groups"):
            if group.get("action") not in QUIET:
                before, after = _diff_of(result, group.get("dn"))
                rows.add("identity", "ldap group", group["cn"], group.get("action"), ("groups", group["cn"]), "",
                         before, after)
    for result in _results(results.get("vault_projects")):
        for policy in result_items(result, "projects"):
            if policy.get("action") not in QUIET:
                before, after = _diff_of(result, policy["name"])
                rows.add("vault", "policy and AppRole", policy["name"], policy.get("action"),
                         ("policies", policy["name"]), "", before, after)
    for result in _results(results.get("swarm")):
        for node in result_items(result, "nodes"):
            if node.get("actions"):
                rows.add("swarm", "node", node["name"], "update", ("nodes", node["name"]), "; ".join(node["actions"]))
    _stack_rows(rows, results.get("stack_batch"))
    return rows.rows


def _stack_rows(rows, result):
    for stack in result_items(result, "stacks"):
        if stack.get("changed"):
            before, after = _diff_of(result, stack["name"])
            actions = stack.get("actions") or []
            if isinstance(before, dict):  # with the diff: a stack of nothing yet is created
                change = "update" if any(before.values()) else "create"
            else:
                change = "create" if actions and all(a.startswith("create ") for a in actions) else "update"
            rows.add("stacks", "stack", stack["name"], change, ("stacks", stack["name"]), "; ".join(actions),
                     before, after)


def drift_counts(rows):
    """{backend: number of objects} (an object at two sites counts once)."""
    counts = {}
    for backend, _kind, _name in set((r["backend"], r["kind"], r["name"]) for r in rows):
        counts[backend] = counts.get(backend, 0) + 1
    return dict(sorted(counts.items()))


def drift_verdict(rows):
    """One line: how many objects drifted, by backend; or that nothing did."""
    counts = drift_counts(rows)
    if not counts:
        return "no drift: every object of the model matches its backend"
    return "%d objects drifted from the model (%s)" % (
        sum(counts.values()), ", ".join("%s %d" % item for item in counts.items()))


def drift_table(rows, width=60):
    """Lines of a fixed-width table of the rows (site, backend, kind, name, what differs), then the verdict."""
    lines = []
    if rows:
        lines.append(" ".join(title.ljust(size) for title, size in COLUMNS) + " change")
        for row in sorted(rows, key=lambda r: (r["site"], r["backend"], r["kind"], r["name"])):
            change = row["change"] + (": " + row["summary"] if row["summary"] else "")
            lines.append(" ".join(str(row[title]).ljust(size) for title, size in COLUMNS) + " " + _short(change, width))
    lines.append(drift_verdict(rows))
    return lines
