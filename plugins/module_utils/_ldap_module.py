# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Glue between AnsibleModule and LDAPClient: the connection options, written once.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Every ldap_* module builds its AnsibleModule with `ldap_module()` and its client with
`ldap_client()`; option docs live in doc_fragments/ldap.py and must match this spec.
`client_from_options()` takes any getter (module.params.get, a plugin's get_option).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.esa.s2p.plugins.module_utils._errors import MissingLibrary, S2PError
from ansible_collections.esa.s2p.plugins.module_utils._ldap_client import LDAP3_IMPORT_ERROR, LDAPClient

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


def ldap_module(argument_spec=None, required_together=None, **kwargs):
    """An AnsibleModule with the connection options plus `argument_spec`; fails early without ldap3."""
    spec = connection_argument_spec()
    spec.update(argument_spec or {})
    module = AnsibleModule(
        argument_spec=spec,
        required_together=CONNECTION_REQUIRED_TOGETHER + list(required_together or []),
        **kwargs
    )
    if LDAP3_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("ldap3"), exception=LDAP3_IMPORT_ERROR)
    return module


def client_from_options(get):
    """An LDAPClient (not yet connected) from option values read through `get(name)`."""
    return LDAPClient(**dict((name, get(name)) for name in CONNECTION_OPTIONS))


def ldap_client(module):
    """The module's client, not yet connected (invalid options fail the module)."""
    try:
        return client_from_options(module.params.get)
    except MissingLibrary as exc:
        module.fail_json(msg=missing_required_lib(exc.library), exception=exc.exception_text)
    except S2PError as exc:
        module.fail_json(**exc.as_fail_kwargs())
