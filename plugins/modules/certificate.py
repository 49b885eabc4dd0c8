#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: certificate
short_description: Issue and renew a batch of TLS certificates for s2p.esa.int names through ACME with DNS-01
version_added: 0.2.0
description:
  - For each certificate of O(certificates), reads the certificate and key stored on the target,
    decides whether it must be issued or renewed, and only then orders one.
  - A certificate is (re)issued when it is missing, its key is missing or does not match, its names
    or key type changed, less than O(renew_fraction) of its lifetime is left, or O(certificates[].force)
    is set. A valid certificate never causes a new order.
  - ACME orders are answered with DNS-01. The challenge TXT records of one order are created in
    one RFC 2136 update per zone and removed in one update per zone (also when the order fails),
    through the zones' primary server given in O(dns).
  - Private keys are written only to the key files (mode O(certificates[].mode)) and never appear
    in the result, the diff or any log.
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
extends_documentation_fragment:
  - esa.s2p.acme
  - esa.s2p.dns.connection
attributes:
  check_mode:
    support: full
    description: Reads the stored certificates and decides; orders nothing and writes nothing.
  diff_mode:
    support: full
    description: Serial, names and validity of each certificate before and after (never the key).
  idempotent:
    support: full
    description: A stored certificate that is valid for its names and key is kept.
  action_group:
    support: full
    membership: [esa.s2p.acme]
    description: Takes its ACME connection options from C(module_defaults) of C(group/esa.s2p.acme).
options:
  certificates:
    description: The certificates to keep issued.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the certificate; its files are C(<path>/<name>.key) and C(<path>/<name>.fullchain.pem)
          (leaf first, then the chain), plus C(<name>.crt) (leaf) and C(<name>.chain.pem).
        type: str
        required: true
      names:
        description: DNS names of the certificate; the first is also the subject common name.
        type: list
        elements: str
        required: true
      issuer:
        description: Who issues the certificate. Only C(acme) is implemented so far.
        type: str
        choices: [acme]
        default: acme
      key_type:
        description: Type of the private key.
        type: str
        choices: [ec, rsa]
        default: ec
      key_size:
        description: Curve size (256, 384) for C(ec), modulus size (2048, 3072, 4096) for C(rsa); default 256 / 3072.
        type: int
      path:
        description: Directory on the target that holds the files (created when missing, mode 0755).
        type: path
        required: true
      owner:
        description: Owner of the files.
        type: str
      group:
        description: Group of the files.
        type: str
      mode:
        description: Mode of the private key file (the certificate files are 0644).
        type: raw
        default: "0600"
      force:
        description: Issue a new certificate even when the stored one is good.
        type: bool
        default: false
  renew_fraction:
    description: Renew when less than this fraction of the certificate's lifetime is left.
    type: float
    default: 0.3333
  account_key_path:
    description: File of the ACME account key (EC P-256, PEM), created with mode 0600 when missing.
    type: path
    required: true
  contact:
    description: E-mail address given to the CA when the account is registered.
    type: str
  zones:
    description: Zones in which challenge records may be created.
    type: list
    elements: str
    default: [s2p.esa.int]
notes:
  - The ACME account key and the certificates live in files for now; keeping them in Vault is planned.
"""

EXAMPLES = r"""
- name: Certificates of the public names of neocc
  esa.s2p.certificate:
    account_key_path: /etc/s2p/acme-account.key
    dns: "{{ s2p_dns_connection }}"
    certificates:
      - name: neocc
        names: [web.neocc.s2p.esa.int, api.neocc.s2p.esa.int]
        path: /etc/ssl/s2p
        owner: root
        group: www-data
        mode: "0640"
  module_defaults:
    group/esa.s2p.acme: "{{ s2p_acme_connection }}"
"""

RETURN = r"""
certificates:
  description: One entry per certificate, with what was done and why.
  returned: always
  type: list
  elements: dict
  sample: [{name: neocc, action: issued, reason: missing, serial: 3a5f, names: [web.neocc.s2p.esa.int],
            not_after: "2031-11-25T22:00:00+00:00", fullchain_path: /etc/ssl/s2p/neocc.fullchain.pem}]
account_key_created:
  description: Whether the ACME account key file was created by this run.
  returned: always
  type: bool
"""

from ansible_collections.esa.s2p.plugins.module_utils._acme_module import acme_module
from ansible_collections.esa.s2p.plugins.module_utils._cert_converge import converge
from ansible_collections.esa.s2p.plugins.module_utils._dns_module import connection_argument_spec as dns_spec
from ansible_collections.esa.s2p.plugins.module_utils._errors import S2PError

CERTIFICATE_SPEC = dict(
    name=dict(type="str", required=True),
    names=dict(type="list", elements="str", required=True),
    issuer=dict(type="str", choices=["acme"], default="acme"),
    key_type=dict(type="str", choices=["ec", "rsa"], default="ec"),
    key_size=dict(type="int"),
    path=dict(type="path", required=True),
    owner=dict(type="str"),
    group=dict(type="str"),
    mode=dict(type="raw", default="0600"),
    force=dict(type="bool", default=False),
)


def main():
    dns_options = dns_spec()
    for option in dns_options.values():
        option.pop("fallback", None)
    module = acme_module(
        dict(certificates=dict(type="list", elements="dict", required=True, options=CERTIFICATE_SPEC),
             renew_fraction=dict(type="float", default=0.3333),
             account_key_path=dict(type="path", required=True, no_log=False),
             contact=dict(type="str"),
             zones=dict(type="list", elements="str", default=["s2p.esa.int"]),
             dns=dict(type="dict", required=True, options=dns_options)),
        supports_check_mode=True)
    try:
        result = converge(module)
    except S2PError as exc:
        module.fail_json(**exc.as_fail_kwargs())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
