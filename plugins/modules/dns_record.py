#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dns_record
short_description: Converge a batch of DNS record sets in the s2p.esa.int zones with one UPDATE per zone
version_added: 0.2.0
description:
  - Takes a list of record sets (RRsets, each a name, type, values and TTL) and makes the zones' primary
    server hold exactly those, in one task over one connection.
  - The whole batch is validated first (names inside the managed zones, values of each type,
    TTLs, CNAME conflicts, duplicates); a bad item fails the task with every problem listed,
    before the server is asked anything.
  - The current state is read from the primary itself, by zone transfer (AXFR with the TSIG key)
    or one query per name (O(read_mode)). The changes go in one RFC 2136 UPDATE message per zone
    whose prerequisites pin every declared RRset (changed or not, present with the values read or
    absent) and the ownership records of their names to the state that was read, so the update
    applies atomically and only on top of the state it was planned from.
  - When someone else changed a declared RRset between the read and the UPDATE, the server refuses
    the whole message; the batch is then read and planned again (up to 4 attempts, RV(attempts)),
    and the task fails with a message naming the concurrent change if the records keep changing.
    Two runs declaring other values for the same names thus end in one run's state, never a mix.
  - A message larger than the 64 KiB DNS limit is split by names into several parts (reported in
    RV(zones)), each atomic on its own and pinning the names it covers; atomicity across parts and
    across zones is not possible with RFC 2136.
  - With O(owner), every name written carries an ownership TXT record at C(_s2p-owner.<name>)
    naming the owner and the types it manages there. Names owned by another owner are never
    changed. With O(exclusive), the owner's RRsets that the batch no longer declares are deleted;
    records of other owners and unowned records are never touched.
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
extends_documentation_fragment:
  - esa.s2p.dns
  - esa.s2p.dns.action_group
attributes:
  check_mode:
    support: full
    description: Reads the server, decides every change, sends nothing; C(changed), RV(changes) and the diff
      are those of the real run.
  diff_mode:
    support: full
    description: Zone-file lines of every RRset before and after.
  idempotent:
    support: full
    description: Values compare canonically (names case-insensitive, IPv6 in any spelling, TXT by its
      character-strings), so a second run reports no change.
options:
  records:
    description:
      - The RRsets to converge. Each name and type may appear once.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Absolute owner name (trailing dot optional) inside one of O(zones). Required.
          - Checked with the whole batch by the module (not by the argument spec), so that every bad item
            is reported at once.
        type: str
      type:
        description:
          - Record type, one of C(A), C(AAAA), C(CNAME), C(TXT), C(SRV), C(MX), C(PTR), C(CAA), C(NS). Required.
        type: str
      values:
        description:
          - The complete set of values of the RRset, in presentation form (C(10 mail.s2p.esa.int)
            for MX, C(0 5 5060 sip.s2p.esa.int) for SRV, C(0 issue "letsencrypt.org") for CAA).
          - Target names are absolute. A TXT value is the text itself (no quoting); values longer
            than 255 bytes are split into several character-strings.
          - With O(records[].state=absent), only these values are removed; without values the whole RRset.
        type: list
        elements: str
      ttl:
        description: TTL in seconds, a whole number from 0 to 2147483647. Defaults to O(ttl).
        type: raw
      state:
        description: Whether the RRset (or the given values) should exist, C(present) (the default) or C(absent).
        type: str
      ptr:
        description:
          - For A and AAAA records, also keep a PTR record for each address in the managed reverse zone
            pointing back at the name (several names on one address share its PTR RRset). Default false.
          - With O(records[].state=absent), removes the PTR values pointing back at the name, at the
            addresses given in O(records[].values) or, without values, held by the name now.
        type: raw
      owner:
        description:
          - Owner of this RRset as C(<project>/<environment>), instead of O(owner), so that one task
            converges the records of many owners (for example every deployment of the model) in one
            read and one UPDATE per zone. A name has one owner; automatic PTR records take the owner
            of their A/AAAA item.
          - A name that one owner of the batch gives up (with O(exclusive), or deleting it) may be taken
            by another owner of the same batch, for example an address and its PTR moving from a
            removed VM of one project to a VM of another; two owners swapping names need two tasks.
        type: str
  zones:
    description:
      - The managed zones; names outside them are refused (the zone guard).
    type: list
    elements: str
    default: [s2p.esa.int, 10.in-addr.arpa]
  ttl:
    description: TTL of records that do not give one.
    type: int
    default: 3600
  owner:
    description:
      - Owner of the records as C(<project>/<environment>) (see the C(esa.s2p.dns_owner) naming rule).
        Written into the ownership record of each name; names owned by another owner are refused.
      - Without an owner, only names that no one owns can be changed.
      - The owner of the items that name none in O(records[].owner).
    type: str
  exclusive:
    description:
      - Delete the RRsets that O(owner) manages in O(zones) and that this batch does not declare;
        with O(records[].owner), the same for every owner of the batch (an owner none of whose
        items is in the batch is not touched). Needs an owner for every item.
        Reads every zone by transfer.
    type: bool
    default: false
  read_mode:
    description:
      - How to read the current state. V(axfr) transfers each zone once (needs transfers allowed to
        the key), V(query) asks one ANY query per name, V(auto) transfers from 40 names on.
      - Batches with O(exclusive) or with NS records below a zone apex (delegations, under which
        queries get referrals) are always read by transfer.
    type: str
    choices: [auto, axfr, query]
    default: auto
