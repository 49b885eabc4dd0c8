#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_kv_folder
short_description: Remove the whole KV v2 folder of project environments
version_added: 0.3.0
description:
  - Removes every secret (all versions and metadata, no undelete) under the KV v2 folder of each
    project environment of O(folders), sub-folders included. This is the Vault part of a project
    environment's teardown (credentials, certificates and application secrets all live in that folder).
  - Only folders of project environments are accepted (three valid names, nothing less, nothing more),
    so a run can never reach a segment, a project or the whole mount. The whole batch is validated
    before Vault is contacted; the folders are listed, the removals decided, then done, so check mode
    is exact.
options:
  mount:
    description: The KV v2 mount of the S2P secrets.
    type: str
    default: s2p
  folders:
    description:
      - The KV folders of project environments, each written C(<segment>/<project>/<env>) with names that obey
        the S2P naming rules (the folder of C(esa.s2p.vault_path)); any other path is refused.
    type: list
    elements: str
    required: true
  state:
    description: Only V(absent) (the folders' secrets are created by the modules that own them, for example
      M(esa.s2p.credential) and M(esa.s2p.certificate)).
    type: str
    choices: [absent]
    default: absent
extends_documentation_fragment:
  - esa.s2p.vault
  - esa.s2p.vault.action_group
attributes:
  check_mode:
    support: full
    description: The folders are listed and the removals reported; nothing is removed.
  diff_mode:
    support: full
    description: The secret paths of each folder before, none after (never the values).
  idempotent:
    support: full
    description: A second run finds the folders empty and changes nothing.
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Remove every secret of neocc in a test-campaign environment
  esa.s2p.vault_kv_folder:
    folders: [pd/neocc/ire2]
    state: absent
"""

RETURN = r"""
folders:
  description: One entry per folder, in the order given.
  type: list
  elements: dict
  returned: always
  contains:
    folder: {description: The KV folder., type: str}
    removed: {description: The secret paths removed (or that would be in check mode)., type: list, elements: str}
  sample:
    - {folder: pd/neocc/ire2, removed: [pd/neocc/ire2/ldap-bind, pd/neocc/ire2/tls]}
"""

from ansible_collections.esa.s2p.plugins.module_utils.vault import kv_folder as kvf
from ansible_collections.esa.s2p.plugins.module_utils.model.naming import DEFAULT_VAULT_KV_MOUNT
from ansible_collections.esa.s2p.plugins.module_utils.vault.adapter import batch_module, run_batch


def main():
    module = batch_module(dict(
        mount=dict(type="str", default=DEFAULT_VAULT_KV_MOUNT),
        folders=dict(type="list", elements="str", required=True),
        state=dict(type="str", choices=["absent"], default="absent"),
    ))
    mount = module.params["mount"]
    run_batch(module, lambda: kvf.validate(module.params["folders"], mount),
              lambda vault, folders, write: kvf.converge(vault, mount, folders, write))


if __name__ == "__main__":
    main()
