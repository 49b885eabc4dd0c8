# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.plugin_utils.connection_docs import doc_fragment

# The vault connection options, written once: the docs of connection_argument_spec() in
# module_utils/vault/adapter.py. Every variant below is built from this text.
OPTIONS = r"""
url:
  description:
    - URL of Vault or OpenBao, for example V(https://vault.s2p.esa.int:8200).
    - If not set, the environment variable E(VAULT_ADDR) is used.
  type: str
  required: true
auth_method:
  description:
    - V(token) uses O(token) as is; V(approle) logs in once per task with O(role_id) and O(secret_id)
      and revokes the token it obtained at the end of the task.
    - If not set, the environment variable E(VAULT_AUTH_METHOD) is used, so a job that gets its whole
      connection from the environment (an AWX credential) can choose AppRole.
  type: str
  choices: [token, approle]
  default: token
token:
  description:
    - Vault token, required with O(auth_method=token).
    - If not set, the environment variable E(VAULT_TOKEN) is used.
  type: str
role_id:
  description:
    - AppRole role ID, required with O(auth_method=approle).
    - If not set, the environment variable E(VAULT_ROLE_ID) is used.
  type: str
secret_id:
  description:
    - AppRole secret ID, required with O(auth_method=approle).
    - If not set, the environment variable E(VAULT_SECRET_ID) is used.
  type: str
ca_cert:
  description:
    - PEM file of the CA that signed Vault's certificate. When not set, the system trust store is used.
    - If not set, the environment variable E(VAULT_CACERT) is used.
  type: path
namespace:
  description:
    - Vault namespace (Vault Enterprise, OpenBao namespaces) the requests are sent to.
    - If not set, the environment variable E(VAULT_NAMESPACE) is used.
  type: str
validate_certs:
  description:
    - Verify Vault's TLS certificate (chain and host name). Set to V(false) only for throw-away labs.
  type: bool
  default: true
timeout:
  description:
    - Seconds to wait for each answer.
  type: int
  default: 30
"""

# The variants DOCUMENTATION, PLUGINS, CONNECTION, OPTIONAL_CONNECTION, ACTION_GROUP: see connection_docs.py.
ModuleDocFragment = doc_fragment("vault", OPTIONS, what="Vault",
                                 requirements=["hvac >= 2.1"])
