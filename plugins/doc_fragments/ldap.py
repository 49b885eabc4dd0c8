# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.plugin_utils.connection_docs import doc_fragment

# The ldap connection options, written once: the docs of connection_argument_spec() in
# module_utils/ldap/adapter.py. Every variant below is built from this text.
OPTIONS = r"""
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
"""

# The variants DOCUMENTATION, PLUGINS, CONNECTION, OPTIONAL_CONNECTION, ACTION_GROUP: see connection_docs.py.
ModuleDocFragment = doc_fragment("ldap", OPTIONS, what="the LDAP directory",
                                 notes=["One connection per task; TLS is established and verified before any "
                                        "credential is sent."],
                                 requirements=["ldap3 >= 2.9"])
