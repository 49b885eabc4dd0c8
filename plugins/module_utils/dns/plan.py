# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""From declared RRsets and the primary's current state to the changes and UPDATE messages.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Pure logic over dnspython objects (no network): `plan` decides every change first (so check
mode predicts the real run exactly), `build_updates` turns them into one UPDATE message per
zone whose prerequisites pin every declared RRset (changed or not) and every touched RRset
to the state that was read, so a change made by someone else in between makes the server
refuse the whole message.

Ownership: each name written with an owner carries a TXT record at
`<OWNER_LABEL>.<name>` saying which owner (project/environment) manages which types there.
Names owned by another owner are never changed; `exclusive` deletes only the RRsets the
same owner manages and no longer declares.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.module_utils.model import naming
from ansible_collections.esa.s2p.plugins.module_utils.dns.records import rdata_value, zone_of
from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems

try:
    import dns.exception
    import dns.name
    import dns.rdataclass
    import dns.rdataset
    import dns.rdatatype
    import dns.rdtypes.ANY.TXT
    import dns.update
except ImportError:  # reported by the module's adapter
    pass

OWNER_LABEL = naming.DNS_OWNER_LABEL
OWNER_TTL = 3600
_OWNER_PREFIX = "s2p-owner="
# Room left under the 65535-byte DNS message limit for the TSIG record.
MAX_UPDATE_WIRE = 65535 - 512


class Change:
    """One RRset to write: before/after are (ttl, frozenset of rdata) or None (absent)."""

    __slots__ = ("zone", "name", "rdtype", "before", "after", "ownership", "owner")

    def __init__(self, zone, name, rdtype, before, after, ownership=False, owner=None):
        self.zone = zone
        self.name = name
        self.rdtype = rdtype
        self.before = before
        self.after = after
        self.ownership = ownership
        self.owner = owner  # the owner the batch gave the name (None: no owner)

    @property
    def action(self):
        return "create" if self.before is None else "delete" if self.after is None else "update"

    def as_dict(self):
        return {"name": self.name.to_text(omit_final_dot=True), "type": self.rdtype, "action": self.action,
                "zone": self.zone.to_text(omit_final_dot=True), "ownership": self.ownership, "owner": self.owner,
                "before": rrset_dict(self.rdtype, self.before), "after": rrset_dict(self.rdtype, self.after)}


def rrset_dict(rdtype, data):
    if data is None:
        return None
    return {"ttl": data[0], "values": sorted(rdata_value(rdtype, r) for r in data[1])}


def owner_name(name):
    return dns.name.Name((OWNER_LABEL.encode(),) + name.labels)


def parse_ownership(current_types):
    """(owner, frozenset of types) from the TXT RRset at an ownership name, or (None, empty)."""
    txt = (current_types or {}).get("TXT")
    if not txt:
        return None, frozenset()
    for rdata in txt[1]:
        text = b"".join(rdata.strings).decode("utf-8", "replace")
        if text.startswith(_OWNER_PREFIX):
            owner, _sep, rest = text[len(_OWNER_PREFIX):].partition(" types=")
            return owner, frozenset(t for t in rest.split(",") if t)
    return None, frozenset()


def ownership_rdata(owner, types):
    text = "%s%s types=%s" % (_OWNER_PREFIX, owner, ",".join(sorted(types)))
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, [text.encode()])


# Record types whose in-zone targets BIND's check-integrity requires to have addresses.
_TARGET_TYPES = ("MX", "SRV", "NS")


def _targets(rrset):
    if rrset.state != "present" or rrset.rdtype not in _TARGET_TYPES:
        return []
    found = []
    for rdata in rrset.rdatas:
        target = getattr(rdata, "exchange", None) or getattr(rdata, "target", None)
        if target is not None and target != dns.name.root and target.is_subdomain(rrset.zone):
            found.append(target)
    return found


def names_to_read(rrsets, owner_records=True):
    """The names whose state the plan needs: the declared names, their ownership names and the
    in-zone targets of MX, SRV and NS records."""
    names = set()
    for rrset in rrsets:
        names.add(rrset.name)
        names.update(_targets(rrset))
        if owner_records:
            names.add(owner_name(rrset.name))
    return names


def _targets_without_address(problems, rrsets, current, changes_by_name):
    """In-zone targets of MX/SRV/NS that would have no A/AAAA: the server refuses such updates."""
    for rrset in rrsets:
        for target in sorted(_targets(rrset)):
            after = dict(current.get(target, {}))
            for rdtype, change in changes_by_name.get(target, {}).items():
                after[rdtype] = change.after
            if not (after.get("A") or after.get("AAAA")):
                problems.add("records[%d] (%s)" % (rrset.index, rrset.label),
                             "the target %s is inside zone %s but has no A or AAAA record; the server refuses "
                             "such updates (check-integrity): declare its address in the same batch" % (
                                 target.to_text(omit_final_dot=True), rrset.zone.to_text(omit_final_dot=True)))