notes:
  - Other engineers and runs may change the same zones; prerequisites make sure no update is
    applied on top of a state it did not see.
"""

EXAMPLES = r"""
- name: Service names of neocc in OPE, with reverse records
  esa.s2p.dns_record:
    owner: neocc/ope
    records:
      - {name: web.neocc.s2p.esa.int, type: A, values: [10.11.0.5, 10.12.0.5], ptr: true}
      - {name: www.neocc.s2p.esa.int, type: CNAME, values: [web.neocc.s2p.esa.int]}
      - {name: neocc.s2p.esa.int, type: TXT, values: ["v=spf1 -all"]}
      - {name: _https._tcp.neocc.s2p.esa.int, type: SRV, values: ["0 5 443 web.neocc.s2p.esa.int"]}
  module_defaults: &dns
    group/esa.s2p.dns: "{{ s2p_dns_connection }}"

- name: Two deployments in one task (one read, one UPDATE per zone)
  esa.s2p.dns_record:
    records:
      - {name: web.neocc.s2p.esa.int, type: A, values: [10.11.0.5], owner: neocc/ope}
      - {name: web.neocc.ire.s2p.esa.int, type: A, values: [10.11.1.5], owner: neocc/ire}

- name: Remove what neocc/ope no longer declares
  esa.s2p.dns_record:
    owner: neocc/ope
    exclusive: true
    records: "{{ neocc_records }}"
"""

RETURN = r"""
changes:
  description:
    - Every RRset written (or, in check mode, that would be), ownership records included.
    - C(owner) is the owner the batch gave the name (null without one).
  returned: always
  type: list
  elements: dict
  sample: [{name: web.neocc.s2p.esa.int, type: A, action: create, zone: s2p.esa.int, ownership: false,
            owner: neocc/ope, before: null, after: {ttl: 3600, values: [10.11.0.5, 10.12.0.5]}}]
zones:
  description: Per zone touched, the SOA serial before and after, the UPDATE messages sent and the changes.
  returned: always
  type: list
  elements: dict
  sample: [{zone: s2p.esa.int, serial_before: 41, serial: 42, messages: 1, changes: 3}]
read_mode:
  description: How the state was read (axfr or query).
  returned: always
  type: str
attempts:
  description: Reads and plans the run needed; more than 1 when a concurrent change made the server
    refuse an UPDATE, which was then planned again from a fresh read.
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.esa.s2p.plugins.module_utils.dns.converge import converge, request
from ansible_collections.esa.s2p.plugins.module_utils.dns.adapter import dns_client, dns_module
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError

# Types only: the module's own validation checks the values of the whole batch at once.
RECORD_SPEC = dict(
    name=dict(type="str"),
    type=dict(type="str"),
    values=dict(type="list", elements="str"),
    ttl=dict(type="raw"),
    state=dict(type="str"),
    ptr=dict(type="raw"),
    owner=dict(type="str"),
)


def main():
    module = dns_module(
        dict(records=dict(type="list", elements="dict", required=True, options=RECORD_SPEC),
             zones=dict(type="list", elements="str", default=["s2p.esa.int", "10.in-addr.arpa"]),
             ttl=dict(type="int", default=3600),
             owner=dict(type="str"),
             exclusive=dict(type="bool", default=False),
             read_mode=dict(type="str", choices=["auto", "axfr", "query"], default="auto")),
        supports_check_mode=True)
    try:
        params = request(module.params)
        result = converge(dns_client(module), params, module.check_mode, module._diff)
    except S2PError as exc:
        module.fail_json(**exc.as_fail_kwargs())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
