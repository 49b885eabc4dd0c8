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

from ansible.module_utils.basic import env_fallback, missing_required_lib
from ansible.module_utils.errors import AnsibleFallbackNotFound

from ansible_collections.esa.s2p.plugins.module_utils._errors import MissingLibrary, S2PError
from ansible_collections.esa.s2p.plugins.module_utils._swarm_client import DEFAULT_DOCKER_HOST, SwarmClient

CONNECTION_OPTIONS = ("docker_host", "tls", "validate_certs", "ca_path", "client_cert", "client_key",
                      "timeout", "api_version")


def cert_path_fallback(filename):
    """$DOCKER_CERT_PATH/<filename> when that file exists (the docker SDK's ca.pem/cert.pem/key.pem)."""
    folder = os.environ.get("DOCKER_CERT_PATH")
    if folder and os.path.isfile(os.path.join(folder, filename)):
        return os.path.join(folder, filename)
    raise AnsibleFallbackNotFound


def swarm_argument_spec(**extra):
    """The connection options of every Swarm module, plus the module's own `extra` options."""
    spec = dict(
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
    spec.update(extra)
    return spec


SWARM_REQUIRED_TOGETHER = [["client_cert", "client_key"]]


def client_from_options(get):
    """A SwarmClient (not connected yet) from option values read through `get(name)`."""
    return SwarmClient(**dict((name, get(name)) for name in CONNECTION_OPTIONS))


def swarm_client(module):
    """The module's client; fails the module when the docker SDK is absent or an option is invalid."""
    try:
        return client_from_options(module.params.get)
    except MissingLibrary as exc:
        module.fail_json(msg=missing_required_lib(exc.library), exception=exc.exception_text)
    except S2PError as exc:
        module.fail_json(**exc.as_fail_kwargs())
