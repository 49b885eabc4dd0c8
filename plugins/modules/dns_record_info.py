#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dns_record_info
short_description: Read DNS record sets and their owners from the primary server of the s2p.esa.int zones
version_added: 0.2.0
description:
  - Reads every RRset at the names in O(names), or every RRset that O(owner) manages in O(zones)
    (by zone transfer), from the zones' primary server, with the owner of each (from the
    ownership records that M(esa.s2p.dns_record) writes).
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
extends_documentation_fragment:
  - esa.s2p.dns
  - esa.s2p.dns.action_group
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing is changed.
  idempotent:
    support: full
    description: Read-only, never reports a change.
options:
  names:
    description: Absolute names to read (inside O(zones)).
    type: list
    elements: str
  owner:
    description: Read every RRset this owner (C(<project>/<environment>)) manages in O(zones) (always by transfer).
    type: str
  types:
    description: Only these record types (all when empty).
    type: list
    elements: str
    default: []
  zones:
    description: The managed zones; names outside them are refused.
    type: list
    elements: str
    default: [s2p.esa.int, 10.in-addr.arpa]
  read_mode:
    description:
      - V(axfr) transfers each zone once, V(query) asks one ANY query per name, V(auto) transfers from 40 names on.
    type: str
    choices: [auto, axfr, query]
    default: auto
"""

EXAMPLES = r"""
- name: What does neocc/ope own in the zones?
  esa.s2p.dns_record_info:
    owner: neocc/ope
  register: neocc_dns

- name: The A and TXT records of two names
  esa.s2p.dns_record_info:
    names: [web.neocc.s2p.esa.int, neocc.s2p.esa.int]
    types: [A, TXT]
"""

RETURN = r"""
records:
  description: One entry per RRset found.
  returned: always
  type: list
  elements: dict
  sample: [{name: web.neocc.s2p.esa.int, type: A, ttl: 3600, values: [10.11.0.5], owner: neocc/ope}]
read_mode:
  description: How the state was read (axfr or query).
  returned: always
  type: str
"""

from ansible_collections.esa.s2p.plugins.module_utils.model import naming
from ansible_collections.esa.s2p.plugins.module_utils.dns.converge import read_info
from ansible_collections.esa.s2p.plugins.module_utils.dns.adapter import dns_client, dns_module
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError


def main():
    module = dns_module(
        dict(names=dict(type="list", elements="str"),
             owner=dict(type="str"),
             types=dict(type="list", elements="str", default=[]),
             zones=dict(type="list", elements="str", default=["s2p.esa.int", "10.in-addr.arpa"]),
             read_mode=dict(type="str", choices=["auto", "axfr", "query"], default="auto")),
        required_one_of=[("names", "owner")],
        mutually_exclusive=[("names", "owner")],
        supports_check_mode=True)
    try:
        if module.params["owner"] is not None:
            naming.check_dns_owner(module.params["owner"])
        result = read_info(dns_client(module), module.params)
    except S2PError as exc:
        module.fail_json(**exc.as_fail_kwargs())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
