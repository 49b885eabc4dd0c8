#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: credential
short_description: Keep account passwords in Vault KV v2, apply them to LDAP, rotate them crash-safely
version_added: 0.2.0
description:
  - For each item of O(credentials), makes sure a password for the LDAP account exists in Vault KV v2 at
    O(credentials[].path) of O(kv_mount), that LDAP has it, and that it is younger than
    O(credentials[].rotation_period_days) (else, or with O(force), a new one is generated and applied).
  - Vault is the source of truth. A new password is written to Vault as C(pending_password) first, then set
    in LDAP with the Password Modify extended operation, then promoted to C(password) in Vault. A run killed
    at any point is completed by the next run; afterwards LDAP holds Vault's current password.
  - The first password of an account that has none yet (no secret in Vault, no C(pwdChangedTime) in LDAP)
    has no old password to keep working, so it skips the pending version. It is written to Vault as the
    current C(password) first, not yet confirmed, then set in LDAP, then confirmed in the custom metadata.
    A version that is not confirmed is re-applied by the next run.
  - A password written to Vault by hand (an operator fixing a credential with C(kv put) of a new C(password),
    or C(kv patch) over the module's data) is applied to LDAP as it is by the next run (action V(reapply), no
    new version), never replaced by a generated one; its rotation period counts from its C(rotated_at), else
    from when that version was written. The module marks the versions it writes (C(written_version)) to
    tell them from such a version.
  - Whether LDAP still holds the current password is decided from Vault (the entry's C(pwdChangedTime)
    recorded when the password was set, in the version or in the metadata's confirmation of that version),
    never by binding with it, so accounts are never locked out.
  - The secret's custom metadata holds C(owner), C(project), C(rotation_period_days), C(rotated_at) and
    C(account). When it confirms a version without a new version (a first password, a re-applied one), it
    also holds C(ldap_changed) and C(applied_version).
  - One Vault login per task. Secrets that do not exist yet are found with folder listings, not one read
    each (see the notes). The whole batch is validated first; Vault and LDAP are
    both read before anything is written, so a sealed Vault, an expired token or a forbidden path fails the
    task before LDAP is touched.
  - Each phase runs over the whole batch before the next starts, with up to 8 Vault requests and, for large
    batches, up to 4 LDAP connections (opened once per task) at a time; every account goes through the
    phases in order.
  - Passwords are returned only with O(return_secret=true), which requires C(no_log) on the task.
options:
  credentials:
    description: The accounts whose password is kept in Vault.
    type: list
    elements: dict
    required: true
    suboptions:
      uid:
        description: The account's uid (it must exist, see M(esa.s2p.ldap_account)).
        type: str
        required: true
      kind:
        description: V(service) (C(ou=services)) or V(person) (C(ou=people)).
        type: str
        choices: [service, person]
        default: service
      path:
        description:
          - The KV path inside O(kv_mount), from the naming rules (filter C(esa.s2p.vault_path)).
          - Lower-case letters, digits, C(-), C(_) and C(.), elements of at most 63 characters separated by
            C(/), at most 255 characters in all; checked for the whole batch before anything is written.
        type: str
        required: true
      owner:
        description: Who owns the credential (custom metadata).
        type: str
      project:
        description: The project it belongs to (custom metadata).
        type: str
      rotation_period_days:
        description: Rotate when the current password is this many days old.
        type: int
        default: 90
      force:
        description: Rotate this credential now.
        type: bool
        default: false
  base_dn:
    description:
      - The directory's base entry.
      - If not set, the environment variable E(LDAPBASE) is used.
    type: str
    default: dc=s2p,dc=esa,dc=int
  kv_mount:
    description:
      - The KV v2 mount, as O(kv_mount) of M(esa.s2p.certificate) and M(esa.s2p.swarm_stack).
      - The alias O(mount) is deprecated and will be removed in 2.0.0.
    type: str
    default: s2p
    aliases: [mount]
  length:
    description: Length of generated passwords (16 to 256).
    type: int
    default: 32
  characters:
    description: Character classes of generated passwords; each one appears at least once.
    type: list
    elements: str
    choices: [lower, upper, digits, symbols]
    default: [lower, upper, digits, symbols]
  force:
    description: Rotate every credential of the batch now.
    type: bool
    default: false
  return_secret:
    description:
      - Return the current passwords in RV(secrets). The task must set C(no_log=true), else the module fails.
    type: bool
    default: false
extends_documentation_fragment:
  - esa.s2p.ldap
  - esa.s2p.vault.connection
  - esa.s2p.ldap.action_group
notes:
  - Drift detection needs the directory's password policy overlay (ppolicy), which maintains C(pwdChangedTime);
    without it every run re-applies the current password (and reports a change).
  - Passwords set by the directory's root DN bypass ppolicy quality checks in OpenLDAP; O(length) and
    O(characters) are what guarantees the strength of generated passwords.
  - A run that stalls after reading (for example a module process that outlives its killed controller)
    does not overwrite a newer password. Right before Password Modify it re-reads the entry's
    C(pwdChangedTime). If someone set a password after the run read it, the account is neither applied nor
    promoted, and the task fails naming it. The promotion is a check-and-set on the run's own pending version;
    a confirmation names the version it confirms, so one that a newer version overtook confirms nothing.
  - What that does not cover is a Password Modify already in flight while another run rotates, or a
    process stopped between that re-read and its Password Modify (a window of milliseconds). C(pwdChangedTime)
    also has a one-second resolution. In those cases LDAP ends with an older password than Vault's current
    one. The next run sees that C(pwdChangedTime) differs from what Vault recorded, and re-applies Vault's
    current password (action V(reapply)).
  - A KV folder that holds two or more of the batch's paths is listed before reading (the token needs
    C(list) on C(<mount>/metadata/...), else the paths are read one by one); a path missing from its
    folder's listing is not read. Writes of new secrets still use check-and-set 0.
  - LDAP is the module's own backend (options at the top level, action group C(group/esa.s2p.ldap)); Vault
    is its second backend, the option O(vault) (for example C("{{ s2p_vault_connection }}")), with
    its own O(vault.validate_certs) and O(vault.timeout). The module is not in C(group/esa.s2p.vault).
