# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates from Vault's PKI engine, and certificate bundles kept in Vault KV v2.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Works on the one VaultClient of vault/client.py (its login and its hvac client); this file
adds no second client. Issuance signs our own CSR at <mount>/sign/<role>, so the private
key is made on this host and never travels to Vault and back; the role decides which names
and key types are allowed (the lab's role has key_type=any).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.esa.s2p.plugins.module_utils.vault.client import VaultError


def sign(client, mount, role, csr_pem, names, ttl=None):
    """Sign `csr_pem` at <mount>/sign/<role>; return the full chain PEM (leaf first)."""
    payload = {"csr": csr_pem.decode() if isinstance(csr_pem, bytes) else csr_pem,
               "common_name": names[0], "alt_names": ",".join(names[1:]), "format": "pem"}
    if ttl:
        payload["ttl"] = ttl
    action = "signing a certificate for %s at %s/sign/%s" % (", ".join(names), mount, role)
    response = client.request("POST", "%s/sign/%s" % (mount, role), action=action, json=payload)
    data = (response or {}).get("data") or {}
    if not data.get("certificate"):
        raise VaultError("Vault answered %s without a certificate" % action)
    chain = data.get("ca_chain") or ([data["issuing_ca"]] if data.get("issuing_ca") else [])
    parts = [data["certificate"].strip()] + [c.strip() for c in chain if c.strip() != data["certificate"].strip()]
    return "\n".join(parts) + "\n"


def kv_read(client, mount, path):
    """The data of the newest version of a KV v2 secret, or None when it does not exist (or was deleted)."""
    found = client.kv_read(mount, path)
    return found["data"] if found else None


def kv_write(client, mount, path, data):
    """A new version of a KV v2 secret, without check-and-set (the certificate run owns the path)."""
    client.kv_write(mount, path, data, None)
