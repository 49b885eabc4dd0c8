# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the primary's state for a batch of RRsets and converge it: the work of dns_record.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Reading: one zone transfer (AXFR) per zone, or one ANY query per name, whichever the
batch calls for (read_mode auto: a transfer from READ_BY_TRANSFER names on, or always when
`exclusive` needs to find every record of the owner). Writing: the UPDATE messages of
dns/plan, sent only outside check mode.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.dns import plan as dns_plan
from ansible_collections.esa.s2p.plugins.module_utils.model import naming
from ansible_collections.esa.s2p.plugins.module_utils.dns.client import ConcurrentChange
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems
from ansible_collections.esa.s2p.plugins.module_utils.dns.records import (
    RRset,
    name_problems,
    parse_zone,
    rdata_value,
    validate_records,
    zone_of,
)

try:
    import dns.name
    import dns.rdata
    import dns.rdataclass
except ImportError:  # reported by the module's adapter
    pass

# Measured on the lab (2 cores, BIND 9.18, TSIG): one ANY query costs ~1.8 ms and a declared
# name needs two (the name and its ownership name); a transfer costs ~0.24 ms per RRset of the
# zone (0.72 s for 3,000 RRsets, 9 ms for an almost empty zone). At 40 names the queries
# (~0.15-0.3 s) cost as much as transferring a zone of ~1,000 RRsets: from there on, transfer.
# At 1,000 names: 3.7 s of queries against 0.7 s for a 3,000-RRset transfer.
READ_BY_TRANSFER = 40
# Fresh reads and plans after a failed prerequisite before the task gives up.
MAX_ATTEMPTS = 4


class StateReader:
    """Reads RRsets from the primary by transfer or by query; caches what it read."""

    def __init__(self, client, mode="auto"):
        self.client = client
        self.mode = mode
        self.transferred = {}
        self.state = {}
        self.used = set()

    def read(self, names, zones):
        """{name: {type: (ttl, rdatas)}} for `names` (all of `zones` when transferred)."""
        names = set(names)
        transfer = self.mode == "axfr" or (self.mode == "auto" and len(names) >= READ_BY_TRANSFER)
        if transfer:
            for zone in sorted(zones):
                if zone not in self.transferred:
                    self.transferred[zone] = self.client.transfer(zone)
                    self.state.update(self.transferred[zone])
            self.used.add("axfr")
        else:
            for name in sorted(names):
                if name not in self.state:
                    self.state[name] = self.client.rrsets_at(name)
            self.used.add("query")
        return self.state


def request(params):
    """The dns_record module's params ready for converge(): the owner checked, exclusive refused
    without an owner, and the unset keys the argument spec adds to each item dropped (the items
    are checked by validate_records, every problem at once, not by the argument spec, which stops
    at the first)."""
    params = dict(params)
    params["records"] = [dict((k, v) for k, v in item.items() if v is not None) if isinstance(item, dict) else item
                         for item in params["records"]]
    if params["owner"] is not None:
        naming.check_dns_owner(params["owner"])
    elif params["exclusive"] and not (params["records"] and all(
            isinstance(item, dict) and item.get("owner") for item in params["records"])):
        raise S2PError("exclusive needs an owner: give owner, or an owner in every item of records")
    return params


