# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACME connection options for modules: the argument spec and the connect adapter.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

The options are documented once in doc_fragments/acme.py; this is their only argument
spec. client_from_options() takes any getter (module.params.get, a plugin's get_option)
so modules and plugins build the same client. Modules that issue certificates pass the
account key to client_from_options(get, account_key=...).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

from ansible_collections.esa.s2p.plugins.module_utils.acme.client import ACME_IMPORT_ERROR, ACMEClient
from ansible_collections.esa.s2p.plugins.module_utils.core.adapter import BackendAdapter

CONNECTION_OPTIONS = ("acme_directory", "ca_path", "validate_certs")


def connection_argument_spec():
    """The ACME connection options with their environment fallbacks (a fresh dict each call)."""
    return dict(
        acme_directory=dict(type="str", required=True, fallback=(env_fallback, ["ACME_DIRECTORY"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["ACME_CA_PATH"])),
        validate_certs=dict(type="bool", default=True),
    )


ADAPTER = BackendAdapter("acme", ACME_IMPORT_ERROR, connection_argument_spec, ACMEClient, CONNECTION_OPTIONS)

# acme_module(argument_spec=None, **kwargs): the AnsibleModule; acme_client(module, account_key=None):
# its client, nothing sent yet; client_from_options(get, account_key=None): the same client for plugins.
acme_module = ADAPTER.module
acme_client = ADAPTER.client
client_from_options = ADAPTER.client_from_options
