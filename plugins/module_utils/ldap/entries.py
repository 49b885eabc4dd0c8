# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Accounts and groups of the S2P directory: validate a batch, compare it with the entries read,
and plan the writes. Pure Python (no ldap3, no Ansible), so it is unit-tested on its own.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

The plan is decided completely before anything is written, so check mode reports exactly
what the real run does. Passwords never enter a plan's before/after (the diff).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.esa.s2p.plugins.module_utils.model import naming
from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems, item_path

DEFAULT_OBJECT_CLASSES = ("top", "inetOrgPerson")
GROUP_OBJECT_CLASSES = ("top", "groupOfNames")
# ppolicy's "locked until an administrator unlocks it" value of pwdAccountLockedTime.
ADMIN_LOCK = "000001010000Z"
LOCK_ATTRIBUTE = "pwdAccountLockedTime"
# Attributes the modules manage themselves (or the server does): not settable through `attributes`.
RESERVED_ATTRIBUTES = frozenset(a.lower() for a in (
    "uid", "objectClass", "userPassword", "member", "pwdAccountLockedTime", "pwdChangedTime",
    "pwdHistory", "pwdFailureTime", "pwdPolicySubentry", "entryUUID", "entryDN", "createTimestamp",
    "modifyTimestamp", "creatorsName", "modifiersName", "structuralObjectClass", "hasSubordinates"))
# esa.s2p.credential records where an account's credential lives as one labeledURI value with
# this label; ldap_account keeps such values when it sets labeledURI, and refuses to set one.
CREDENTIAL_RECORD = ("labeleduri", " esa.s2p.credential")
ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")
MAX_VALUE = 65536
READ_ATTRIBUTES = ["*", LOCK_ATTRIBUTE, "pwdChangedTime"]


