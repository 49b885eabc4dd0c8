"""Helpers of the identity tests (ldap_account, ldap_group, credential): plays with the lab's
connections, and independent readers/cleaners that use ldap3 and hvac directly (never the
collection's own code), so a test sees what really is on the servers."""

from __future__ import annotations

import json
import os
import re
import ssl
import time
from pathlib import Path

import hvac
import ldap3

BASE = "dc=s2p,dc=esa,dc=int"
ROOT = Path(__file__).resolve().parents[2]
SLAPD_LOG = Path(os.environ.get("S2P_LAB_DIR", ROOT / ".lab")) / "logs" / "slapd.log"
MODULE_DEFAULTS = {"group/esa.s2p.ldap": "{{ s2p_ldap_connection }}",
                   "group/esa.s2p.vault": "{{ s2p_vault_connection }}"}
# esa.s2p.credential's Vault connection: its option `vault` (Vault is its second backend, so the
# module is not in group/esa.s2p.vault and takes nothing from the play's module_defaults for it).
VAULT = "{{ s2p_vault_connection }}"


def vault_with(**overrides) -> str:
    """The lab's Vault connection for credential's option `vault`, with `overrides` on top (as task
    arguments used to override module_defaults)."""
    return "{{ s2p_vault_connection | combine(%s) }}" % json.dumps(overrides)


def play(*tasks, name="identity", module_defaults=True, **play_options) -> list:
    body = {"name": name, "hosts": "localhost", "gather_facts": False, "tasks": list(tasks), **play_options}
    if module_defaults:
        body["module_defaults"] = dict(MODULE_DEFAULTS)
    return [body]


def task(module: str, params: dict, name: str = "t", **options) -> dict:
    return {"name": name, f"esa.s2p.{module}": params, **options}


def ldap_admin(lab: dict) -> ldap3.Connection:
    slapd = lab["slapd"]
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=lab["ca_file"])
    server = ldap3.Server(slapd["ldaps_uri"], use_ssl=True, tls=tls, get_info=ldap3.NONE)
    conn = ldap3.Connection(server, slapd["admin_dn"], Path(slapd["admin_password_file"]).read_text().strip(),
                            raise_exceptions=False)
    assert conn.bind(), conn.result
    return conn


def can_bind(lab: dict, dn: str, password: str) -> bool:
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=lab["ca_file"])
    server = ldap3.Server(lab["slapd"]["ldaps_uri"], use_ssl=True, tls=tls, get_info=ldap3.NONE)
    conn = ldap3.Connection(server, dn, password, raise_exceptions=False)
    try:
        return bool(conn.bind())
    finally:
        conn.unbind()


# The random name prefixes of tests and benchmarks (the `prefix` fixture, bench scripts): a letter
# and six hex digits. Other runs on the shared lab create and change such entries at any time.
RUN_PREFIX = re.compile(r"^[a-z][0-9a-f]{6}")


def snapshot(conn: ldap3.Connection, base: str = BASE, own_prefix: str | None = None) -> dict:
    """{dn lower: {attr: sorted values}} of every entry under base (operational ones included).
    With own_prefix, the entries of OTHER test and benchmark runs (a random prefix that is not
    ours) are left out, so runs of other engineers on the same lab cannot fail the comparison;
    every other entry (the seed entries, the model's accounts, our own) is kept."""
    conn.search(base, "(objectClass=*)", attributes=["*", "+"])
    # computed, or touched when children come and go
    skip = {"entrycsn", "contextcsn", "modifytimestamp", "modifiersname", "hassubordinates"}
    found = {}
    for e in conn.response:
        if e["type"] != "searchResEntry":
            continue
        name = e["dn"].split(",", 1)[0].partition("=")[2]
        if own_prefix and RUN_PREFIX.match(name) and not name.startswith(own_prefix):
            continue
        found[e["dn"].lower()] = {k.lower(): sorted(map(str, v if isinstance(v, list) else [v]))
                                  for k, v in e["attributes"].items() if k.lower() not in skip}
    return found


