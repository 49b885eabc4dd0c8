# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Glue between AnsibleModule and VaultClient: the connection options, written once.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Every vault_* module builds its AnsibleModule with `vault_module()` and its client with
`vault_client()`; option docs live in doc_fragments/vault.py and must match this spec.
`client_from_options()` takes any getter (module.params.get, a plugin's get_option).
The batch modules (vault_project, vault_kv_folder, credential) are built by `batch_module()` and
run by `run_batch()`: validate the whole batch, log in once, converge, fail or exit, written once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.core.adapter import BackendAdapter
from ansible_collections.esa.s2p.plugins.module_utils.vault.client import (
    AUTH_METHODS,
    HVAC_IMPORT_ERROR,
    VaultClient,
)

CONNECTION_OPTIONS = ("url", "auth_method", "token", "role_id", "secret_id", "ca_cert", "namespace",
                      "validate_certs", "timeout")


def connection_argument_spec():
    """The Vault connection options with their environment fallbacks (a fresh dict each call)."""
    return dict(
        url=dict(type="str", required=True, fallback=(env_fallback, ["VAULT_ADDR"])),
        auth_method=dict(type="str", default="token", choices=list(AUTH_METHODS),
                         fallback=(env_fallback, ["VAULT_AUTH_METHOD"])),
        token=dict(type="str", no_log=True, fallback=(env_fallback, ["VAULT_TOKEN"])),
        role_id=dict(type="str", fallback=(env_fallback, ["VAULT_ROLE_ID"])),
        secret_id=dict(type="str", no_log=True, fallback=(env_fallback, ["VAULT_SECRET_ID"])),
        ca_cert=dict(type="path", fallback=(env_fallback, ["VAULT_CACERT"])),
        namespace=dict(type="str", fallback=(env_fallback, ["VAULT_NAMESPACE"])),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=30),
    )


CONNECTION_REQUIRED_IF = [
    ("auth_method", "token", ("token",)),
    ("auth_method", "approle", ("role_id", "secret_id")),
]


ADAPTER = BackendAdapter("hvac", HVAC_IMPORT_ERROR, connection_argument_spec, VaultClient, CONNECTION_OPTIONS,
                         constraints=dict(required_if=CONNECTION_REQUIRED_IF))

# vault_module(argument_spec=None, **kwargs): the AnsibleModule; vault_client(module): its client,
# not yet logged in; client_from_options(get): the same client for plugins.
vault_module = ADAPTER.module
vault_client = ADAPTER.client
client_from_options = ADAPTER.client_from_options


def batch_module(options, **kwargs):
    """The AnsibleModule of a batch module: the connection options plus `options` (its own),
    check mode supported; `kwargs` go to AnsibleModule (constraints are merged, see BackendAdapter)."""
    return vault_module(options, supports_check_mode=True, **kwargs)


def run_batch(module, validate, converge):
    """validate() -> the whole batch normalised (raises ValidationError before Vault is contacted);
    then, logged in once, converge(vault, items, write) -> (changed, result, diff), where write is
    False in check mode; exit with the result (and diff in diff mode) or fail with the error's
    message (any S2PError, with its own `changed`)."""
    try:
        items = validate()
        with vault_client(module) as vault:
            changed, result, diff = converge(vault, items, not module.check_mode)
    except S2PError as exc:
        module.fail_json(**exc.as_fail_kwargs())
    if module._diff and diff is not None:
        result["diff"] = diff
    module.exit_json(changed=changed, **result)
