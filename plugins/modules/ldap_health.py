#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ldap_health
short_description: Check that the directory answers over verified TLS, accepts the bind and holds the base entries
version_added: 0.1.0
description:
  - Opens one connection, establishes TLS (LDAPS or StartTLS) with certificate checks, binds as O(bind_dn)
    only then, reads O(base_dn) and checks that every entry of O(required_entries) exists.
  - Never fails because the directory is unhealthy; it returns RV(healthy) and one entry per check in
    RV(checks) so a preflight can report every backend at once. It fails only on invalid parameters.
options:
  base_dn:
    description:
      - The directory's base entry, for example V(dc=s2p,dc=esa,dc=int).
      - If not set, the environment variable E(LDAPBASE) is used.
    type: str
    required: true
  required_entries:
    description:
      - Entries that must exist, relative to O(base_dn) (V(ou=people)) or as full DNs.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - esa.s2p.ldap
  - esa.s2p.attributes.read_only
  - esa.s2p.ldap.action_group
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Check the directory
  esa.s2p.ldap_health:
    server_uri: ldaps://ldap.s2p.esa.int
    bind_dn: cn=s2p-automation,ou=services,dc=s2p,dc=esa,dc=int
    bind_pw: "{{ ldap_password }}"
    ca_path: /etc/pki/s2p/ca.pem
    base_dn: dc=s2p,dc=esa,dc=int
    required_entries: [ou=people, ou=services, ou=groups]
  register: ldap
"""

RETURN = r"""
healthy:
  description: True when every check passed.
  type: bool
  returned: always
checks:
  description: One entry per check, in the order they ran; checks after a failed connection step are not run.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: Check name (V(reachable), V(tls), V(bind), V(base), V(entries)).
      type: str
    ok:
      description: Whether the check passed.
      type: bool
    msg:
      description: What was found; when not ok, what to fix.
      type: str
  sample:
    - {name: tls, ok: true, msg: "LDAPS TLSv1.3, certificate verified"}
    - {name: entries, ok: false, msg: "missing entries: ou=services,dc=s2p,dc=esa,dc=int"}
tls:
  description: TLS facts of the connection (version, cipher, method, validated).
  type: dict
  returned: when TLS was established
identity:
  description: The identity the server bound us as (Who am I?), for example V(dn:cn=admin,dc=s2p,dc=esa,dc=int).
  type: str
  returned: when the bind succeeded
"""

from ansible.module_utils.basic import env_fallback

from ansible_collections.esa.s2p.plugins.module_utils.ldap.client import health_report
from ansible_collections.esa.s2p.plugins.module_utils.ldap.adapter import ldap_client, ldap_module


def main():
    module = ldap_module(dict(
        base_dn=dict(type="str", required=True, fallback=(env_fallback, ["LDAPBASE"])),
        required_entries=dict(type="list", elements="str", default=[]),
    ), supports_check_mode=True)
    report = health_report(ldap_client(module), module.params["base_dn"], module.params["required_entries"])
    module.exit_json(changed=False, **report)


if __name__ == "__main__":
    main()