def _values(value):
    """An attribute value from YAML as a list of strings (None or [] remove the attribute)."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [("TRUE" if v else "FALSE") if isinstance(v, bool) else str(v) for v in items]


def _check_attributes(errors, path, attributes):
    if not isinstance(attributes, dict):
        errors.add(path, "must be a mapping of attribute name to value(s)")
        return {}
    out = {}
    for name, value in attributes.items():
        where = "%s.%s" % (path, name)
        if not isinstance(name, str) or not ATTRIBUTE_NAME.match(name):
            errors.add(path, "%r is not an attribute name (a letter, then letters, digits or '-')" % (name,))
            continue
        if name.lower() in RESERVED_ATTRIBUTES:
            errors.add(where, "set by the module itself (uid from uid, objectClass from object_classes, "
                              "passwords from password or esa.s2p.credential, locks from state)")
            continue
        if name.lower() in (n.lower() for n in out):
            errors.add(where, "given twice (attribute names are case-insensitive)")
            continue
        if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)):
            errors.add(where, "must be a string or a list of strings")
            continue
        values = _values(value)
        if any(v == "" or len(v) > MAX_VALUE or "\x00" in v for v in values):
            errors.add(where, "values must be non-empty, at most %d characters, without NUL" % MAX_VALUE)
            continue
        if name.lower() == CREDENTIAL_RECORD[0] and any(v.endswith(CREDENTIAL_RECORD[1]) for v in values):
            errors.add(where, "values labelled%s are set by esa.s2p.credential (where the account's credential "
                              "lives)" % CREDENTIAL_RECORD[1])
            continue
        if len(set(values)) != len(values):
            errors.add(where, "a value is listed twice")
            continue
        out[name] = values
    return out


def _control_characters(value):
    return isinstance(value, str) and any(ord(c) < 32 or ord(c) == 127 for c in value)


def _dn(errors, path, kind, value, base_dn):
    if _control_characters(value):
        errors.add(path, "%r has control characters (NUL, newline...), which no S2P name may contain" % (value[:64],))
        return None
    try:
        return naming.ldap_dn(kind, value, base_dn)
    except naming.NamingError as exc:
        errors.add(path, exc.message)
        return None


def validate_accounts(accounts, base_dn):
    """Normalised accounts, or ValidationError listing every problem of the batch (item and field)."""
    errors, out, seen = Problems(), [], {}
    for index, item in enumerate(accounts):
        uid = item.get("uid")
        path = item_path("accounts", index, uid)
        dn = _dn(errors, path + ".uid", item.get("kind") or "service", uid, base_dn)
        attributes = _check_attributes(errors, path + ".attributes", item.get("attributes") or {})
        classes = item.get("object_classes") or []
        bad = [c for c in classes if not isinstance(c, str) or not ATTRIBUTE_NAME.match(c)]
        if bad:
            errors.add(path + ".object_classes", "%s not object class names" % ", ".join(repr(c) for c in bad))
        groups = item.get("groups")
        group_dns = []
        for gindex, cn in enumerate(groups or []):
            group_dn = _dn(errors, "%s.groups[%d]" % (path, gindex), "group", cn, base_dn)
            if group_dn:
                group_dns.append(group_dn)
        password = item.get("password")
        if password is not None and (not isinstance(password, str) or not password):
            errors.add(path + ".password", "must be a non-empty string")
        if dn and dn.lower() in seen:
            errors.add(path + ".uid", "the same entry (%s) is already %s" % (dn, seen[dn.lower()]))
        elif dn:
            seen[dn.lower()] = path
        out.append({"uid": uid, "dn": dn, "kind": item.get("kind") or "service", "path": path,
                    "state": item.get("state") or "present", "attributes": attributes,
                    "object_classes": list(DEFAULT_OBJECT_CLASSES) + [c for c in classes if c not in bad and
                                                                      c.lower() not in ("top", "inetorgperson")],
                    "groups": None if groups is None else sorted(set(group_dns)),
                    "password": password, "update_password": item.get("update_password") or "on_create"})
    errors.raise_if_any()
    return out


def validate_groups(groups, base_dn):
    errors, out, seen = Problems(), [], {}
    for index, item in enumerate(groups):
        cn = item.get("cn")
        path = item_path("groups", index, cn)
        dn = _dn(errors, path + ".cn", "group", cn, base_dn)
        members = []
        for mindex, member in enumerate(item.get("members") or []):
            member_dn = parse_member(member, base_dn)
            if member_dn is None:
                errors.add("%s.members[%d]" % (path, mindex), "%r is neither a person uid nor a DN under %s" % (
                    member, base_dn))
            else:
                members.append(member_dn)
        description = item.get("description")
        if dn and dn.lower() in seen:
            errors.add(path + ".cn", "the same group (%s) is already %s" % (dn, seen[dn.lower()]))
        elif dn:
            seen[dn.lower()] = path
        out.append({"cn": cn, "dn": dn, "path": path, "state": item.get("state") or "present",
                    "members": sorted(set(members), key=str.lower), "exclusive": bool(item.get("exclusive")),
                    "description": description})
    errors.raise_if_any()
    return out


_DN_UNDER = re.compile(r"^([a-zA-Z][a-zA-Z0-9-]*=([^,+\\\\]|\\\\.)+)(,[a-zA-Z][a-zA-Z0-9-]*=([^,+\\\\]|\\\\.)+)*$")


def parse_member(member, base_dn):
    """A member given as a person uid (jdoe) or a full DN under base_dn, as a DN; None when neither."""
    if not isinstance(member, str) or not member or _control_characters(member):
        return None
    if "=" not in member:
        return None if naming.name_error("person", member) else naming.ldap_dn("person", member, base_dn)
    if member.lower().endswith("," + base_dn.lower()) and _DN_UNDER.match(member) and "\x00" not in member:
        return member
    return None


# --- comparing -----------------------------------------------------------------------------------

def lower_keys(attributes):
    return dict((name.lower(), [str(v) for v in (values if isinstance(values, list) else [values])])
                for name, values in (attributes or {}).items())


def visible(attributes):
    """The attributes shown in a diff: never a password, no operational attributes."""
    return dict((k, sorted(v)) for k, v in sorted(attributes.items())
                if k.lower() not in ("userpassword", "pwdchangedtime", "pwdhistory", "pwdfailuretime"))


def plan_account(account, current):
    """What to do for one account: {action, changes, before, after, set_password}."""
    state, uid = account["state"], account["uid"]
    if state == "absent":
        return {"action": "delete" if current is not None else "none", "changes": {}, "set_password": False,
                "before": visible(current) if current is not None else {}, "after": {}}
    if current is None:
        attributes = {"objectClass": account["object_classes"], "uid": [uid]}
        attributes.update(account["attributes"])
        for required in ("cn", "sn"):
            if "inetorgperson" in (c.lower() for c in account["object_classes"]) and \
                    required not in lower_keys(attributes):
                attributes[required] = [uid]
        if state == "locked":
            attributes[LOCK_ATTRIBUTE] = [ADMIN_LOCK]
        return {"action": "create", "add": attributes, "changes": {}, "before": {}, "after": visible(attributes),
                "set_password": account["password"] is not None}
    have = lower_keys(current)
    changes = {}
    present_classes = set(c.lower() for c in have.get("objectclass", []))
    missing = [c for c in account["object_classes"] if c.lower() not in present_classes and c != "top"]
    if missing:
        changes["objectClass"] = ("add", missing)
    for name, values in account["attributes"].items():
        now = have.get(name.lower(), [])
        if name.lower() == CREDENTIAL_RECORD[0]:  # the credential's record stays
            values = values + [v for v in now if v.endswith(CREDENTIAL_RECORD[1])]
        if not values and now:
            changes[name] = ("delete", [])
        elif values and sorted(values) != sorted(now):
            changes[name] = ("replace", values)
    lock = have.get(LOCK_ATTRIBUTE.lower(), [])
    if state == "locked" and lock != [ADMIN_LOCK]:
        changes[LOCK_ATTRIBUTE] = ("replace", [ADMIN_LOCK])
    elif state == "present" and lock == [ADMIN_LOCK]:
        changes[LOCK_ATTRIBUTE] = ("delete", [])
    after = dict(current)
    for name, (op, values) in changes.items():
        key = next((k for k in after if k.lower() == name.lower()), name)
        after[key] = list(after.get(key, [])) + values if op == "add" else values
        if not after[key]:
            del after[key]
    set_password = account["password"] is not None and account["update_password"] == "always"
    return {"action": "update" if changes else "none", "changes": changes, "set_password": set_password,
            "before": visible(current), "after": visible(after)}


def plan_memberships(accounts, groups_found):
    """{group dn: (members before, members after)} for the groups whose members change through the
    accounts' `groups` (added) and removals (taken out of every group).

    groups_found: {group dn lower: (group dn, [member dns])} of the groups read; a group an account
    names but that does not exist is an error, raised before anything is written."""
    wanted, errors = {}, Problems()
    for key, (_gdn, members) in groups_found.items():
        wanted[key] = [m for m in members if m.lower() != key]
    for account in accounts:
        dn = account["dn"]
        if account["state"] == "absent":
            for key in wanted:
                wanted[key] = [m for m in wanted[key] if m.lower() != dn.lower()]
            continue
        for gdn in account["groups"] or []:
            if gdn.lower() not in wanted:
                errors.add(account["path"] + ".groups", "group %s does not exist; create it with esa.s2p.ldap_group "
                                                        "first" % gdn)
            elif dn.lower() not in (m.lower() for m in wanted[gdn.lower()]):
                wanted[gdn.lower()].append(dn)
    errors.raise_if_any()
    out = {}
    for key, (gdn, members) in groups_found.items():
        after = group_members(gdn, wanted[key])
        if sorted(m.lower() for m in after) != sorted(m.lower() for m in members):
            out[gdn] = (members, after)
    return out


def group_members(group_dn, members):
    """Members as stored: a group of names needs one member, so an empty group holds its own DN."""
    return list(members) if members else [group_dn]


def plan_group(group, current):
    """{action, add|changes, before, after} for one group; current: its attributes or None."""
    if group["state"] == "absent":
        return {"action": "delete" if current is not None else "none", "changes": {},
                "before": visible(current) if current is not None else {}, "after": {}}
    if current is None:
        attributes = {"objectClass": list(GROUP_OBJECT_CLASSES), "cn": [group["cn"]],
                      "member": group_members(group["dn"], group["members"])}
        if group["description"]:
            attributes["description"] = [group["description"]]
        return {"action": "create", "add": attributes, "changes": {}, "before": {}, "after": visible(attributes)}
    have = lower_keys(current)
    now = [m for m in have.get("member", []) if m.lower() != group["dn"].lower()]
    now_lower = set(m.lower() for m in now)
    if group["exclusive"]:
        target = list(group["members"])
    else:
        target = now + [m for m in group["members"] if m.lower() not in now_lower]
    changes = {}
    if set(m.lower() for m in target) != now_lower or (not target and not have.get("member")):
        changes["member"] = ("replace", group_members(group["dn"], target))
    if group["description"] is not None and have.get("description", []) != [group["description"]]:
        changes["description"] = ("replace", [group["description"]])
    after = dict(current)
    for name, (_op, values) in changes.items():
        key = next((k for k in after if k.lower() == name.lower()), name)
        after[key] = values
    return {"action": "update" if changes else "none", "changes": changes,
            "before": visible(current), "after": visible(after)}
