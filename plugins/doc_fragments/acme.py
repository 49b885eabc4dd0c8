# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options of every esa.s2p ACME module (spec: module_utils/acme/adapter.py).

    Plugins add PLUGINS (esa.s2p.acme.plugins) for the env: entries that module docs cannot carry.
    """

    DOCUMENTATION = r"""
options:
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
notes:
  - Set the connection once for many tasks with C(module_defaults) on the action group
    C(group/esa.s2p.acme).
requirements:
  - acme >= 2.0
  - josepy
  - requests
"""

    PLUGINS = r"""
options:
  acme_directory:
    env:
      - name: ACME_DIRECTORY
  ca_path:
    env:
      - name: ACME_CA_PATH
"""

    # The module belongs to the action group of this backend (meta/runtime.yml).
    ACTION_GROUP = r"""
attributes:
  action_group:
    support: full
    membership: [esa.s2p.acme]
    description: Takes its connection options from C(module_defaults) of C(group/esa.s2p.acme).
"""
