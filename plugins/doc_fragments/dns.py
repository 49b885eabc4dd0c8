# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.plugin_utils.connection_docs import doc_fragment

# The dns connection options, written once: the docs of connection_argument_spec() in
# module_utils/dns/adapter.py. Every variant below is built from this text.
OPTIONS = r"""
server:
  description:
    - Address or name of the zone's primary DNS server. Every query and update goes to it
      directly, never to a resolver or cache.
    - If not set, the environment variable E(DNS_SERVER) is used.
  type: str
  required: true
port:
  description:
    - DNS port of O(server) (UDP, and TCP for truncated answers and updates).
    - If not set, the environment variable E(DNS_PORT) is used.
  type: int
  default: 53
key_name:
  description:
    - Name of the TSIG key that signs every request, as in the server's C(key) statement.
    - Requires O(key_secret).
    - If not set, the environment variable E(TSIG_KEY_NAME) is used.
  type: str
key_secret:
  description:
    - Base64 secret of the TSIG key O(key_name) (the C(secret) of C(tsig-keygen) output).
    - If not set, the environment variable E(TSIG_KEY_SECRET) is used.
  type: str
key_algorithm:
  description:
    - HMAC algorithm of the TSIG key.
    - If not set, the environment variable E(TSIG_KEY_ALGORITHM) is used.
  type: str
  choices: [hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224, hmac-sha1, hmac-md5]
  default: hmac-sha256
timeout:
  description:
    - Seconds to wait for each answer of O(server) (per transport; a truncated UDP answer is
      retried over TCP).
  type: float
  default: 10.0
"""

# The variants DOCUMENTATION, PLUGINS, CONNECTION, OPTIONAL_CONNECTION, ACTION_GROUP: see connection_docs.py.
ModuleDocFragment = doc_fragment("dns", OPTIONS, what="the zones' primary DNS server",
                                 requirements=["dnspython >= 2.3"])