def plan(rrsets, current, owner=None, exclusive=False, zones=()):
    """The list of Change for the batch against `current` ({name: {type: (ttl, rdatas)}}).

    Raises ValidationError (nothing sent yet) for names owned by another owner and for CNAME
    conflicts with records already on the server. With `exclusive`, `current` must hold the
    whole of `zones` (a transfer).
    """
    problems = Problems()
    changes = []
    declared = {}
    for rrset in rrsets:
        declared.setdefault(rrset.name, {})[rrset.rdtype] = rrset
    for name in declared:
        found_owner, _types = parse_ownership(current.get(owner_name(name)))
        if found_owner is not None and found_owner != owner:
            problems.add(None, "%s is owned by %s%s: only that owner may change it" % (
                name.to_text(omit_final_dot=True), found_owner, "" if owner else " (this run gives no owner)"))
    changes_by_name = {}
    for rrset in rrsets:
        before = current.get(rrset.name, {}).get(rrset.rdtype)
        if rrset.state == "present":
            after = (rrset.ttl, rrset.rdatas)
        elif rrset.rdatas is None or before is None:
            after = None
        else:
            left = before[1] - rrset.rdatas
            after = (before[0], left) if left else None
        if before != after:
            change = Change(rrset.zone, rrset.name, rrset.rdtype, before, after)
            changes.append(change)
            changes_by_name.setdefault(rrset.name, {})[rrset.rdtype] = change
    if exclusive and owner:
        changes.extend(_exclusive_deletions(current, declared, owner, zones, changes_by_name))
    _server_cname_conflicts(problems, current, changes_by_name)
    _targets_without_address(problems, rrsets, current, changes_by_name)
    problems.raise_if_any()
    if owner:
        changes.extend(_ownership_changes(current, declared, owner, changes_by_name, zones))
    for change in changes:
        change.owner = owner
    return changes


def _exclusive_deletions(current, declared, owner, zones, changes_by_name):
    found = []
    for oname in sorted(current):
        if oname.labels[:1] != (OWNER_LABEL.encode(),):
            continue
        if parse_ownership(current[oname])[0] != owner:
            continue
        name = oname.parent()
        zone = zone_of(name, zones)
        for rdtype in sorted(parse_ownership(current[oname])[1]):
            if rdtype in declared.get(name, {}):
                continue
            before = current.get(name, {}).get(rdtype)
            if before is None:
                continue
            change = Change(zone, name, rdtype, before, None)
            found.append(change)
            changes_by_name.setdefault(name, {})[rdtype] = change
    return found


def _server_cname_conflicts(problems, current, changes_by_name):
    """Data the batch keeps next to a CNAME, counting what is already on the server."""
    for name, changes in changes_by_name.items():
        after = dict((t, v) for t, v in current.get(name, {}).items() if t not in ("RRSIG", "NSEC", "NSEC3"))
        for rdtype, change in changes.items():
            if change.after is None:
                after.pop(rdtype, None)
            else:
                after[rdtype] = change.after
        if "CNAME" in after and len(after) > 1:
            problems.add(None, "%s would hold a CNAME next to other data (%s) that is already on the server: "
                               "delete the other records in the same batch (state: absent) or choose another name"
                         % (name.to_text(omit_final_dot=True), ", ".join(sorted(after))))


def _ownership_changes(current, declared, owner, changes_by_name, zones):
    found = []
    names = set(declared) | set(changes_by_name)
    for name in sorted(names):
        oname = owner_name(name)
        old_owner, old_types = parse_ownership(current.get(oname))
        types = set(old_types if old_owner == owner else ())
        types.update(declared.get(name, {}))
        for rdtype, change in changes_by_name.get(name, {}).items():
            (types.discard if change.after is None else types.add)(rdtype)
        for rdtype in declared.get(name, {}):
            after = changes_by_name.get(name, {}).get(rdtype)
            exists = after.after is not None if after else rdtype in current.get(name, {})
            if not exists:
                types.discard(rdtype)
        before = current.get(oname, {}).get("TXT")
        if types:
            after = (before[0] if before else OWNER_TTL, frozenset([ownership_rdata(owner, types)]))
        else:
            after = None
        if (before[1] if before else None) != (after[1] if after else None):
            known = list(declared.get(name, {}).values()) + list(changes_by_name.get(name, {}).values())
            zone = known[0].zone if known else zone_of(name, zones)
            found.append(Change(zone, oname, "TXT", before, after, ownership=True))
    return found


def _rdataset(rdtype, data):
    ttl, rdatas = data
    rds = dns.rdataset.Rdataset(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype))
    for rdata in rdatas:
        rds.add(rdata, ttl)
    return rds


