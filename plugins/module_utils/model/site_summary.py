# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The end-of-run summary of the site job: per site what the model holds and what changed.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Pure Python over the normalised model (s2p_model) and the results the stages of site.yml
registered (module results as Ansible returns them). What the model holds is counted from
the model; what changed is read from the results, mapped to sites through the model's names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.module_utils.model import naming

KINDS = ("VMs", "DNS names", "certificates", "stacks", "accounts")
QUIET = ("none", "unchanged", None)


def names_by_site(model, deployed=None):
    """Which sites each name belongs to: {kind: {name: [sites]}}. `deployed`: the stack names
    the run deployed (None: every deployment's)."""
    where = dict((kind, {}) for kind in KINDS)
    deployments = dict(((d["project"], d["environment"]), d) for d in model.get("deployments", []))
    with_ip = set()
    for vm in model.get("vms", []):
        where["VMs"][vm["name"]] = [vm["site"]]
        if vm.get("ip"):
            with_ip.add((vm["project"], vm["environment"]))
            for name in (vm["fqdn"], naming.reverse_dns(vm["ip"])):
                where["DNS names"][name] = [vm["site"]]
    with_services = set()
    for svc in model.get("services", []):
        key = (svc["project"], svc["environment"])
        with_services.add(key)
        if key in with_ip:
            where["DNS names"][svc["fqdn"]] = deployments[key]["sites"]
    for key, deployment in deployments.items():
        where["accounts"][deployment["service_account"]["uid"]] = deployment["sites"]
        if deployed is None or deployment["stack"] in deployed:
            where["stacks"][deployment["stack"]] = deployment["sites"]
        if key in with_services:
            where["certificates"][deployment["stack"]] = deployment["sites"]
    for station in model.get("stations", {}).values():
        site = [station["site"]]
        where["accounts"][station["service_account"]["uid"]] = site
        where["stacks"][station["stack"]] = site
        where["certificates"][station["stack"]] = site
        named = [(station["fqdn"], station.get("ip")), (station["ingest_fqdn"], station["vms"][0].get("ip"))]
        named += [(cam["fqdn"], cam.get("ip")) for cam in station["cameras"]]
        for name, ip in named:
            if ip:
                where["DNS names"][name] = site
                if name != station["ingest_fqdn"]:
                    where["DNS names"][naming.reverse_dns(ip)] = site
    return where


def result_items(result, key):
    """The `key` list of a module result, or of each of a list of results (a stage that ran twice)."""
    if isinstance(result, list):
        return [item for one in result for item in result_items(one, key)]
    return (result.get(key) or []) if isinstance(result, dict) else []


def _changed_names(results):
    """{kind: set of names changed (or that would change) in this run}."""
    changed = dict((kind, set()) for kind in KINDS)
    changed["VMs"].update(v["name"] for v in result_items(results.get("vms"), "vms") if v.get("changed"))
    for dns in results.get("dns") or []:
        changed["DNS names"].update(c["name"].rstrip(".") for c in result_items(dns, "changes")
                                    if not c.get("ownership"))
    changed["certificates"].update(c["name"] for c in result_items(results.get("certificates"), "certificates")
                                   if c.get("action") not in QUIET)
    for key in ("accounts", "credentials"):
        changed["accounts"].update(a["uid"] for a in result_items(results.get(key), key)
                                   if a.get("action") not in QUIET)
    changed["stacks"].update(s["name"] for s in results.get("stacks") or [] if s.get("changed"))
    return changed


def site_summary(model, results, check_mode=False):
    """Lines: one per site (counts of what the model holds there, and what changed), then the
    programme-wide identity objects, then a verdict."""
    results = results or {}
    deployed = set(s["name"] for s in results.get("stacks") or []) or None
    where = names_by_site(model, deployed)
    changed = _changed_names(results)
    verb = "would change" if check_mode else "changed"
    lines = []
    for site in sorted(model.get("sites", {})):
        parts = []
        for kind in KINDS:
            names = [n for n, sites in where[kind].items() if site in sites]
            moved = sorted(n for n in changed[kind] if site in where[kind].get(n, ()))
            parts.append("%d %s" % (len(names), kind) + (" (%d %s: %s)" % (
                len(moved), verb, ", ".join(moved[:5]) + (", ..." if len(moved) > 5 else "")) if moved else ""))
        lines.append("%-6s %s" % (site, ", ".join(parts)))
    total = sum(len([n for n in changed[kind] if n in where[kind]]) for kind in KINDS)
    groups = [g for g in result_items(results.get("groups"), "groups") if g.get("action") not in QUIET]
    policies = [p for p in result_items(results.get("vault_projects"), "projects") if p.get("action") not in QUIET]
    total += len(groups) + len(policies)
    lines.append("all    %d LDAP groups%s, %d Vault policies and AppRoles%s" % (
        len(model.get("ldap_groups", [])), " (%d %s)" % (len(groups), verb) if groups else "",
        len(model.get("deployments", [])), " (%d %s)" % (len(policies), verb) if policies else ""))
    lines.append("%d objects %s in this run" % (total, verb) if total else "nothing %s in this run" % verb)
    return lines
