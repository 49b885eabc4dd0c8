# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker Swarm connection options for modules: the argument spec and the connect adapter.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

The options are documented once in doc_fragments/swarm.py; this is their only argument
spec. Names and environment variables follow community.docker and the docker SDK
(DOCKER_HOST, DOCKER_TLS, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_API_VERSION,
DOCKER_TIMEOUT) so AWX's Docker credentials work unchanged.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.esa.s2p.plugins.module_utils.core.adapter import BackendAdapter
from ansible_collections.esa.s2p.plugins.module_utils.swarm.client import (
    DEFAULT_DOCKER_HOST,
    DOCKER_IMPORT_ERROR,
    SwarmClient,
)

CONNECTION_OPTIONS = ("docker_host", "tls", "validate_certs", "ca_path", "client_cert", "client_key",
                      "timeout", "api_version")


def cert_path_fallback(filename):
    """$DOCKER_CERT_PATH/<filename> when that file exists (the docker SDK's ca.pem/cert.pem/key.pem)."""
    folder = os.environ.get("DOCKER_CERT_PATH")
    if folder and os.path.isfile(os.path.join(folder, filename)):
        return os.path.join(folder, filename)
    raise AnsibleFallbackNotFound


def connection_argument_spec():
    """The Swarm connection options with their environment fallbacks (a fresh dict each call)."""
    return dict(
        docker_host=dict(type="str", default=DEFAULT_DOCKER_HOST, aliases=["docker_url"],
                         fallback=(env_fallback, ["DOCKER_HOST"])),
        tls=dict(type="bool", default=False, fallback=(env_fallback, ["DOCKER_TLS"])),
        validate_certs=dict(type="bool", default=False, aliases=["tls_verify"],
                            fallback=(env_fallback, ["DOCKER_TLS_VERIFY"])),
        ca_path=dict(type="path", aliases=["ca_cert", "tls_ca_cert", "cacert_path"],
                     fallback=(cert_path_fallback, ["ca.pem"])),
        client_cert=dict(type="path", aliases=["tls_client_cert", "cert_path"],
                         fallback=(cert_path_fallback, ["cert.pem"])),
        client_key=dict(type="path", aliases=["tls_client_key", "key_path"],
                        fallback=(cert_path_fallback, ["key.pem"])),
        timeout=dict(type="int", default=60, fallback=(env_fallback, ["DOCKER_TIMEOUT"])),
        api_version=dict(type="str", default="auto", aliases=["docker_api_version"],
                         fallback=(env_fallback, ["DOCKER_API_VERSION"])),
    )


CONNECTION_REQUIRED_TOGETHER = [["client_cert", "client_key"]]

ADAPTER = BackendAdapter("docker", DOCKER_IMPORT_ERROR, connection_argument_spec, SwarmClient, CONNECTION_OPTIONS,
                         constraints=dict(required_together=CONNECTION_REQUIRED_TOGETHER))

# swarm_module(argument_spec=None, **kwargs): the AnsibleModule; swarm_client(module): its client,
# not connected yet; client_from_options(get): the same client for plugins.
swarm_module = ADAPTER.module
swarm_client = ADAPTER.client
client_from_options = ADAPTER.client_from_options
