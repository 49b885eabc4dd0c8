# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge a batch of accounts or groups over one LDAP connection: read everything first
(a few searches, never one per entry), plan (see ldap/entries), then write only what differs.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Raises LDAPError / ValidationError; knows nothing of Ansible. `write=False` (check mode)
returns the same plan without sending a single write.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.module_utils.ldap import entries
from ansible_collections.esa.s2p.plugins.module_utils.ldap.client import LDAPError, equality_filter
from ansible_collections.esa.s2p.plugins.module_utils.ldap.pool import LDAPPool
from ansible_collections.esa.s2p.plugins.module_utils.model.naming import LDAP_KINDS

CHUNK = 1000  # values per OR filter: one search for a batch of up to 1,000 names
# Creates and updates per LDAP transaction, and the fewest worth one (below, one by one is as fast).
TXN_SIZE, TXN_MIN = 500, 8


class PartialFailure(LDAPError):
    """A write failed after others succeeded: `done` lists what was changed before it."""

    def __init__(self, error, done):
        super(PartialFailure, self).__init__(str(error), result=getattr(error, "result", None))
        self.done = list(done)

    def as_fail_kwargs(self):
        return {"msg": "%s (changed before the failure: %s)" % (self.message, ", ".join(self.done) or "nothing"),
                "changed": bool(self.done)}


def ou_dn(kind, base_dn):
    return "ou=%s,%s" % (LDAP_KINDS[kind][1], base_dn)


def read_by_name(client, kind, names, base_dn, attributes=None):
    """{name lower: (server dn, attributes)} of the entries of `kind` whose naming attribute
    (uid or cn) is one of `names`: one one-level search per CHUNK names."""
    attribute = LDAP_KINDS[kind][0]
    found = {}
    names = sorted(set(names))
    for start in range(0, len(names), CHUNK):
        for dn, attrs in client.search(ou_dn(kind, base_dn), equality_filter(attribute, names[start:start + CHUNK]),
                                       scope="one", attributes=attributes or entries.READ_ATTRIBUTES):
            for value in attrs.get(attribute) or []:
                found.setdefault(str(value).lower(), (dn, attrs))
    return found


def read_all_groups(client, base_dn):
    """{group dn lower: (dn, [member dns])} of every group of names under ou=groups."""
    return dict((dn.lower(), (dn, [str(m) for m in attrs.get("member") or []]))
                for dn, attrs in client.search(ou_dn("group", base_dn), "(objectClass=groupOfNames)", scope="one",
                                               attributes=["member"]))


def plan_accounts(client, accounts, base_dn):
    """Read the accounts and (when needed) the groups; return (plans, membership changes)."""
    current = {}
    for kind in ("service", "person"):
        names = [a["uid"] for a in accounts if a["kind"] == kind]
        if names:
            current[kind] = read_by_name(client, kind, names, base_dn)
    plans = []
    for account in accounts:
        found = current[account["kind"]].get(account["uid"].lower())
        plan = entries.plan_account(account, found[1] if found else None)
        plan.update(account=account, dn=found[0] if found else account["dn"])
        plans.append(plan)
    memberships = {}
    if any(a["state"] == "absent" or a["groups"] for a in accounts):
        memberships = entries.plan_memberships(accounts, read_all_groups(client, base_dn))
    return plans, memberships


def apply_accounts(client, plans, memberships):
    """Creates, updates and passwords (LDAP_WORKERS accounts at a time, each account's own steps in
    order), then membership changes, then deletes; PartialFailure after a first write."""
    done = []
    with LDAPPool(client) as pool:
        writes = [p for p in plans if p["action"] != "delete"]
        _in_transactions(client, writes)
        _results, _ok, error = pool.map(_write_account, writes)
        done.extend(step for plan in plans for step in plan.get("done", []))
        try:
            if error:
                raise error
            for gdn, (_before, after) in sorted(memberships.items()):
                client.modify(gdn, {"member": ("replace", after)})
                done.append("changed the members of %s" % gdn)
            _results, deleted, error = pool.map(_delete_account, [p for p in plans if p["action"] == "delete"])
            done.extend("deleted %s" % plan["dn"] for plan in deleted)
            if error:
                raise error
        except LDAPError as exc:
            if done:
                raise PartialFailure(exc, done) from exc
            raise


