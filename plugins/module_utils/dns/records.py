# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation and normal form of declared DNS record sets (RRsets), before any server is asked.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

`validate_records` checks a whole batch and either returns the normalised RRsets or
raises one ValidationError listing every problem (item index, name and field), so a
bad batch never reaches the server. Values are parsed by dnspython into rdata objects,
which compare canonically (names case-insensitively, IPv6 in any spelling), so the
comparison with the server's state is exact and re-runs are idempotent.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.esa.s2p.plugins.module_utils.model import naming
from ansible_collections.esa.s2p.plugins.module_utils.core.problems import Problems

try:
    import dns.exception
    import dns.name
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
    import dns.rdtypes.ANY.TXT
except ImportError:  # the module reports the missing library through its adapter
    pass

SUPPORTED_TYPES = ("A", "AAAA", "CNAME", "TXT", "SRV", "MX", "PTR", "CAA", "NS")
MAX_TTL = 2147483647  # RFC 2181 section 8
DEFAULT_TTL = 3600
# A TXT character-string holds at most 255 bytes; longer values are split into several strings.
TXT_CHUNK = 255
_BOOLEANS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}
_LABEL = re.compile(r"^(\*|[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)$")


class RRset:
    """One declared record set: name and type, the TTL and the set of rdata, or absent."""

    __slots__ = ("index", "name", "rdtype", "ttl", "rdatas", "state", "ptr", "zone", "derived_from", "owner")

    def __init__(self, index, name, rdtype, ttl, rdatas, state, ptr=False, zone=None, derived_from=None,
                 owner=None):
        self.index = index
        self.name = name          # absolute dns.name.Name, lower case
        self.rdtype = rdtype      # text, e.g. "A"
        self.ttl = ttl
        self.rdatas = rdatas      # frozenset of rdata, or None (absent: the whole RRset)
        self.state = state
        self.ptr = ptr
        self.zone = zone          # absolute dns.name.Name of the managed zone holding the name
        self.derived_from = derived_from  # forward name text of an automatic PTR
        self.owner = owner        # <project>/<environment> managing the name, or None

    @property
    def key(self):
        return (self.name, self.rdtype)

    @property
    def label(self):
        return "%s %s" % (self.name.to_text(omit_final_dot=True), self.rdtype)


def txt_strings(value):
    """The character-strings of one TXT value: its UTF-8 bytes in chunks of at most 255."""
    data = value.encode("utf-8")
    if not data:
        return [b""]
    return [data[i:i + TXT_CHUNK] for i in range(0, len(data), TXT_CHUNK)]


def rdata_value(rdtype, rdata):
    """How a record value is shown in results and diffs: TXT as the joined text, others as
    dnspython's presentation form (names absolute, without the final dot)."""
    if rdtype == "TXT":
        return b"".join(rdata.strings).decode("utf-8", "backslashreplace")
    text = rdata.to_text()
    return text[:-1] if rdtype in ("CNAME", "NS", "PTR", "MX", "SRV") and text.endswith(".") else text


def parse_zone(text):
    return dns.name.from_text(text.strip().rstrip(".").lower() + ".")


def name_problems(text):
    """What is wrong with a record owner name (absolute, trailing dot optional), or []."""
    if not isinstance(text, str) or not text.strip():
        return ["must be a non-empty DNS name (a string)"]
    name = text.strip().rstrip(".")
    if len(name) > naming.MAX_FQDN:
        return ["'%s...' is %d characters long (a DNS name has at most %d)" % (name[:40], len(name), naming.MAX_FQDN)]
    found = []
    for pos, label in enumerate(name.split(".")):
        if not label:
            found.append("'%s' has an empty label" % name)
        elif len(label) > naming.MAX_LABEL:
            found.append("label '%s...' is %d characters long (at most %d)" % (
                label[:20], len(label), naming.MAX_LABEL))
        elif not _LABEL.match(label.lower()):
            found.append("label '%s' may only use letters, digits, '-' and '_' (not at either end)" % label)
        elif label == "*" and pos:
            found.append("'*' may only be the first label (a wildcard)")
    return found


def zone_of(name, zones):
    """The longest managed zone containing `name`, or None (the zone guard)."""
    best = None
    for zone in zones:
        if name.is_subdomain(zone) and (best is None or len(zone) > len(best)):
            best = zone
    return best


