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

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.esa.s2p.plugins.module_utils._dns_client import TSIG_ALGORITHMS, DNSClient
from ansible_collections.esa.s2p.plugins.module_utils._errors import MissingLibrary, S2PError

CONNECTION_OPTIONS = ("server", "port", "key_name", "key_secret", "key_algorithm", "timeout")


def dns_argument_spec(**extra):
    """The connection options of every DNS module, plus the module's own `extra` options."""
    spec = dict(
        server=dict(type="str", required=True, fallback=(env_fallback, ["DNS_SERVER"])),
        port=dict(type="int", default=53, fallback=(env_fallback, ["DNS_PORT"])),
        key_name=dict(type="str", fallback=(env_fallback, ["TSIG_KEY_NAME"])),
        key_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["TSIG_KEY_SECRET"])),
        key_algorithm=dict(type="str", default="hmac-sha256", choices=list(TSIG_ALGORITHMS),
                           fallback=(env_fallback, ["TSIG_KEY_ALGORITHM"])),
        timeout=dict(type="float", default=10.0),
    )
    spec.update(extra)
    return spec


DNS_REQUIRED_TOGETHER = [["key_name", "key_secret"]]


def client_from_options(get):
    """A DNSClient (nothing sent yet) from option values read through `get(name)`."""
    return DNSClient(**dict((name, get(name)) for name in CONNECTION_OPTIONS))


def dns_client(module):
    """The module's client; fails the module when dnspython is absent or an option is invalid."""
    try:
        return client_from_options(module.params.get)
    except MissingLibrary as exc:
        module.fail_json(msg=missing_required_lib(exc.library), exception=exc.exception_text)
    except S2PError as exc:
        module.fail_json(**exc.as_fail_kwargs())
