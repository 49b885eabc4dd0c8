#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_health
short_description: Check that Vault is reachable, initialised, unsealed, accepts our credentials and has the mounts
version_added: 0.1.0
description:
  - Reads C(sys/health), logs in once (token or AppRole), looks the token up (TTL and policies), and checks
    that every mount of O(mounts) exists with the expected type. Mounts are read from C(sys/mounts) when the
    token may, else from C(sys/internal/ui/mounts/<path>), which any token with access under the path can read.
  - Never fails because Vault is unhealthy; it returns RV(healthy) and one entry per check in
    RV(checks) so a preflight can report every backend at once. It fails only on invalid parameters.
options:
  mounts:
    description:
      - Secrets engines that must be mounted, as path to expected type.
      - Types are engine types (V(pki), V(transit)...), V(kv-v2) or V(kv-v1) for a KV engine of that version,
        or V(kv) for either.
    type: dict
    default: {}
extends_documentation_fragment:
  - esa.s2p.vault
  - esa.s2p.attributes.read_only
  - esa.s2p.vault.action_group
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Check Vault with the automation AppRole
  esa.s2p.vault_health:
    url: https://vault.s2p.esa.int:8200
    auth_method: approle
    role_id: "{{ vault_role_id }}"
    secret_id: "{{ vault_secret_id }}"
    ca_cert: /etc/pki/s2p/ca.pem
    mounts:
      s2p: kv-v2
      pki: pki
  register: vault
"""

RETURN = r"""
healthy:
  description: True when every check passed.
  type: bool
  returned: always
checks:
  description: One entry per check, in the order they ran; checks after a failed step are not run.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: Check name (V(reachable), V(tls), V(initialised), V(unsealed), V(auth), V(mounts)).
      type: str
    ok:
      description: Whether the check passed.
      type: bool
    msg:
      description: What was found; when not ok, what to fix.
      type: str
  sample:
    - {name: unsealed, ok: false, msg: "Vault at https://127.0.0.1:18200 is sealed; unseal it (bao operator unseal)"}
version:
  description: Server version from C(sys/health), for example V(2.4.1).
  type: str
  returned: when Vault answered
token:
  description: The token's display_name, policies, ttl (seconds), renewable and expire_time.
  type: dict
  returned: when the login succeeded
mounts:
  description: Found mounts of O(mounts), path to type (V(kv v2), V(pki)).
  type: dict
  returned: when the login succeeded
"""

from ansible_collections.esa.s2p.plugins.module_utils.vault.client import health_report
from ansible_collections.esa.s2p.plugins.module_utils.vault.adapter import vault_client, vault_module


def main():
    module = vault_module(dict(mounts=dict(type="dict", default={})), supports_check_mode=True)
    report = health_report(vault_client(module), mounts=module.params["mounts"])
    module.exit_json(changed=False, **report)


if __name__ == "__main__":
    main()