def _parse_values(rdtype, values, zone):
    """(frozenset of rdata, [problems]) for the values of one RRset."""
    found = []
    rdatas = set()
    for pos, value in enumerate(values):
        if not isinstance(value, str):
            found.append("values[%d] must be a string, got %s" % (pos, naming.type_name(value)))
            continue
        try:
            if rdtype == "TXT":
                rdata = dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, txt_strings(value))
            else:
                if rdtype == "A" and not _is_ip(value, 4):
                    raise ValueError("'%s' is not an IPv4 address" % value)
                if rdtype == "AAAA" and not _is_ip(value, 6):
                    raise ValueError("'%s' is not an IPv6 address" % value)
                rdata = dns.rdata.from_text(dns.rdataclass.IN, rdtype, value.strip(), origin=dns.name.root,
                                            relativize=False)
                for target in _target_names(rdata):
                    bad = name_problems(target.to_text()) if target != dns.name.root else []
                    if bad:
                        raise ValueError("target %s" % "; ".join(bad))
        except (ValueError, dns.exception.DNSException) as exc:
            found.append("values[%d] is not a valid %s value: %s" % (pos, rdtype, _reason(exc)))
            continue
        if rdata in rdatas:
            found.append("values[%d] repeats a value (%s)" % (pos, value))
        rdatas.add(rdata)
    return frozenset(rdatas), found


def _target_names(rdata):
    for attribute in ("target", "exchange"):
        value = getattr(rdata, attribute, None)
        if isinstance(value, dns.name.Name):
            yield value


def _is_ip(value, version):
    try:
        return ipaddress.ip_address(value.strip()).version == version
    except ValueError:
        return False


def _reason(exc):
    text = str(exc) or type(exc).__name__
    return text.rstrip(".")


def validate_records(records, zones, default_ttl=DEFAULT_TTL, owner_label=None, owner=None):
    """Check the whole batch; return a list of RRset (automatic PTRs included) or raise
    ValidationError naming every bad item and field. `zones` are the managed zone names;
    `owner` is the owner of the items that name none (an item's `owner` field wins)."""
    problems = Problems()
    zone_names = []
    for zone in zones:
        bad = name_problems(zone)
        if bad:
            problems.add("zones", "'%s': %s" % (zone, "; ".join(bad)))
        else:
            zone_names.append(parse_zone(zone))
    if not isinstance(records, list):
        problems.fail("records", "must be a list, got %s" % naming.type_name(records))
    rrsets = []
    seen = {}
    for index, item in enumerate(records):
        where = "records[%d]" % index
        if not isinstance(item, dict):
            problems.add(where, "must be a mapping, got %s" % naming.type_name(item))
            continue
        rrset, found = _validate_item(index, item, zone_names, default_ttl, owner_label, owner)
        where = "records[%d] (%s %s)" % (index, item.get("name"), item.get("type"))
        problems.extend(found, where)
        if rrset is None:
            continue
        if rrset.key in seen:
            problems.add(where, "declared twice (also records[%d]); give all values of an RRset in one item"
                         % seen[rrset.key])
            continue
        seen[rrset.key] = index
        rrsets.append(rrset)
    _cname_conflicts(problems, rrsets)
    _owner_conflicts(problems, rrsets)
    ptrs = _automatic_ptrs(problems, rrsets, zone_names, seen)
    problems.raise_if_any()
    return rrsets + ptrs


def _validate_item(index, item, zones, default_ttl, owner_label, owner=None):
    found = []
    unknown = sorted(set(item) - {"name", "type", "values", "ttl", "state", "ptr", "owner"})
    if unknown:
        found.append("unknown field(s) %s (allowed: name, type, values, ttl, state, ptr, owner)" % ", ".join(unknown))
    if item.get("owner") is not None:
        try:
            owner = naming.check_dns_owner(item["owner"], "owner")
        except naming.NamingError as exc:
            found.append("owner: %s" % exc.message)
    state = item.get("state", "present")
    if state not in ("present", "absent"):
        found.append("state must be present or absent, got %r" % (state,))
    rdtype = item.get("type")
    if not isinstance(rdtype, str) or rdtype.upper() not in SUPPORTED_TYPES:
        found.append("type %r is not supported (supported: %s)" % (rdtype, ", ".join(SUPPORTED_TYPES)))
        rdtype = None
    else:
        rdtype = rdtype.upper()
    name = None
    zone = None
    bad = name_problems(item.get("name"))
    if bad:
        found.extend("name: %s" % p for p in bad)
    else:
        name = parse_zone(item["name"])
        zone = zone_of(name, zones)
        if zone is None:
            found.append("name %s is outside the managed zones (%s)" % (
                name.to_text(omit_final_dot=True), ", ".join(z.to_text(omit_final_dot=True) for z in zones)))
        elif owner_label and name.labels[0] == owner_label.encode():
            found.append("name: the label %s is reserved for ownership records" % owner_label)
        elif rdtype in ("CNAME",) and name == zone:
            found.append("a CNAME cannot be at the zone apex (%s)" % zone.to_text(omit_final_dot=True))
    ttl = item.get("ttl", default_ttl)
    if isinstance(ttl, str) and ttl.strip().isdigit():
        ttl = int(ttl)
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= MAX_TTL:
        found.append("ttl must be a whole number of seconds from 0 to %d, got %r" % (MAX_TTL, ttl))
    ptr = item.get("ptr", False)
    if isinstance(ptr, str) and ptr.strip().lower() in _BOOLEANS:
        ptr = _BOOLEANS[ptr.strip().lower()]
    if not isinstance(ptr, bool):
        found.append("ptr must be true or false, got %r" % (ptr,))
    elif ptr and rdtype not in ("A", "AAAA", None):
        found.append("ptr: automatic PTR records exist only for A and AAAA, not %s" % rdtype)
    values = item.get("values")
    if isinstance(values, str):
        values = [values]
    rdatas = None
    if values is None or values == []:
        if state == "present":
            found.append("values: a present RRset needs at least one value")
    elif not isinstance(values, list):
        found.append("values must be a list of strings, got %s" % naming.type_name(values))
    elif rdtype:
        rdatas, problems = _parse_values(rdtype, values, zone)
        found.extend(problems)
        if rdtype == "CNAME" and len(rdatas) > 1:
            found.append("a CNAME RRset holds exactly one value, got %d" % len(values))
    if found or name is None or rdtype is None:
        return None, found
    return RRset(index, name, rdtype, ttl, rdatas, state, ptr=ptr, zone=zone, owner=owner), found


