# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.plugin_utils.connection_docs import doc_fragment

# The acme connection options, written once: the docs of connection_argument_spec() in
# module_utils/acme/adapter.py. Every variant below is built from this text.
OPTIONS = r"""
acme_directory:
  description:
    - URL of the ACME v2 directory of the certificate authority (RFC 8555 section 7.1.1), for example
      V(https://acme.s2p.esa.int/directory).
    - If not set, the environment variable E(ACME_DIRECTORY) is used.
  type: str
  required: true
ca_path:
  description:
    - PEM bundle of the CA that signed the ACME server's own HTTPS certificate (not the CA that
      the ACME server issues from).
    - When not set, the trust store of C(requests) (certifi) is used.
    - If not set, the environment variable E(ACME_CA_PATH) is used.
  type: path
validate_certs:
  description:
    - Verify the ACME server's HTTPS certificate (chain and host name).
    - Set to V(false) only for throw-away labs; prefer O(ca_path).
  type: bool
  default: true
"""

# The variants DOCUMENTATION, PLUGINS, CONNECTION, OPTIONAL_CONNECTION, ACTION_GROUP: see connection_docs.py.
ModuleDocFragment = doc_fragment("acme", OPTIONS, what="the ACME certificate authority",
                                 requirements=["acme >= 2.0", "josepy", "requests"])
