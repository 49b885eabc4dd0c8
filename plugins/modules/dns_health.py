#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dns_health
short_description: Check that the zones' primary DNS server answers and accepts the TSIG key
version_added: 0.1.0
description:
  - Queries the SOA of every zone in O(zones) at the primary server and checks that it answers
    authoritatively; reports each zone's serial.
  - Proves that the server accepts the TSIG key with a signed query, which changes nothing
    (the server verifies the signature of every signed request).
  - Never fails because the server is unhealthy; returns RV(healthy) and one entry per check in
    RV(checks), whose message says what to fix. Fails only on invalid options.
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
extends_documentation_fragment:
  - esa.s2p.dns
  - esa.s2p.attributes.read_only
  - esa.s2p.dns.action_group
options:
  zones:
    description:
      - Zones whose SOA the server must answer authoritatively.
    type: list
    elements: str
    default: [s2p.esa.int]
"""

EXAMPLES = r"""
- name: Check the primary DNS server before changing records
  esa.s2p.dns_health:
    server: ns1.s2p.esa.int
    key_name: s2p-automation
    key_secret: "{{ vault_tsig_secret }}"
    zones: [s2p.esa.int, 10.in-addr.arpa]
  register: dns_health

- name: Stop when a check failed
  ansible.builtin.assert:
    that: dns_health.healthy
    fail_msg: "{{ dns_health.checks | rejectattr('ok') | map(attribute='msg') | list }}"
"""

RETURN = r"""
healthy:
  description: True when every check passed.
  returned: always
  type: bool
checks:
  description: One entry per check, in the order they ran.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: What was checked.
      type: str
      returned: always
      sample: "zone s2p.esa.int"
    ok:
      description: Whether the check passed.
      type: bool
      returned: always
    msg:
      description: The finding, or what to fix when C(ok) is false.
      type: str
      returned: always
server:
  description: The server and port that were asked.
  returned: always
  type: str
  sample: 127.0.0.1:10053
key_name:
  description: The TSIG key name, null when no key was given.
  returned: always
  type: str
zones:
  description: SOA of every zone the server answered authoritatively.
  returned: always
  type: list
  elements: dict
  sample: [{zone: s2p.esa.int, serial: 2024010101, primary: ns1.s2p.esa.int,
            contact: hostmaster.s2p.esa.int, authoritative: true, signed: true}]
"""

from ansible_collections.esa.s2p.plugins.module_utils.dns.client import health_report
from ansible_collections.esa.s2p.plugins.module_utils.dns.adapter import dns_client, dns_module


def main():
    module = dns_module(dict(zones=dict(type="list", elements="str", default=["s2p.esa.int"])),
                        supports_check_mode=True)
    if not module.params["zones"]:
        module.fail_json(msg="zones must name at least one zone")
    module.exit_json(changed=False, **health_report(dns_client(module), module.params["zones"]))


if __name__ == "__main__":
    main()