def entries_with_prefix(conn: ldap3.Connection, prefix: str) -> list[str]:
    """DNs under ou=services, people and groups whose uid or cn starts with prefix."""
    found = []
    for ou in ("services", "people", "groups"):
        conn.search(f"ou={ou},{BASE}", f"(|(uid={prefix}*)(cn={prefix}*))", search_scope=ldap3.LEVEL,
                    attributes=["1.1"])
        found += [e["dn"] for e in conn.response if e["type"] == "searchResEntry"]
    return found


def clean_ldap(lab: dict, prefix: str) -> None:
    conn = ldap_admin(lab)
    try:
        for dn in entries_with_prefix(conn, prefix):
            conn.delete(dn)
    finally:
        conn.unbind()


def vault_root(lab: dict) -> hvac.Client:
    bao = lab["openbao"]
    return hvac.Client(url=bao["url"], token=Path(bao["root_token_file"]).read_text().strip(), verify=lab["ca_file"])


def clean_vault(lab: dict, prefix: str) -> None:
    """Remove every KV secret under <mount>/<prefix>*/ and s2p-<prefix>* policies and AppRoles."""
    client = vault_root(lab)
    mount = lab["openbao"]["kv_mount"]

    def walk(path: str):
        return kv_paths(client, mount, path)

    top = client.secrets.kv.v2.list_secrets(path="", mount_point=mount)["data"]["keys"] \
        if _has_any(client, mount) else []
    for key in top:
        if key.startswith(prefix):
            for path in list(walk(key)) if key.endswith("/") else [key]:
                client.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=mount)
    for name in client.sys.list_acl_policies()["data"]["keys"]:
        if name.startswith(f"s2p-{prefix}"):
            client.sys.delete_acl_policy(name)
    try:
        roles = client.auth.approle.list_roles()["data"]["keys"]
    except hvac.exceptions.InvalidPath:
        roles = []
    for name in roles:
        if name.startswith(f"s2p-{prefix}"):
            client.auth.approle.delete_role(name)


def kv_paths(client: hvac.Client, mount: str, path: str):
    """Every secret path at or under the KV folder `path` (ending with '/')."""
    try:
        keys = client.secrets.kv.v2.list_secrets(path=path, mount_point=mount)["data"]["keys"]
    except hvac.exceptions.InvalidPath:
        return
    for key in keys:
        if key.endswith("/"):
            yield from kv_paths(client, mount, path + key)
        else:
            yield path + key


def _has_any(client: hvac.Client, mount: str) -> bool:
    try:
        client.secrets.kv.v2.list_secrets(path="", mount_point=mount)
        return True
    except hvac.exceptions.InvalidPath:
        return False


def kv_read(lab: dict, path: str) -> dict | None:
    try:
        return vault_root(lab).secrets.kv.v2.read_secret_version(
            path=path, mount_point=lab["openbao"]["kv_mount"], raise_on_deleted_version=False)["data"]
    except hvac.exceptions.InvalidPath:
        return None


def slapd_saw_bind(dn: str, wait: float = 0.0) -> bool:
    """True when slapd's stats log shows a BIND for `dn` (polling up to `wait` seconds)."""
    deadline = time.monotonic() + wait
    while True:
        if ('BIND dn="%s"' % dn).lower() in SLAPD_LOG.read_text(errors="replace").lower():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def kv_all_values(lab: dict, path: str) -> list[str]:
    """Every password and pending password in every version of `path` (for leak checks)."""
    client, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    versions = client.secrets.kv.v2.read_secret_metadata(path=path, mount_point=mount)["data"]["versions"]
    values = []
    for version in versions:
        data = client.secrets.kv.v2.read_secret_version(path=path, version=int(version), mount_point=mount,
                                                        raise_on_deleted_version=False)["data"]["data"] or {}
        values += [data[k] for k in ("password", "pending_password") if data.get(k)]
    return values


def alive(pid: int) -> bool:
    """True while process `pid` exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status
