# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Glue between AnsibleModule and VSphereClient: the connection options, written once.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Every vsphere_* module builds its AnsibleModule with `vsphere_module()` and its client
with `vsphere_client()`; option docs live in doc_fragments/vsphere.py and must match
this spec. `client_from_options()` takes any getter (module.params.get, a plugin's
get_option) so modules and plugins build the same client.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

from ansible_collections.esa.s2p.plugins.module_utils.core.adapter import BackendAdapter
from ansible_collections.esa.s2p.plugins.module_utils.vsphere.client import (
    PYVMOMI_IMPORT_ERROR,
    VSphereClient,
)

CONNECTION_OPTIONS = ("hostname", "port", "username", "password", "validate_certs", "ca_path", "protocol")


def connection_argument_spec():
    """The vSphere connection options with their environment fallbacks (a fresh dict each call)."""
    return dict(
        hostname=dict(type="str", required=True, fallback=(env_fallback, ["VMWARE_HOST"])),
        port=dict(type="int", default=443, fallback=(env_fallback, ["VMWARE_PORT"])),
        username=dict(type="str", required=True, aliases=["user"], fallback=(env_fallback, ["VMWARE_USER"])),
        password=dict(type="str", required=True, aliases=["pass"], no_log=True,
                      fallback=(env_fallback, ["VMWARE_PASSWORD"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["VMWARE_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["VMWARE_CA_PATH"])),
        protocol=dict(type="str", default="https", choices=["https", "http"]),
    )


ADAPTER = BackendAdapter("pyvmomi", PYVMOMI_IMPORT_ERROR, connection_argument_spec, VSphereClient,
                         CONNECTION_OPTIONS)

# vsphere_module(argument_spec=None, **kwargs): the AnsibleModule; vsphere_client(module): its client,
# not yet connected; client_from_options(get): the same client for plugins.
vsphere_module = ADAPTER.module
vsphere_client = ADAPTER.client
client_from_options = ADAPTER.client_from_options
