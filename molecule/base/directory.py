"""Test data of the base scenario in the lab directory: a DC-engineers group with one member,
a user outside it, and the bind account sssd reads with; all under a random prefix.

  directory.py setup FILE      create them, write names and the bind password to FILE (0600)
  directory.py teardown FILE   delete what FILE names (and FILE)

Also picks a free loopback port for the container's sshd (the container shares the
machine's network).  Runs on the controller with the lab's admin credentials.
"""

import json
import os
import secrets
import socket
import ssl
import sys
from pathlib import Path

import ldap3

LAB_DIR = Path(os.environ.get("S2P_LAB_DIR") or Path(__file__).resolve().parents[2] / ".lab")


def connect():
    endpoints = json.loads((LAB_DIR / "endpoints.json").read_text())
    slapd = endpoints["slapd"]
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=endpoints["ca_file"])
    server = ldap3.Server(slapd["ldaps_uri"], use_ssl=True, tls=tls)
    password = Path(slapd["admin_password_file"]).read_text().strip()
    return ldap3.Connection(server, slapd["admin_dn"], password, auto_bind=True, raise_exceptions=True), slapd


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup(path):
    conn, slapd = connect()
    base = slapd["base_dn"]
    prefix = "mol" + secrets.token_hex(3)
    uid_number = 40000 + secrets.randbelow(20000)
    data = {
        "prefix": prefix,
        "ldaps_uri": slapd["ldaps_uri"],
        "base_dn": base,
        "engineer": prefix + "-engineer",
        "outsider": prefix + "-outsider",
        "uid_number": uid_number,
        "group": prefix + "-dc-engineers",
        "bind_dn": "uid=%s-host,ou=services,%s" % (prefix, base),
        "bind_password": secrets.token_urlsafe(24),
        "sshd_port": free_port(),
    }
    data["entries"] = []
    Path(path).write_text(json.dumps(data))
    os.chmod(path, 0o600)
    for offset, uid in enumerate((data["engineer"], data["outsider"])):
        dn = "uid=%s,ou=people,%s" % (uid, base)
        conn.add(dn, ["inetOrgPerson", "posixAccount"], {
            "cn": uid, "sn": uid, "uidNumber": uid_number + offset, "gidNumber": uid_number + offset,
            "homeDirectory": "/home/" + uid, "loginShell": "/bin/bash"})
        data["entries"].append(dn)
    group_dn = "cn=%s,ou=groups,%s" % (data["group"], base)
    conn.add(group_dn, ["groupOfNames"], {"member": [data["entries"][0]]})
    data["entries"].append(group_dn)
    bind_account = {"cn": prefix + "-host", "sn": "host", "userPassword": data["bind_password"]}
    conn.add(data["bind_dn"], ["inetOrgPerson"], bind_account)
    data["entries"].append(data["bind_dn"])
    Path(path).write_text(json.dumps(data))


def teardown(path):
    if not Path(path).exists():
        return
    data = json.loads(Path(path).read_text())
    conn = connect()[0]
    for dn in reversed(data.get("entries", [])):
        try:
            conn.delete(dn)
        except ldap3.core.exceptions.LDAPNoSuchObjectResult:
            pass
    Path(path).unlink()


if __name__ == "__main__":
    {"setup": setup, "teardown": teardown}[sys.argv[1]](sys.argv[2])