def _where(group, name):
    """How problems name the items of one DNS name: records[1,4] (web.neocc.s2p.esa.int)."""
    return "records[%s] (%s)" % (",".join(str(r.index) for r in group), name.to_text(omit_final_dot=True))


def _cname_conflicts(problems, rrsets):
    by_name = {}
    for rrset in rrsets:
        if rrset.state == "present":
            by_name.setdefault(rrset.name, []).append(rrset)
    for name, group in by_name.items():
        types = sorted(r.rdtype for r in group)
        if "CNAME" in types and len(types) > 1:
            problems.add(_where(group, name), "a CNAME cannot coexist with other data at the same name (%s)"
                         % ", ".join(types))


def _owner_conflicts(problems, rrsets):
    """A name has one owner: its ownership record names one <project>/<environment>."""
    by_name = {}
    for rrset in rrsets:
        by_name.setdefault(rrset.name, []).append(rrset)
    for name, group in sorted(by_name.items()):
        owners = sorted(set(str(r.owner) for r in group))
        if len(owners) > 1:
            problems.add(_where(group, name), "one name has one owner, got %s"
                         % ", ".join(o if o != "None" else "none" for o in owners))


def _automatic_ptrs(problems, rrsets, zones, declared):
    """PTR RRsets for A/AAAA items with ptr: true; several names on one address share its PTR RRset."""
    wanted = {}
    for rrset in rrsets:
        if not rrset.ptr or rrset.state != "present":
            continue
        for rdata in sorted(rrset.rdatas, key=lambda r: r.address):
            reverse = dns.name.from_text(naming.reverse_dns(rdata.address) + ".")
            zone = zone_of(reverse, zones)
            where = "records[%d] (%s): ptr" % (rrset.index, rrset.label)
            if zone is None:
                problems.add(where, "no managed reverse zone holds %s (%s)" % (
                    reverse.to_text(omit_final_dot=True), rdata.address))
                continue
            if (reverse, "PTR") in declared:
                problems.add(where, "%s is also declared explicitly (records[%d])" % (
                    reverse.to_text(omit_final_dot=True), declared[(reverse, "PTR")]))
                continue
            entry = wanted.setdefault(reverse, [zone, set(), rrset.ttl, rrset.index, [], rrset.owner])
            if entry[5] != rrset.owner:
                problems.add(where, "%s is shared with records[%d] of another owner (%s, %s): one name has one owner"
                             % (reverse.to_text(omit_final_dot=True), entry[3], entry[5] or "none",
                                rrset.owner or "none"))
                continue
            entry[1].add(dns.rdata.from_text(dns.rdataclass.IN, "PTR", rrset.name.to_text()))
            entry[2] = min(entry[2], rrset.ttl)
            entry[4].append(rrset.name.to_text(omit_final_dot=True))
    ptrs = [RRset(index, reverse, "PTR", ttl, frozenset(rdatas), "present", zone=zone,
                  derived_from=", ".join(sorted(sources)), owner=owner)
            for reverse, (zone, rdatas, ttl, index, sources, owner) in sorted(wanted.items())]
    return ptrs
