# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.plugin_utils.connection_docs import doc_fragment

# The vsphere connection options, written once: the docs of connection_argument_spec() in
# module_utils/vsphere/adapter.py. Every variant below is built from this text.
OPTIONS = r"""
hostname:
  description:
    - vCenter (or ESXi) host name or address.
    - If not set, the environment variable E(VMWARE_HOST) is used.
  type: str
  required: true
port:
  description:
    - Port of the vSphere API.
    - If not set, the environment variable E(VMWARE_PORT) is used.
  type: int
  default: 443
username:
  description:
    - User to log in as, for example V(s2p-automation@vsphere.local).
    - If not set, the environment variable E(VMWARE_USER) is used.
  type: str
  required: true
  aliases: [user]
password:
  description:
    - Password of O(username).
    - If not set, the environment variable E(VMWARE_PASSWORD) is used.
  type: str
  required: true
  aliases: [pass]
validate_certs:
  description:
    - Verify vCenter's TLS certificate (chain and host name).
    - Set to V(false) only for throw-away labs; prefer O(ca_path).
    - If not set, the environment variable E(VMWARE_VALIDATE_CERTS) is used.
  type: bool
  default: true
ca_path:
  description:
    - PEM file (or directory of hashed certificates) of the CA that signed vCenter's certificate.
    - When not set, the system trust store is used.
    - If not set, the environment variable E(VMWARE_CA_PATH) is used.
  type: path
protocol:
  description:
    - V(http) only for API simulators in tests; vCenter always serves V(https).
  type: str
  choices: [https, http]
  default: https
"""

# The variants DOCUMENTATION, PLUGINS, CONNECTION, OPTIONAL_CONNECTION, ACTION_GROUP: see connection_docs.py.
ModuleDocFragment = doc_fragment("vsphere", OPTIONS, what="vCenter",
                                 notes=["One login per task (the inventory plugin: per vCenter and refresh), "
                                        "logged out at the end."],
                                 requirements=["pyvmomi >= 8.0.3"])
