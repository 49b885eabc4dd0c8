# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options of every esa.s2p Vault module (spec: module_utils/vault/adapter.py)."""

    DOCUMENTATION = r"""
options:
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
notes:
  - Set the connection once for many tasks with C(module_defaults) on the action group C(group/esa.s2p.vault).
requirements:
  - hvac >= 2.1
"""

    # Plugins (the vault_secret lookup) add this fragment for the env: entries module docs cannot carry.
    PLUGINS = r"""
options:
  url:
    env:
      - name: VAULT_ADDR
  auth_method:
    env:
      - name: VAULT_AUTH_METHOD
  token:
    env:
      - name: VAULT_TOKEN
  role_id:
    env:
      - name: VAULT_ROLE_ID
  secret_id:
    env:
      - name: VAULT_SECRET_ID
  ca_cert:
    env:
      - name: VAULT_CACERT
  namespace:
    env:
      - name: VAULT_NAMESPACE
"""

    # The same connection as one dict option `vault`, for modules of other backends that read
    # secrets from Vault (swarm_stack's stack secrets). Spec: connection_argument_spec() of
    # module_utils/vault/adapter.py without its environment fallbacks, under `vault`.
    CONNECTION = r"""
options:
  vault:
    description:
      - Connection to Vault, with the same options as the C(esa.s2p.vault) modules (for example
        C("{{ s2p_vault_connection }}")). One login per task; AppRole tokens are revoked at the end.
      - When the option is given, each suboption falls back to its environment variable
        (E(VAULT_ADDR), E(VAULT_AUTH_METHOD), E(VAULT_TOKEN), E(VAULT_ROLE_ID), E(VAULT_SECRET_ID),
        E(VAULT_CACERT), E(VAULT_NAMESPACE)).
    type: dict
    suboptions:
      url:
        description: URL of Vault or OpenBao, for example V(https://vault.s2p.esa.int:8200).
        type: str
      auth_method:
        description:
          - V(token) uses O(vault.token) as is; V(approle) logs in with O(vault.role_id) and O(vault.secret_id).
        type: str
        choices: [token, approle]
        default: token
      token:
        description: Vault token, required with O(vault.auth_method=token).
        type: str
      role_id:
        description: AppRole role ID, required with O(vault.auth_method=approle).
        type: str
      secret_id:
        description: AppRole secret ID, required with O(vault.auth_method=approle).
        type: str
      ca_cert:
        description: PEM file of the CA that signed Vault's certificate (the system trust store when not set).
        type: path
      namespace:
        description: Vault namespace the requests are sent to.
        type: str
      validate_certs:
        description: Verify Vault's TLS certificate (chain and host name).
        type: bool
        default: true
      timeout:
        description: Seconds to wait for each answer.
        type: int
        default: 30
"""

    # The module belongs to the action group of this backend (meta/runtime.yml).
    ACTION_GROUP = r"""
attributes:
  action_group:
    support: full
    membership: [esa.s2p.vault]
    description: Takes its connection options from C(module_defaults) of C(group/esa.s2p.vault).
"""