def _in_transactions(client, plans):
    """Creates and updates in LDAP transactions of TXN_SIZE (one database commit each instead of
    one per entry); a plan written so is marked plan["written"] and its step recorded in plan["done"].
    A transaction that is refused wrote nothing: its plans are left to _write_account."""
    entry_writes = [p for p in plans if p["action"] in ("create", "update")]
    if len(entry_writes) < TXN_MIN:
        return
    for start in range(0, len(entry_writes), TXN_SIZE):
        chunk = entry_writes[start:start + TXN_SIZE]
        ops = [("add", p["dn"], p["add"]) if p["action"] == "create" else ("modify", p["dn"], p["changes"])
               for p in chunk]
        if not client.write_in_transaction(ops):
            return
        for plan in chunk:
            plan["written"] = True
            plan["done"] = ["%s %s" % ("created" if plan["action"] == "create" else "updated", plan["dn"])]


def _write_account(client, plan):
    """Create or update one account (unless a transaction wrote it), then set its password;
    plan["done"] records each step."""
    if plan.pop("written", False):
        if plan["set_password"]:
            client.set_password(plan["dn"], plan["account"]["password"])
            plan["done"].append("set the password of %s" % plan["dn"])
        return
    plan["done"] = []
    if plan["action"] == "create":
        client.add(plan["dn"], plan["add"])
        plan["done"].append("created %s" % plan["dn"])
    elif plan["action"] == "update":
        client.modify(plan["dn"], plan["changes"])
        plan["done"].append("updated %s" % plan["dn"])
    if plan["set_password"]:
        client.set_password(plan["dn"], plan["account"]["password"])
        plan["done"].append("set the password of %s" % plan["dn"])


def _delete_account(client, plan):
    client.delete(plan["dn"])


def plan_groups(client, groups, base_dn):
    current = read_by_name(client, "group", [g["cn"] for g in groups], base_dn,
                           attributes=["cn", "member", "description", "objectClass"])
    plans = []
    for group in groups:
        found = current.get(group["cn"].lower())
        plan = entries.plan_group(group, found[1] if found else None)
        plan.update(group=group, dn=found[0] if found else group["dn"])
        plans.append(plan)
    return plans


def apply_groups(client, plans):
    done = []
    try:
        for plan in plans:
            if plan["action"] == "create":
                client.add(plan["dn"], plan["add"])
            elif plan["action"] == "update":
                client.modify(plan["dn"], plan["changes"])
            elif plan["action"] == "delete":
                client.delete(plan["dn"])
            else:
                continue
            done.append("%sd %s" % (plan["action"].rstrip("e"), plan["dn"]))
    except LDAPError as exc:
        if done:
            raise PartialFailure(exc, done) from exc
        raise


def converge_accounts(client, accounts, base_dn, write):
    """(changed, result, diff) of ldap_account; writes only when `write` (not in check mode)."""
    plans, memberships = plan_accounts(client, accounts, base_dn)
    changed = bool(memberships) or any(p["action"] != "none" or p["set_password"] for p in plans)
    if changed and write:
        apply_accounts(client, plans, memberships)
    result = dict(groups_changed=sorted(memberships),
                  accounts=[dict(uid=p["account"]["uid"], dn=p["dn"], action=p["action"],
                                 changed_attributes=sorted(p["changes"])) for p in plans])
    return changed, result, diff_of(plans, memberships)


def converge_groups(client, groups, base_dn, write):
    """(changed, result, diff) of ldap_group; writes only when `write` (not in check mode)."""
    plans = plan_groups(client, groups, base_dn)
    changed = any(p["action"] != "none" for p in plans)
    if changed and write:
        apply_groups(client, plans)
    return changed, dict(groups=[dict(cn=p["group"]["cn"], dn=p["dn"], action=p["action"]) for p in plans]), \
        diff_of(plans)


def diff_of(plans, memberships=None):
    """{before, after} keyed by DN, only for entries that change (never with passwords)."""
    before, after = {}, {}
    for plan in plans:
        if plan["action"] != "none":
            before[plan["dn"]] = plan["before"]
            after[plan["dn"]] = plan["after"]
    for gdn, (was, will) in sorted((memberships or {}).items()):
        before.setdefault(gdn, {})["member"] = sorted(was)
        after.setdefault(gdn, {})["member"] = sorted(will)
    return {"before": before, "after": after}
