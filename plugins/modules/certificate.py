#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: certificate
short_description: Issue and renew a batch of TLS certificates for s2p.esa.int names (ACME DNS-01 or Vault PKI)
version_added: 0.2.0
description:
  - For each certificate of O(certificates), reads the certificate and key stored on the target,
    decides whether it must be issued or renewed, and only then orders one.
  - A certificate is (re)issued when it is missing, its key is missing or does not match, its names
    or key type changed, less than O(renew_fraction) of its lifetime is left, or O(certificates[].force)
    is set. A valid certificate never causes a new order.
  - Issuer C(vault_pki) signs a CSR made on this host at C(<pki_mount>/sign/<role>) of Vault's PKI
    engine (one role per environment); the private key never travels.
  - ACME orders are answered with DNS-01. The challenge TXT records of one order are created in
    one RFC 2136 update per zone and removed in one update per zone (also when the order fails),
    through the zones' primary server given in O(dns).
  - O(dns) is needed for C(acme) certificates; O(vault) for C(vault_pki) certificates,
    O(certificates[].vault_kv_path) and O(account_key_vault_path).
  - Private keys are written only to the key files (mode O(certificates[].mode)) and/or the Vault KV
    secret O(certificates[].vault_kv_path), and never appear in the result, the diff or any log.
author:
  - ESA S2P data-centre engineering (!UNKNOWN)
extends_documentation_fragment:
  - esa.s2p.acme
  - esa.s2p.dns.optional_connection
  - esa.s2p.vault.optional_connection
  - esa.s2p.acme.action_group
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
options:
  acme_directory:
    description:
      - URL of the ACME v2 directory of the certificate authority (RFC 8555 section 7.1.1).
      - Needed only when O(certificates) holds an C(acme) certificate; a batch of C(vault_pki)
        certificates alone runs without it.
      - If not set, the environment variable E(ACME_DIRECTORY) is used.
    type: str
    required: false
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
        description:
          - Who issues the certificate, V(acme) for an ACME CA (O(acme_directory)) or V(vault_pki) for
            Vault's PKI engine (reached through O(vault)).
        type: str
        choices: [acme, vault_pki]
        default: acme
      pki_role:
        description: Vault PKI role for C(vault_pki) (one per environment); defaults to O(pki_role).
        type: str
      ttl:
        description: Requested lifetime for C(vault_pki), for example C(720h) (the role's default when unset).
        type: str
      vault_kv_path:
        description:
          - Path in the KV v2 mount O(kv_mount) where the full chain, the private key, serial and expiry
            are kept. Without O(certificates[].path) the stored certificate is read from there.
        type: str
      key_type:
        description: Type of the private key.
        type: str
        choices: [ec, rsa]
        default: ec
      key_size:
        description: Curve size (256, 384) for C(ec), modulus size (2048, 3072, 4096) for C(rsa); default 256 / 3072.
        type: int
      path:
        description:
          - Directory on the target that holds the files (created when missing, mode 0755).
          - At least one of O(certificates[].path) and O(certificates[].vault_kv_path) is needed.
        type: path
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
  renew_days:
    description: Also renew when the certificate expires within this many days (the renewal window of a job).
    type: float
  account_key_path:
    description:
      - File of the ACME account key (EC P-256, PEM), created with mode 0600 when missing.
      - Required when a certificate is issued through ACME, unless O(account_key_vault_path) is given.
    type: path
  account_key_vault_path:
    description:
      - Path in the KV v2 mount O(kv_mount) of the ACME account key (field C(private_key)), created there
        when missing. Takes precedence over O(account_key_path).
    type: str
  pki_mount:
    description: Mount of Vault's PKI engine.
    type: str
    default: pki
  pki_role:
    description: Default Vault PKI role of the certificates.
    type: str
    default: s2p-esa-int
  kv_mount:
    description: KV v2 mount for O(certificates[].vault_kv_path).
    type: str
    default: s2p
  contact:
    description: E-mail address given to the CA when the account is registered.
    type: str
  zones:
    description: Zones in which challenge records may be created.
    type: list
    elements: str
    default: [s2p.esa.int]
notes:
  - Keep the ACME account key in Vault (O(account_key_vault_path)) so every controller and AWX
    execution node uses the same account.
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
  description: Whether the ACME account key (file or Vault secret) was created by this run.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import env_fallback

from ansible_collections.esa.s2p.plugins.module_utils.acme.adapter import ADAPTER as ACME
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError
from ansible_collections.esa.s2p.plugins.module_utils.dns.adapter import ADAPTER as DNS
from ansible_collections.esa.s2p.plugins.module_utils.vault.adapter import ADAPTER as VAULT
from ansible_collections.esa.s2p.plugins.module_utils.workflows.certificate import converge

CERTIFICATE_SPEC = dict(
    name=dict(type="str", required=True),
    names=dict(type="list", elements="str", required=True),
    issuer=dict(type="str", choices=["acme", "vault_pki"], default="acme"),
    pki_role=dict(type="str"),
    ttl=dict(type="str"),
    vault_kv_path=dict(type="str"),
    key_type=dict(type="str", choices=["ec", "rsa"], default="ec"),
    key_size=dict(type="int"),
    path=dict(type="path"),
    owner=dict(type="str"),
    group=dict(type="str"),
    mode=dict(type="raw", default="0600"),
    force=dict(type="bool", default=False),
)


def main():
    module = ACME.module(
        # acme_directory only for batches with ACME certificates (checked with the batch).
        dict(acme_directory=dict(type="str", fallback=(env_fallback, ["ACME_DIRECTORY"])),
             certificates=dict(type="list", elements="dict", required=True, options=CERTIFICATE_SPEC),
             renew_fraction=dict(type="float", default=0.3333),
             renew_days=dict(type="float"),
             account_key_path=dict(type="path", no_log=False),
             account_key_vault_path=dict(type="str", no_log=False),
             vault=VAULT.nested_option(required=False),
             pki_mount=dict(type="str", default="pki"),
             pki_role=dict(type="str", default="s2p-esa-int"),
             kv_mount=dict(type="str", default="s2p"),
             contact=dict(type="str"),
             zones=dict(type="list", elements="str", default=["s2p.esa.int"]),
             dns=DNS.nested_option(required=False)),
        supports_check_mode=True)
    # Whether the batch needs Vault, DNS and ACME is checked with the batch; each client is built
    # (by these functions, nothing sent yet) only when a certificate needs it.
    clients = {"vault": lambda: VAULT.client_from_nested(module.params["vault"], "vault"),
               "dns": lambda: DNS.client_from_nested(module.params["dns"], "dns"),
               "acme": lambda account_key: ACME.client_from_options(module.params.get, account_key=account_key)}
    try:
        result = converge(module.params, module.check_mode, module._diff, clients,
                          module.set_fs_attributes_if_different)
    except S2PError as exc:
        module.fail_json(**exc.as_fail_kwargs())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