def converge(client, params, check_mode, want_diff):
    """The module result for dns_record: changed, changes, zones, messages, attempts (and diff).

    A failed prerequisite (someone changed a declared RRset between our read and our UPDATE)
    makes the whole batch start again from a fresh read, at most MAX_ATTEMPTS times; then the
    task fails with ConcurrentChange. Nothing of a refused message is applied, so every attempt
    plans from what the server really holds.
    """
    zones = [parse_zone(z) for z in params["zones"]]
    rrsets = validate_records(params["records"], params["zones"], default_ttl=params["ttl"],
                              owner_label=dns_plan.OWNER_LABEL, owner=params.get("owner"))
    touched = sorted(set(r.zone for r in rrsets))
    serials = dict((zone, client.soa(zone.to_text())["serial"]) for zone in (zones if params["exclusive"] else touched))
    written = []  # changes of messages applied by earlier, refused attempts (only when split)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        changes, updates, used = _plan(client, params, rrsets, zones, serials)
        if check_mode or not updates:
            break
        try:
            _send(client, updates)
        except ConcurrentChange as exc:
            written.extend(exc.applied)
            if attempt == MAX_ATTEMPTS:
                final = ConcurrentChange(
                    "concurrent change: the declared records changed on %s between our read and our UPDATE in "
                    "each of %d attempts (last: %s); nothing of the refused updates was applied%s" % (
                        client.endpoint, attempt, exc.rcode,
                        "" if not written else ", %d RRsets of earlier parts were" % len(written)),
                    obj=exc.obj, rcode=exc.rcode,
                    hint="Another run or engineer keeps changing the same names: let it finish, then run "
                         "again")
                final.applied = [c.as_dict() for c in written]
                raise final from None
            time.sleep(random.uniform(0.05, 0.3) * attempt)  # let the other writer finish; no lock-step
            continue
        break
    result = {
        "changed": bool(changes or written),
        "changes": [c.as_dict() for c in written + changes],
        "read_mode": "+".join(sorted(used)),
        "attempts": attempt,
        "zones": [],
    }
    for zone, serial in sorted(serials.items()):
        entry = {"zone": zone.to_text(omit_final_dot=True), "serial_before": serial, "serial": serial,
                 "messages": len(updates.get(zone, [])), "changes": sum(1 for c in changes if c.zone == zone)}
        if not check_mode and (zone in updates or any(c.zone == zone for c in written)):
            entry["serial"] = client.soa(entry["zone"])["serial"]
        result["zones"].append(entry)
    if want_diff:
        result["diff"] = dns_plan.diff(written + changes)
    return result


def _plan(client, params, rrsets, zones, serials):
    """Read the state the batch needs (fresh on every attempt) and plan it:
    (changes, {zone: [dns_plan.Part]}, read modes used)."""
    # Below a delegation (NS not at a zone apex) queries get referrals, not the data (the
    # ownership records live there): such batches, like exclusive ones, read by transfer.
    delegates = any(r.rdtype == "NS" and r.name != r.zone for r in rrsets)
    reader = StateReader(client, "axfr" if params["exclusive"] or delegates else params["read_mode"])
    current = reader.read(dns_plan.names_to_read(rrsets), serials.keys())
    removals = ptr_removals(rrsets, current, zones)
    if removals:
        for zone in set(r.zone for r in removals) - set(serials):
            serials[zone] = client.soa(zone.to_text())["serial"]
        current = reader.read(dns_plan.names_to_read(rrsets + removals), serials.keys())
        rrsets = rrsets + removals
    changes = plan_by_owner(rrsets, current, params["exclusive"], zones, owner=params.get("owner"))
    return changes, dns_plan.build_updates(changes, current, rrsets), reader.used


def plan_by_owner(rrsets, current, exclusive, zones, owner=None):
    """dns_plan.plan for each owner's RRsets (a batch may hold several owners, a name only one),
    all against the same read; every owner's problems are reported together. The task's own
    `owner` is planned even without items: exclusive with no records removes all it manages.

    A name one owner gives up in this batch (its records and ownership deleted) may be taken by
    another owner of the same batch, e.g. an address and its PTR moving from a removed VM to a new
    one: owners refused at first are planned again against the state the others leave, and the
    changes of one RRset are merged into one (from what was read to what the last owner wants).
    Two owners swapping names with each other are still refused: run them as two batches."""
    by_owner = {owner: []} if owner is not None else {}
    for rrset in rrsets:
        by_owner.setdefault(rrset.owner, []).append(rrset)
    order = sorted(by_owner, key=lambda o: o or "")
    planned, refused = {}, {}
    for name in order:
        _plan_owner(name, by_owner[name], current, exclusive, zones, planned, refused)
    if refused and planned:
        left = _state_after(current, [c for o in order if o in planned for c in planned[o]])
        for name in [o for o in order if o in refused]:
            _plan_owner(name, by_owner[name], left, exclusive, zones, planned, refused)
    if refused:
        raise ValidationError([e for o in order if o in refused for e in refused[o]])
    return _merged([c for o in order for c in planned[o]])


def _plan_owner(owner, rrsets, state, exclusive, zones, planned, refused):
    try:
        planned[owner] = dns_plan.plan(rrsets, state, owner=owner, exclusive=exclusive, zones=zones)
        refused.pop(owner, None)
    except ValidationError as exc:
        refused[owner] = exc.errors


