# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: vault_secret
short_description: Read secrets from Vault KV v2 with one login per lookup call
version_added: 0.2.0
description:
  - Returns the data (or one O(field) of it) of the newest version of each KV v2 path given as a term.
  - Logs in once per call, whatever the number of terms (AppRole tokens are revoked at the end), with the
    same connection options and environment variables as the esa.s2p Vault modules.
  - A path with a pending rotation but no current password (written by M(esa.s2p.credential)) returns the data
    as stored; read the C(password) field for the current password.
options:
  _terms:
    description: KV paths inside O(mount), for example V(pd/neocc/ope/db-password) (filter C(esa.s2p.vault_path)).
    type: list
    elements: str
    required: true
  mount:
    description: The KV v2 mount.
    type: str
    default: s2p
  field:
    description: Return only this key of each secret's data (fails when a secret lacks it).
    type: str
extends_documentation_fragment:
  - esa.s2p.vault
  - esa.s2p.vault.plugins
notes:
  - Mark the values with C(no_log) where they are used; the lookup returns them as unsafe text.
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Database password of neocc in OPE
  ansible.builtin.set_fact:
    db_password: "{{ lookup('esa.s2p.vault_secret', 'pd/neocc/ope/db-password', field='password') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: One item per term, the secret's data (a dict) or the value of O(field).
  type: list
  elements: raw
"""

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase
from ansible.utils.unsafe_proxy import wrap_var

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.vault.adapter import client_from_options


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        mount, field = self.get_option("mount"), self.get_option("field")
        results = []
        try:
            with client_from_options(self.get_option) as client:  # one login for every term
                for term in terms:
                    secret = client.kv_read(mount, term)
                    if secret is None or secret["data"] is None:
                        raise AnsibleLookupError("esa.s2p.vault_secret: no secret at %s/%s (or its newest version "
                                                 "is deleted)" % (mount, term))
                    if field is None:
                        results.append(secret["data"])
                    elif field in secret["data"]:
                        results.append(secret["data"][field])
                    else:
                        raise AnsibleLookupError("esa.s2p.vault_secret: %s/%s has no field %r (fields: %s)" % (
                            mount, term, field, ", ".join(sorted(secret["data"]))))
        except S2PError as exc:
            raise AnsibleLookupError("esa.s2p.vault_secret: %s" % to_native(exc)) from None
        return wrap_var(results)
