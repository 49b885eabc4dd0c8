# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.plugin_utils.connection_docs import doc_fragment

# The swarm connection options, written once: the docs of connection_argument_spec() in
# module_utils/swarm/adapter.py. Every variant below is built from this text.
OPTIONS = r"""
docker_host:
  description:
    - The Docker daemon of a swarm manager, as a URL such as V(unix:///var/run/docker.sock)
      or V(tcp://manager1.s2p.esa.int:2376).
    - If not set, the environment variable E(DOCKER_HOST) is used.
  type: str
  default: unix:///var/run/docker.sock
  aliases: [docker_url]
tls:
  description:
    - Talk TLS to the daemon without verifying its certificate. Prefer O(validate_certs).
    - If not set, the environment variable E(DOCKER_TLS) is used.
  type: bool
  default: false
validate_certs:
  description:
    - Talk TLS to the daemon and verify its certificate against O(ca_path) (implies O(tls)).
    - If not set, the environment variable E(DOCKER_TLS_VERIFY) is used.
  type: bool
  default: false
  aliases: [tls_verify]
ca_path:
  description:
    - PEM file of the CA that signed the daemon's certificate.
    - If not set and E(DOCKER_CERT_PATH) is set, C(ca.pem) in that folder is used when it exists.
    - When set (or with O(validate_certs=false)), the environment variables E(REQUESTS_CA_BUNDLE) and
      E(CURL_CA_BUNDLE) do not replace it; without it, they may name the CA bundle.
  type: path
  aliases: [ca_cert, tls_ca_cert, cacert_path]
client_cert:
  description:
    - PEM client certificate for daemons that require client authentication; needs O(client_key).
    - If not set and E(DOCKER_CERT_PATH) is set, C(cert.pem) in that folder is used when it exists.
  type: path
  aliases: [tls_client_cert, cert_path]
client_key:
  description:
    - PEM private key of O(client_cert).
    - If not set and E(DOCKER_CERT_PATH) is set, C(key.pem) in that folder is used when it exists.
  type: path
  aliases: [tls_client_key, key_path]
timeout:
  description:
    - Seconds to wait for each answer of the daemon.
    - If not set, the environment variable E(DOCKER_TIMEOUT) is used.
  type: int
  default: 60
api_version:
  description:
    - Docker API version to speak; V(auto) asks the daemon for its highest version.
    - If not set, the environment variable E(DOCKER_API_VERSION) is used.
  type: str
  default: auto
  aliases: [docker_api_version]
"""

# The variants DOCUMENTATION, PLUGINS, CONNECTION, OPTIONAL_CONNECTION, ACTION_GROUP: see connection_docs.py.
ModuleDocFragment = doc_fragment("swarm", OPTIONS, what="the Docker daemon of a swarm manager",
                                 notes=["Swarm state can only be read and changed on a manager; point "
                                        "O(docker_host) at one."],
                                 requirements=["docker (the Docker SDK for Python) >= 7.0"])
