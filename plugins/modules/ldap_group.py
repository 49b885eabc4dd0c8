#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ldap_group
short_description: Converge a batch of LDAP groups and their members over one connection
version_added: 0.2.0
description:
  - Creates, updates and removes groups of names (C(groupOfNames)) under V(ou=groups) of O(base_dn).
  - The whole batch is validated before the directory is contacted; the groups are read with one search
    per 200 groups, the changes decided, and only then written, so check mode is exact.
  - A group of names needs at least one member; a group with no members holds its own DN as a placeholder,
    which the module never reports as a member.
options:
  base_dn:
    description:
      - The directory's base entry.
      - If not set, the environment variable E(LDAPBASE) is used.
    type: str
    default: dc=s2p,dc=esa,dc=int
  groups:
    description: The groups to converge.
    type: list
    elements: dict
    required: true
    suboptions:
      cn:
        description: The group's CN, C(<project>-<group>) (filter C(esa.s2p.ldap_dn) for the DN).
        type: str
        required: true
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      members:
        description: Members as person uids (C(jdoe), under C(ou=people)) or full DNs under O(base_dn).
        type: list
        elements: str
        default: []
      exclusive:
        description: V(true) removes members not listed; V(false) only adds the missing ones.
        type: bool
        default: false
      description:
        description: The group's description; not changed when not set.
        type: str
extends_documentation_fragment:
  - esa.s2p.ldap
  - esa.s2p.ldap.action_group
attributes:
  check_mode:
    support: full
    description: The changes are decided before anything is written; check mode returns the same result.
  diff_mode:
    support: full
    description: Members and description of the groups that change, before and after.
  idempotent:
    support: full
    description: A second run with the same input changes nothing.
seealso:
  - module: esa.s2p.ldap_account
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Project groups from the model, exactly these members
  esa.s2p.ldap_group:
    groups: "{{ s2p_model.ldap_groups | map('combine', {'exclusive': true}) | list }}"
"""

RETURN = r"""
groups:
  description: One entry per group, in the order given.
  type: list
  elements: dict
  returned: always
  contains:
    cn: {description: The CN., type: str}
    dn: {description: The group's DN., type: str}
    action: {description: "V(create), V(update), V(delete) or V(none).", type: str}
  sample:
    - {cn: neocc-developers, dn: "cn=neocc-developers,ou=groups,dc=s2p,dc=esa,dc=int", action: update}
"""

from ansible_collections.esa.s2p.plugins.module_utils.ldap.entries import validate_groups
from ansible_collections.esa.s2p.plugins.module_utils.ldap.adapter import batch_module, run_batch
from ansible_collections.esa.s2p.plugins.module_utils.ldap.sync import converge_groups

GROUP_SPEC = dict(
    cn=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    members=dict(type="list", elements="str", default=[]),
    exclusive=dict(type="bool", default=False),
    description=dict(type="str"),
)


def main():
    run_batch(batch_module("groups", GROUP_SPEC), "groups", validate_groups, converge_groups)


if __name__ == "__main__":
    main()
