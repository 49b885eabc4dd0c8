# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options of every esa.s2p DNS module (spec: module_utils/dns/adapter.py).

    Plugins add PLUGINS (esa.s2p.dns.plugins) for the env: entries that module docs cannot carry.
    """

    DOCUMENTATION = r"""
options:
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
notes:
  - Set the connection once for many tasks with C(module_defaults) on the action group
    C(group/esa.s2p.dns).
requirements:
  - dnspython >= 2.3
"""

    PLUGINS = r"""
options:
  server:
    env:
      - name: DNS_SERVER
  port:
    env:
      - name: DNS_PORT
  key_name:
    env:
      - name: TSIG_KEY_NAME
  key_secret:
    env:
      - name: TSIG_KEY_SECRET
  key_algorithm:
    env:
      - name: TSIG_KEY_ALGORITHM
"""

    # The same connection as one dict option `dns`, for modules of other backends that also
    # change DNS records (the certificate module's DNS-01 challenges). Spec: the DNS options
    # without their environment fallbacks, under `dns`.
    CONNECTION = r"""
options:
  dns:
    description:
      - Connection to the zones' primary DNS server, with the same options as the C(esa.s2p.dns)
        modules (for example C("{{ s2p_dns_connection }}")).
      - Required when a certificate is issued through ACME (its DNS-01 challenge records).
      - Every suboption falls back to its environment variable (E(DNS_SERVER), E(DNS_PORT),
        E(TSIG_KEY_NAME), E(TSIG_KEY_SECRET), E(TSIG_KEY_ALGORITHM)), also when the option is not given.
    type: dict
    default: {}
    suboptions:
      server:
        description: Address or name of the zone's primary DNS server.
        type: str
      port:
        description: DNS port of O(dns.server).
        type: int
        default: 53
      key_name:
        description: Name of the TSIG key that signs every request.
        type: str
      key_secret:
        description: Base64 secret of the TSIG key O(dns.key_name).
        type: str
      key_algorithm:
        description: HMAC algorithm of the TSIG key.
        type: str
        choices: [hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224, hmac-sha1, hmac-md5]
        default: hmac-sha256
      timeout:
        description: Seconds to wait for each answer of O(dns.server).
        type: float
        default: 10.0
"""

    # The module belongs to the action group of this backend (meta/runtime.yml).
    ACTION_GROUP = r"""
attributes:
  action_group:
    support: full
    membership: [esa.s2p.dns]
    description: Takes its connection options from C(module_defaults) of C(group/esa.s2p.dns).
"""
