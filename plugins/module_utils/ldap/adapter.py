# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Glue between AnsibleModule and LDAPClient: the connection options, written once.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Every ldap_* module builds its AnsibleModule with `ldap_module()` and its client with
`ldap_client()`; option docs live in doc_fragments/ldap.py and must match this spec.
`client_from_options()` takes any getter (module.params.get, a plugin's get_option).
The batch modules (ldap_account, ldap_group) are built by `batch_module()` and run by
`run_batch()`: validate the whole list, connect once, converge, fail or exit, written once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.ldap.client import LDAP3_IMPORT_ERROR, LDAPClient
from ansible_collections.esa.s2p.plugins.module_utils.core.adapter import BackendAdapter
from ansible_collections.esa.s2p.plugins.module_utils.model.naming import DEFAULT_LDAP_BASE_DN

CONNECTION_OPTIONS = ("server_uri", "bind_dn", "bind_pw", "start_tls", "validate_certs", "ca_path", "timeout")


def connection_argument_spec():
    """The LDAP connection options with their environment fallbacks (a fresh dict each call)."""
    return dict(
        server_uri=dict(type="str", required=True, fallback=(env_fallback, ["LDAPURI"])),
        bind_dn=dict(type="str", fallback=(env_fallback, ["LDAPBINDDN"])),
        bind_pw=dict(type="str", no_log=True, fallback=(env_fallback, ["LDAPBINDPW"])),
        start_tls=dict(type="bool", default=False),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path", fallback=(env_fallback, ["LDAPTLS_CACERT"])),
        timeout=dict(type="int", default=10),
    )


CONNECTION_REQUIRED_TOGETHER = [("bind_dn", "bind_pw")]


ADAPTER = BackendAdapter("ldap3", LDAP3_IMPORT_ERROR, connection_argument_spec, LDAPClient, CONNECTION_OPTIONS,
                         constraints=dict(required_together=CONNECTION_REQUIRED_TOGETHER))

# ldap_module(argument_spec=None, **kwargs): the AnsibleModule; ldap_client(module): its client,
# not yet connected; client_from_options(get): the same client for plugins.
ldap_module = ADAPTER.module
ldap_client = ADAPTER.client
client_from_options = ADAPTER.client_from_options


def base_dn_option():
    """The base_dn option of the modules that name entries (LDAPBASE as fallback)."""
    return dict(type="str", default=DEFAULT_LDAP_BASE_DN, fallback=(env_fallback, ["LDAPBASE"]))


def batch_module(list_option, item_spec):
    """The AnsibleModule of a batch module: connection options, base_dn and the list `list_option`
    whose elements follow `item_spec`; check mode supported."""
    return ldap_module({"base_dn": base_dn_option(),
                        list_option: dict(type="list", elements="dict", required=True, options=item_spec)},
                       supports_check_mode=True)


def run_batch(module, list_option, validate, converge):
    """Validate the whole list (validate(items, base_dn) -> normalised items), then over one
    connection converge(client, items, base_dn, write) -> (changed, result, diff), where write is
    False in check mode; exit with the result (and diff in diff mode) or fail with the error."""
    base_dn = module.params["base_dn"]
    try:
        items = validate(module.params[list_option], base_dn)
        with ldap_client(module) as client:
            changed, result, diff = converge(client, items, base_dn, not module.check_mode)
    except S2PError as exc:
        module.fail_json(**exc.as_fail_kwargs())
    if module._diff:
        result["diff"] = diff
    module.exit_json(changed=changed, **result)