def _state_after(current, changes):
    """`current` ({name: {type: (ttl, rdatas)}}) with the changes applied."""
    state = dict((name, dict(types)) for name, types in current.items())
    for change in changes:
        types = state.setdefault(change.name, {})
        if change.after is None:
            types.pop(change.rdtype, None)
        else:
            types[change.rdtype] = change.after
    return state


def _merged(changes):
    """One Change per RRset: from the first change's `before` (what was read) to the last `after`."""
    by_key, order = {}, []
    for change in changes:
        key = (change.name, change.rdtype)
        first = by_key.get(key)
        if first is None:
            by_key[key] = change
            order.append(key)
            continue
        merged = dns_plan.Change(first.zone, first.name, first.rdtype, first.before, change.after,
                                 ownership=first.ownership or change.ownership)
        merged.owner = change.owner
        by_key[key] = merged
    return [by_key[k] for k in order if by_key[k].before != by_key[k].after]


def _send(client, updates):
    """Send every message; on a refused one, ConcurrentChange carries the changes already applied."""
    applied = []
    for zone, parts in sorted(updates.items()):
        for part in parts:
            try:
                client.update(part.message, zone.to_text(omit_final_dot=True))
            except ConcurrentChange as exc:
                exc.applied = applied
                raise
            applied.extend(part.changes)


def ptr_removals(rrsets, current, zones):
    """For A/AAAA items with ptr: true, the PTR values pointing back at the name that must go:
    absent items, at the addresses given (or, without values, held now); present items, at the
    addresses held now and no longer declared."""
    declared = set(r.key for r in rrsets)
    found = []
    for rrset in rrsets:
        if not rrset.ptr or rrset.rdtype not in ("A", "AAAA"):
            continue
        held = current.get(rrset.name, {}).get(rrset.rdtype)
        held = held[1] if held else frozenset()
        if rrset.state == "present":
            addresses = held - rrset.rdatas
        else:
            addresses = rrset.rdatas if rrset.rdatas is not None else held
        back = dns.rdata.from_text(dns.rdataclass.IN, "PTR", rrset.name.to_text())
        for rdata in sorted(addresses, key=lambda r: r.address):
            reverse = dns.name.from_text(naming.reverse_dns(rdata.address) + ".")
            zone = zone_of(reverse, zones)
            if zone is None or (reverse, "PTR") in declared:
                continue
            declared.add((reverse, "PTR"))
            found.append(RRset(rrset.index, reverse, "PTR", None, frozenset([back]), "absent", zone=zone,
                               derived_from=rrset.name.to_text(omit_final_dot=True), owner=rrset.owner))
    return found


def read_info(client, params):
    """The module result for dns_record_info: RRsets at the names asked, or every RRset of
    an owner (by transfer), each with the owner of its name."""
    zones = [parse_zone(z) for z in params["zones"]]
    owner = params.get("owner")
    reader = StateReader(client, "axfr" if owner else params["read_mode"])
    types = set(t.upper() for t in params.get("types") or [])
    if owner:
        current = reader.read((), zones)
        names = set()
        for oname, at in current.items():
            if oname.labels[:1] == (dns_plan.OWNER_LABEL.encode(),) and dns_plan.parse_ownership(at)[0] == owner:
                names.add(oname.parent())
    else:
        names, problems = set(), Problems()
        for index, text in enumerate(params["names"] or []):
            bad = name_problems(text)
            name = None if bad else parse_zone(text)
            if bad or zone_of(name, zones) is None:
                problems.add("names[%d] (%s)" % (index, text),
                             "; ".join(bad) or "outside the managed zones (%s)" % ", ".join(params["zones"]))
            else:
                names.add(name)
        problems.raise_if_any()
        wanted = names | set(dns_plan.owner_name(n) for n in names)
        current = reader.read(wanted, set(zone_of(n, zones) for n in names))
    found = []
    for name in sorted(names):
        name_owner, owned = dns_plan.parse_ownership(current.get(dns_plan.owner_name(name)))
        for rdtype, (ttl, rdatas) in sorted(current.get(name, {}).items()):
            if types and rdtype not in types:
                continue
            if owner and rdtype not in owned:
                continue
            found.append({"name": name.to_text(omit_final_dot=True), "type": rdtype, "ttl": ttl,
                          "values": sorted(rdata_value(rdtype, r) for r in rdatas),
                          "owner": name_owner if rdtype in owned else None})
    return {"changed": False, "records": found, "read_mode": "+".join(sorted(reader.used))}
