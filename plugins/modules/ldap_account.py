#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ldap_account
short_description: Converge a batch of LDAP service accounts and people in one task
version_added: 0.2.0
description:
  - Creates, updates, locks and removes accounts under V(ou=services) (O(accounts[].kind=service)) and
    V(ou=people) (O(accounts[].kind=person)) of O(base_dn), and adds them to existing groups.
  - The whole batch is validated before the directory is contacted; one bad item fails the task naming
    the item and the field, and nothing is changed.
  - The entries are read with one search per kind for up to 1,000 names (never one per account), the changes
    are decided, and only then written, so check mode reports exactly what a real run does.
  - Reads and small batches use one connection. Writes of larger batches (from 32 accounts) run over up to
    4 connections at a time, opened once per task; each account's own steps (create or update, then
    password) stay in order, and group memberships and removals follow.
  - From 8 creates or updates, they are sent as LDAP transactions (RFC 5805) of up to 500 entries, which
    the server commits at once (one database commit instead of one per entry). A transaction the server
    refuses (or a server without transactions) writes nothing, and its entries are then written one by one,
    so errors still name the entry.
  - DNs are built with RFC 4514 escaping and search filters with RFC 4515 escaping; no input is ever pasted
    into a DN or filter as is.
  - Passwords are set with the Password Modify extended operation (RFC 3062), so the server hashes them and
    applies its password policy. Passwords are never compared (that would need binds that count as
    failures and lock accounts); use M(esa.s2p.credential) to keep passwords in Vault and rotate them.
options:
  base_dn:
    description:
      - The directory's base entry; accounts live under V(ou=services) and V(ou=people) of it.
      - If not set, the environment variable E(LDAPBASE) is used.
    type: str
    default: dc=s2p,dc=esa,dc=int
  accounts:
    description: The accounts to converge.
    type: list
    elements: dict
    required: true
    suboptions:
      uid:
        description:
          - The account's uid, its RDN. For V(service), use the naming rule C(<project>-<env>) (filter
            C(esa.s2p.service_account)); for V(person), a person uid (lower-case letters, digits, C(-._)).
        type: str
        required: true
      kind:
        description: V(service) for C(ou=services), V(person) for C(ou=people).
        type: str
        choices: [service, person]
        default: service
      state:
        description:
          - V(present) creates or updates the entry and lifts a lock this module set.
          - V(locked) also locks it (ppolicy C(pwdAccountLockedTime=000001010000Z), until unlocked).
          - V(absent) removes the entry and its memberships.
        type: str
        choices: [present, absent, locked]
        default: present
      attributes:
        description:
          - Attributes to set, as a mapping of name to a value or a list of values; V(null) or V([]) removes
            the attribute. Attributes not listed are left alone.
          - C(cn) and C(sn) default to the uid when an entry is created.
          - C(uid), C(objectClass), C(userPassword), C(member) and the C(pwd*) attributes are managed by the
            module and refused here.
        type: dict
        default: {}
      object_classes:
        description: Object classes in addition to C(top) and C(inetOrgPerson); missing ones are added.
        type: list
        elements: str
        default: []
      groups:
        description:
          - Group CNs (C(<project>-<group>), filter C(esa.s2p.ldap_dn)) the account must be a member of.
            The groups must exist (M(esa.s2p.ldap_group)). Other memberships are left alone.
        type: list
        elements: str
      password:
        description:
          - Password set with the Password Modify extended operation when the entry is created
            (O(accounts[].update_password=on_create)) or on every run (V(always)).
        type: str
      update_password:
        description: V(on_create) sets O(accounts[].password) only on new entries; V(always) on every run.
        type: str
        choices: [on_create, always]
        default: on_create
extends_documentation_fragment:
  - esa.s2p.ldap
  - esa.s2p.ldap.action_group
attributes:
  check_mode:
    support: full
    description: The changes are decided before anything is written; check mode returns the same result.
  diff_mode:
    support: full
    description: Attributes of the entries that change, before and after (never passwords).
  idempotent:
    support: partial
    description: Idempotent, except with O(accounts[].update_password=always) which sets the password every run.
seealso:
  - module: esa.s2p.ldap_group
  - module: esa.s2p.credential
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Service accounts of every project environment (the uid of each deployment's service_account)
  esa.s2p.ldap_account:
    accounts: "{{ s2p_model.deployments | map(attribute='service_account') | map('ansible.builtin.dict2items')
                  | map('selectattr', 'key', '==', 'uid') | map('list') | map('ansible.builtin.items2dict') | list }}"

- name: A person, in a group, locked
  esa.s2p.ldap_account:
    accounts:
      - uid: jdoe
        kind: person
        state: locked
        attributes: {cn: Jane Doe, sn: Doe, mail: jane.doe@esa.int}
        groups: [neocc-developers]
"""

RETURN = r"""
accounts:
  description: One entry per account, in the order given.
  type: list
  elements: dict
  returned: always
  contains:
    uid: {description: The uid., type: str}
    dn: {description: The entry's DN., type: str}
    action: {description: "V(create), V(update), V(delete) or V(none).", type: str}
    changed_attributes: {description: Attribute names changed on an existing entry., type: list, elements: str}
  sample:
    - {uid: neocc-ope, dn: "uid=neocc-ope,ou=services,dc=s2p,dc=esa,dc=int", action: create,
       changed_attributes: []}
groups_changed:
  description: DNs of the groups whose members changed.
  type: list
  elements: str
  returned: always
"""

from ansible_collections.esa.s2p.plugins.module_utils.ldap.entries import validate_accounts
from ansible_collections.esa.s2p.plugins.module_utils.ldap.adapter import batch_module, run_batch
from ansible_collections.esa.s2p.plugins.module_utils.ldap.sync import converge_accounts

ACCOUNT_SPEC = dict(
    uid=dict(type="str", required=True),
    kind=dict(type="str", choices=["service", "person"], default="service"),
    state=dict(type="str", choices=["present", "absent", "locked"], default="present"),
    attributes=dict(type="dict", default={}),
    object_classes=dict(type="list", elements="str", default=[]),
    groups=dict(type="list", elements="str"),
    password=dict(type="str", no_log=True),
    update_password=dict(type="str", choices=["on_create", "always"], default="on_create", no_log=False),
)


def main():
    run_batch(batch_module("accounts", ACCOUNT_SPEC), "accounts", validate_accounts, converge_accounts)


if __name__ == "__main__":
    main()
