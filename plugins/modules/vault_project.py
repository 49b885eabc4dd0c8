#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_project
short_description: Least-privilege Vault policy and AppRole per project environment
version_added: 0.2.0
description:
  - For each project environment of O(projects), converges the ACL policy C(s2p-<project>-<env>) that reads
    only the project environment's KV v2 folder (C(<mount>/data/<segment>/<project>/<env>/*), with its
    metadata), and the AppRole of the same name that carries only that policy, with a bounded secret_id TTL
    and number of uses.
  - Names and paths come from the S2P naming rules. The whole batch is validated first; the policies and
    roles are read, the changes decided, then written, so check mode is exact.
  - No secret_id is created here; issue them where they are used (for example with a response-wrapped
    request), so they never pass through this module's output.
options:
  mount:
    description: The KV v2 mount of the S2P secrets.
    type: str
    default: s2p
  role_ids:
    description:
      - Return each AppRole's role_id (RV(projects[].role_id)). Vault has no bulk read of them, so this
        costs one request per project environment; V(false) skips them when nothing reads the role IDs
        (the roles of this collection do not).
    type: bool
    default: true
  projects:
    description: The project environments.
    type: list
    elements: dict
    required: true
    suboptions:
      project:
        description: The project name.
        type: str
        required: true
      environment:
        description: The environment name.
        type: str
        required: true
      segment:
        description: The project's segment (part of its KV path).
        type: str
        required: true
      state:
        description: V(present) or V(absent) (removes the AppRole and the policy).
        type: str
        choices: [present, absent]
        default: present
      secret_id_ttl:
        description: Lifetime of each secret_id (a duration such as V(24h); at most 30 days).
        type: raw
        default: 24h
      secret_id_num_uses:
        description: Logins per secret_id (1 to 1000; unlimited is not allowed).
        type: int
        default: 10
      token_ttl:
        description: Lifetime of the tokens the AppRole issues.
        type: raw
        default: 1h
      token_max_ttl:
        description: Maximum lifetime of those tokens after renewals.
        type: raw
        default: 4h
extends_documentation_fragment:
  - esa.s2p.vault
  - esa.s2p.vault.action_group
attributes:
  check_mode:
    support: full
    description: Policies and roles are read and the changes decided; nothing is written.
  diff_mode:
    support: full
    description: Policy text and AppRole settings before and after.
  idempotent:
    support: full
    description: A second run with the same input changes nothing.
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Read-only policy and AppRole of two project environments
  esa.s2p.vault_project:
    projects:
      - {project: neocc, environment: ope, segment: pd}
      - {project: neocc, environment: dev, segment: pd, secret_id_ttl: 1h, secret_id_num_uses: 1}
"""

RETURN = r"""
projects:
  description: One entry per project environment, in the order given.
  type: list
  elements: dict
  returned: always
  contains:
    name: {description: The policy and AppRole name., type: str}
    folder: {description: The KV folder the policy reads., type: str}
    action: {description: "V(create), V(update), V(delete) or V(none).", type: str}
    role_id:
      description: The AppRole's role_id (not a secret on its own).
      type: str
      returned: when present and O(role_ids) is true
  sample:
    - {name: s2p-neocc-ope, folder: pd/neocc/ope, action: create, role_id: 0b3c...}
"""

from ansible_collections.esa.s2p.plugins.module_utils.vault import project as vp
from ansible_collections.esa.s2p.plugins.module_utils.model.naming import DEFAULT_VAULT_KV_MOUNT
from ansible_collections.esa.s2p.plugins.module_utils.vault.adapter import batch_module, run_batch

PROJECT_SPEC = dict(
    project=dict(type="str", required=True),
    environment=dict(type="str", required=True),
    segment=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    secret_id_ttl=dict(type="raw", default="24h", no_log=False),
    secret_id_num_uses=dict(type="int", default=10, no_log=False),
    token_ttl=dict(type="raw", default="1h", no_log=False),
    token_max_ttl=dict(type="raw", default="4h", no_log=False),
)


def main():
    module = batch_module(dict(
        mount=dict(type="str", default=DEFAULT_VAULT_KV_MOUNT),
        role_ids=dict(type="bool", default=True),
        projects=dict(type="list", elements="dict", required=True, options=PROJECT_SPEC),
    ))
    run_batch(module, lambda: vp.validate(module.params["projects"], module.params["mount"]),
              lambda vault, items, write: vp.converge(vault, items, write, role_ids=module.params["role_ids"]))


if __name__ == "__main__":
    main()
