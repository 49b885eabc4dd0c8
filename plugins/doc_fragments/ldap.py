# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options of every esa.s2p LDAP module (spec: module_utils/ldap/adapter.py)."""

    DOCUMENTATION = r"""
options:
  server_uri:
    description:
      - URI of the directory, V(ldaps://host:636) or V(ldap://host:389) with O(start_tls=true).
      - A plain V(ldap://) URI without O(start_tls) is refused, so the bind password never travels in clear.
      - If not set, the environment variable E(LDAPURI) is used.
    type: str
    required: true
  bind_dn:
    description:
      - DN to bind as, for example V(cn=s2p-automation,ou=services,dc=s2p,dc=esa,dc=int).
      - Without it the module binds anonymously.
      - If not set, the environment variable E(LDAPBINDDN) is used.
    type: str
  bind_pw:
    description:
      - Password of O(bind_dn). Sent only after TLS is established and the certificate checked.
      - If not set, the environment variable E(LDAPBINDPW) is used.
    type: str
  start_tls:
    description:
      - Upgrade an V(ldap://) connection with StartTLS before binding.
    type: bool
    default: false
  validate_certs:
    description:
      - Verify the directory's TLS certificate (chain and host name). Set to V(false) only for throw-away labs.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file (or directory of hashed certificates) of the CA that signed the directory's certificate.
      - When not set, the system trust store is used.
      - If not set, the environment variable E(LDAPTLS_CACERT) is used.
    type: path
  timeout:
    description:
      - Seconds to wait for the connection and for each answer.
    type: int
    default: 10
notes:
  - The module opens one connection per task; TLS is established and verified before any credential is sent.
  - Set the connection once for many tasks with C(module_defaults) on the action group C(group/esa.s2p.ldap).
requirements:
  - ldap3 >= 2.9
"""

    # The module belongs to the action group of this backend (meta/runtime.yml).
    ACTION_GROUP = r"""
attributes:
  action_group:
    support: full
    membership: [esa.s2p.ldap]
    description: Takes its connection options from C(module_defaults) of C(group/esa.s2p.ldap).
"""
