#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: acme_health
short_description: Check that the ACME certificate authority is reachable, trusted and complete
version_added: 0.1.0
description:
  - Reads the ACME directory over HTTPS (verified with O(ca_path)), checks that it offers the
    C(newNonce), C(newAccount) and C(newOrder) resources, and fetches a fresh nonce.
  - Returns the directory's C(meta) (terms of service, website, CAA identities, external account
    binding) for the engineer to read.
  - Never fails because the CA is unhealthy; returns RV(healthy) and one entry per check in
    RV(checks), whose message says what to fix. Fails only on invalid options.
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
extends_documentation_fragment:
  - esa.s2p.acme
  - esa.s2p.attributes.read_only
  - esa.s2p.acme.action_group
"""

EXAMPLES = r"""
- name: Check the ACME CA before ordering certificates
  esa.s2p.acme_health:
    acme_directory: https://acme.s2p.esa.int/directory
    ca_path: /etc/pki/s2p/ca.pem
  register: acme_health

- name: Show the terms of service the account must agree to
  ansible.builtin.debug:
    var: acme_health.meta.termsOfService
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
      sample: "newNonce answers"
    ok:
      description: Whether the check passed.
      type: bool
      returned: always
    msg:
      description: The finding, or what to fix when C(ok) is false.
      type: str
      returned: always
directory_url:
  description: The directory URL that was read.
  returned: always
  type: str
  sample: https://127.0.0.1:14000/dir
resources:
  description: Resource URLs of the directory (newNonce, newAccount, newOrder, revokeCert, keyChange...).
  returned: when the directory was read
  type: dict
  sample: {newNonce: "https://127.0.0.1:14000/nonce-plz", newOrder: "https://127.0.0.1:14000/order-plz"}
meta:
  description: The directory's C(meta) object as the CA sent it (termsOfService, website, caaIdentities,
    externalAccountRequired, profiles).
  returned: when the directory was read
  type: dict
  sample: {termsOfService: "data:text/plain,Do%20what%20thou%20wilt", externalAccountRequired: false}
"""

from ansible_collections.esa.s2p.plugins.module_utils.acme.client import health_report
from ansible_collections.esa.s2p.plugins.module_utils.acme.adapter import acme_client, acme_module


def main():
    module = acme_module(supports_check_mode=True)
    module.exit_json(changed=False, **health_report(acme_client(module)))


if __name__ == "__main__":
    main()
