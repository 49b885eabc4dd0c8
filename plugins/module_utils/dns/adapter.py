# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DNS connection options for modules: the argument spec and the connect adapter.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

The options are documented once in doc_fragments/dns.py; this is their only argument
spec. client_from_options() takes any getter (module.params.get, a plugin's get_option)
so modules and plugins build the same client.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

from ansible_collections.esa.s2p.plugins.module_utils.dns.client import (
    DNSPYTHON_IMPORT_ERROR,
    TSIG_ALGORITHMS,
    DNSClient,
)
from ansible_collections.esa.s2p.plugins.module_utils.core.adapter import BackendAdapter

CONNECTION_OPTIONS = ("server", "port", "key_name", "key_secret", "key_algorithm", "timeout")


def connection_argument_spec():
    """The DNS connection options with their environment fallbacks (a fresh dict each call)."""
    return dict(
        server=dict(type="str", required=True, fallback=(env_fallback, ["DNS_SERVER"])),
        port=dict(type="int", default=53, fallback=(env_fallback, ["DNS_PORT"])),
        key_name=dict(type="str", fallback=(env_fallback, ["TSIG_KEY_NAME"])),
        key_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["TSIG_KEY_SECRET"])),
        key_algorithm=dict(type="str", default="hmac-sha256", choices=list(TSIG_ALGORITHMS),
                           fallback=(env_fallback, ["TSIG_KEY_ALGORITHM"])),
        timeout=dict(type="float", default=10.0),
    )


CONNECTION_REQUIRED_TOGETHER = [["key_name", "key_secret"]]

ADAPTER = BackendAdapter("dnspython", DNSPYTHON_IMPORT_ERROR, connection_argument_spec, DNSClient,
                         CONNECTION_OPTIONS, constraints=dict(required_together=CONNECTION_REQUIRED_TOGETHER))

# dns_module(argument_spec=None, **kwargs): the AnsibleModule; dns_client(module): its client,
# nothing sent yet; client_from_options(get): the same client for plugins.
dns_module = ADAPTER.module
dns_client = ADAPTER.client
client_from_options = ADAPTER.client_from_options