class _Group:
    """What one name contributes to an UPDATE: its changes (ownership record included) and the
    RRsets whose state as read must still hold when the server applies the message."""

    __slots__ = ("name", "changes", "pinned")

    def __init__(self, name):
        self.name = name
        self.changes = []
        self.pinned = set()  # (name, type): declared, changed or not, and the ownership TXT


class Part:
    """One UPDATE message of a zone and the changes it carries."""

    __slots__ = ("message", "changes")

    def __init__(self, message, changes):
        self.message = message
        self.changes = changes


def _pin(message, current, pinned):
    """Prerequisites (RFC 2136 section 2.4) holding every RRset of `pinned` to the state read."""
    for name in sorted(set(n for n, _t in pinned)):
        at_name = current.get(name)
        if not at_name:
            message.absent(name)  # "name is not in use": nothing may have appeared there
            continue
        for rdtype in sorted(t for n, t in pinned if n == name):
            data = at_name.get(rdtype)
            if data is None:
                message.absent(name, rdtype)  # "RRset does not exist"
            else:
                # value-dependent prerequisite: the RRset as read, TTL 0 (RFC 2136 section 2.4.2)
                message.present(name, _rdataset(rdtype, (0, data[1])))


def _group_message(zone, groups, current):
    """One UPDATE for `groups` (a list of _Group): prerequisites first, then the changes."""
    message = dns.update.UpdateMessage(zone)
    for group in groups:
        _pin(message, current, group.pinned)
    for group in groups:
        for change in group.changes:
            if change.after is None:
                message.delete(change.name, change.rdtype)
            else:
                message.replace(change.name, _rdataset(change.rdtype, change.after))
    return message


def _fits(message):
    try:
        return len(message.to_wire(max_size=65535)) <= MAX_UPDATE_WIRE
    except dns.exception.TooBig:
        return False


def build_updates(changes, current, declared=()):
    """{zone: [Part, ...]} for the zones with changes: one message per zone, split
    (by whole names, each part atomic) only when it would exceed the 64 KiB limit.

    Every message pins, besides the RRsets it changes, every RRset of `declared` (the
    batch's RRsets) in its zone and the ownership record of their names, exactly as read
    (present with the values read, or absent): if any of them changed since the read, the
    server refuses the whole message (YXRRSET/NXRRSET/...), so a concurrent run can never
    leave a mix of its records and ours. A part of a split message pins the names it covers.
    """
    by_zone = {}

    def group(zone, name):
        return by_zone.setdefault(zone, {}).setdefault(name, _Group(name))

    for change in changes:
        entry = group(change.zone, change.name.parent() if change.ownership else change.name)
        entry.changes.append(change)
        entry.pinned.add((change.name, change.rdtype))
    for rrset in declared:
        entry = group(rrset.zone, rrset.name)
        entry.pinned.update([(rrset.name, rrset.rdtype), (owner_name(rrset.name), "TXT")])
    result = {}
    for zone, by_name in sorted(by_zone.items()):
        groups = [by_name[name] for name in sorted(by_name)]
        if any(g.changes for g in groups):
            result[zone] = _merge_pin_only(zone, _split(zone, groups, current), current)
    return result


def _split(zone, groups, current):
    """Lists of groups whose message fits, in name order (halving until each part fits)."""
    if len(groups) == 1 or _fits(_group_message(zone, groups, current)):
        return [groups]
    half = len(groups) // 2
    return _split(zone, groups[:half], current) + _split(zone, groups[half:], current)


def _merge_pin_only(zone, parts, current):
    """The messages of `parts`, a part without changes merged into a neighbour where it fits
    (a message of prerequisites alone changes nothing; it is sent only when it fits nowhere)."""
    merged = []
    for part in parts:
        if merged and (not any(g.changes for g in part) or not any(g.changes for g in merged[-1])):
            joined = merged[-1] + part
            if _fits(_group_message(zone, joined, current)):
                merged[-1] = joined
                continue
        merged.append(part)
    return [Part(_group_message(zone, part, current), [c for g in part for c in g.changes]) for part in merged]


def zone_lines(name, rdtype, data):
    """Zone-file lines of an RRset for diffs."""
    if data is None:
        return []
    return sorted("%s %d IN %s %s" % (name.to_text(omit_final_dot=True), data[0], rdtype, rdata.to_text())
                  for rdata in data[1])


def diff(changes):
    before = []
    after = []
    for change in changes:
        before.extend(zone_lines(change.name, change.rdtype, change.before))
        after.extend(zone_lines(change.name, change.rdtype, change.after))
    return {"before": "\n".join(sorted(before)) + ("\n" if before else ""),
            "after": "\n".join(sorted(after)) + ("\n" if after else ""),
            "before_header": "DNS records (before)", "after_header": "DNS records (after)"}