attributes:
  check_mode:
    support: full
    description:
      - Vault and LDAP are read and the actions decided; nothing is written.
      - An account that does not exist yet is predicted as M(esa.s2p.ldap_account) creates it earlier in the
        same run (without a password), with a warning; outside check mode such an account is an error.
  diff_mode:
    support: none
    description: Passwords are never shown; RV(credentials) lists the actions.
  idempotent:
    support: full
    description: A second run changes nothing until a rotation is due or forced.
seealso:
  - module: esa.s2p.ldap_account
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Passwords of the project service accounts, rotated every 90 days
  esa.s2p.credential:
    credentials:
      - uid: neocc-ope
        path: pd/neocc/ope/ldap-bind
        owner: neocc-team
        project: neocc
    vault: "{{ s2p_vault_connection }}"
  module_defaults:
    group/esa.s2p.ldap: "{{ s2p_ldap_connection }}"
"""

RETURN = r"""
credentials:
  description: One entry per credential, in the order given.
  type: list
  elements: dict
  returned: always
  contains:
    uid: {description: The account's uid., type: str}
    path: {description: The KV path., type: str}
    action:
      description:
        - V(create) (first password), V(rotate), V(complete) (a rotation a killed run left pending),
          V(reapply) (LDAP no longer had the current password, a killed run left it unconfirmed, or it was
          written to Vault by hand),
          V(metadata) (only the metadata was fixed) or V(none).
      type: str
  sample:
    - {uid: neocc-ope, path: pd/neocc/ope/ldap-bind, action: rotate}
secrets:
  description: "{path: current password}, only with O(return_secret=true)."
  type: dict
  returned: when O(return_secret=true)
"""

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.ldap.adapter import base_dn_option, ldap_client, ldap_module
from ansible_collections.esa.s2p.plugins.module_utils.model.naming import DEFAULT_VAULT_KV_MOUNT
from ansible_collections.esa.s2p.plugins.module_utils.vault.adapter import ADAPTER as VAULT
from ansible_collections.esa.s2p.plugins.module_utils.workflows import credential as cred

CREDENTIAL_SPEC = dict(
    uid=dict(type="str", required=True),
    kind=dict(type="str", choices=["service", "person"], default="service"),
    path=dict(type="str", required=True, no_log=False),
    owner=dict(type="str"),
    project=dict(type="str"),
    rotation_period_days=dict(type="int", default=90),
    force=dict(type="bool", default=False),
)


def main():
    module = ldap_module(dict(
        credentials=dict(type="list", elements="dict", required=True, options=CREDENTIAL_SPEC),
        base_dn=base_dn_option(),
        kv_mount=dict(type="str", default=DEFAULT_VAULT_KV_MOUNT, aliases=["mount"],
                      deprecated_aliases=[dict(name="mount", version="2.0.0", collection_name="esa.s2p")]),
        length=dict(type="int", default=32),
        characters=dict(type="list", elements="str", choices=sorted(cred.CHARACTER_CLASSES),
                        default=["lower", "upper", "digits", "symbols"]),
        force=dict(type="bool", default=False),
        return_secret=dict(type="bool", default=False, no_log=False),
        vault=VAULT.nested_option(),
    ), supports_check_mode=True)
    if module.params["return_secret"] and not module.no_log:
        module.fail_json(msg="return_secret=true returns passwords: set no_log: true on the task", changed=False)
    try:
        result, warnings = cred.converge(module.params, module.check_mode, lambda: ldap_client(module),
                                         lambda: VAULT.nested_client(module, "vault"))
    except S2PError as exc:
        module.fail_json(**exc.as_fail_kwargs())
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
