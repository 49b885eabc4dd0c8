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

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.esa.s2p.plugins.module_utils._acme_client import ACMEClient
from ansible_collections.esa.s2p.plugins.module_utils._errors import MissingLibrary, S2PError

CONNECTION_OPTIONS = ("acme_directory", "ca_path", "validate_certs")


def acme_argument_spec(**extra):
    """The connection options of every ACME module, plus the module's own `extra` options."""
    spec = dict(
        acme_directory=dict(type="str", required=True, fallback=(env_fallback, ["ACME_DIRECTORY"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["ACME_CA_PATH"])),
        validate_certs=dict(type="bool", default=True),
    )
    spec.update(extra)
    return spec


def client_from_options(get, account_key=None):
    """An ACMEClient (nothing sent yet) from option values read through `get(name)`."""
    return ACMEClient(account_key=account_key, **dict((name, get(name)) for name in CONNECTION_OPTIONS))


def acme_client(module, account_key=None):
    """The module's client; fails the module when `acme` is absent or an option is invalid."""
    try:
        return client_from_options(module.params.get, account_key=account_key)
    except MissingLibrary as exc:
        module.fail_json(msg=missing_required_lib(exc.library), exception=exc.exception_text)
    except S2PError as exc:
        module.fail_json(**exc.as_fail_kwargs())
