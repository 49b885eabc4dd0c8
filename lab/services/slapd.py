"""OpenLDAP slapd 2.5: ldap://127.0.0.1:10389 (StartTLS) and ldaps://127.0.0.1:10636.

Its own cn=config folder in the state folder (never Debian's /etc/ldap/slapd.d), built once
from lab/slapd/config.ldif and base.ldif with slapadd; later `up`s reuse it, so the directory
survives down/up.  Suffix dc=s2p,dc=esa,dc=int with ou=people, services, groups, policies and
a default password policy (ppolicy: 16 characters, lockout after 5 failures for 300 s).
Simple binds need TLS (olcSecurity simple_bind=128): a plain ldap:// bind without StartTLS is
refused with confidentialityRequired.  The admin password is generated once; only its {SSHA}
hash is in the config.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import ssl
import subprocess
from pathlib import Path
from string import Template

from common import HOST, PORTS, ROOT, Health, Lab, LabError, port_open, ports_free, run

NAME = "slapd"
APT = ["slapd", "ldap-utils"]

P = PORTS[NAME]
LDAP_URI = f"ldap://{HOST}:{P['ldap']}"
LDAPS_URI = f"ldaps://{HOST}:{P['ldaps']}"
BASE_DN = "dc=s2p,dc=esa,dc=int"
ADMIN_DN = f"cn=admin,{BASE_DN}"
SOURCE = ROOT / "lab" / "slapd"
PASSWORD = f"{NAME}/admin-password"


def _sbin(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not found:
        raise LabError(f"{name} not found: install the Debian package slapd")
    return found


def _ssha(password: str) -> str:
    """RFC 2307 {SSHA}, computed here so the password never appears on a command line."""
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def _paths(lab: Lab) -> dict[str, Path]:
    root = lab.dir(NAME)
    return {"root": root, "config": root / "slapd.d", "data": root / "data", "run": root / "run",
            "stamp": root / "provisioned"}


def _provision(lab: Lab) -> bool:
    """Create cn=config and the base entries once; False when they already exist."""
    paths = _paths(lab)
    password_file = lab.state / PASSWORD
    if paths["stamp"].exists() and (paths["config"] / "cn=config.ldif").exists():
        if not password_file.exists():
            raise LabError(f"{password_file} is missing but {paths['config']} exists: the admin password "
                           f"is lost; remove {paths['root']} (drops the directory's data) and run up again")
        return False
    # Nothing, or leftovers of an interrupted provisioning: start from scratch.
    for key in ("config", "data", "run"):
        shutil.rmtree(paths[key], ignore_errors=True)
        paths[key].mkdir(mode=0o700, parents=True)
    password = lab.read_or_create_secret(PASSWORD)
    cert, key = lab.server_cert(NAME)
    values = {"run": paths["run"], "data": paths["data"], "ca_file": lab.ensure_ca(), "cert_file": cert,
              "key_file": key, "base_dn": BASE_DN, "admin_dn": ADMIN_DN, "admin_pw_hash": _ssha(password)}
    for number, template in ((0, "config.ldif"), (1, "base.ldif")):
        ldif = lab.write_secret(f"{NAME}/{template}", Template((SOURCE / template).read_text()).substitute(values))
        try:
            run([_sbin("slapadd"), "-n", str(number), "-F", str(paths["config"]), "-l", str(ldif)])
        finally:
            ldif.unlink(missing_ok=True)
    paths["stamp"].write_text("cn=config and base entries loaded\n")
    return True


def _search_base(lab: Lab, password: str) -> str:
    """Bind as admin over LDAPS (lab CA validated) and read the base entry; return its o."""
    try:
        import ldap3
    except ImportError:
        return _search_base_cli(lab)
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(lab.ca_cert))
    server = ldap3.Server(LDAPS_URI, use_ssl=True, tls=tls, connect_timeout=5)
    conn = ldap3.Connection(server, ADMIN_DN, password, receive_timeout=5, raise_exceptions=False)
    try:
        if not conn.bind():
            raise LabError(f"bind as {ADMIN_DN} failed: {conn.result.get('description')} {conn.result.get('message')}")
        if not conn.search(BASE_DN, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["o"]) or not conn.entries:
            raise LabError(f"base {BASE_DN} not found: {conn.result.get('description')}")
        return str(conn.entries[0].o)
    finally:
        conn.unbind()


def _search_base_cli(lab: Lab) -> str:
    """Fallback without ldap3 (system python3): ldapsearch from ldap-utils."""
    env = {**os.environ, "LDAPTLS_CACERT": str(lab.ca_cert), "LDAPTLS_REQCERT": "demand"}
    proc = subprocess.run(["ldapsearch", "-x", "-LLL", "-o", "nettimeout=5", "-H", LDAPS_URI, "-D", ADMIN_DN,
                           "-y", str(lab.state / PASSWORD), "-b", BASE_DN, "-s", "base", "o"],
                          capture_output=True, text=True, env=env, timeout=15, check=False)
    if proc.returncode != 0:
        raise LabError(f"ldapsearch failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    for line in proc.stdout.splitlines():
        if line.startswith("o: "):
            return line[3:]
    raise LabError(f"base {BASE_DN} has no o attribute")


def status(lab: Lab) -> Health:
    if lab.pid(NAME) is None:
        held = [port for port in P.values() if port_open(port)]
        detail = f"port(s) {held} held by a process that is not ours" if held else "not running"
        return Health(NAME, False, LDAPS_URI, detail)
    try:
        org = _search_base(lab, (lab.state / PASSWORD).read_text().strip())
    except Exception as err:  # any failure (ldap3/dnspython raise their own types) is unhealthy
        return Health(NAME, False, LDAPS_URI, f"{type(err).__name__}: {err}")
    return Health(NAME, True, LDAPS_URI, f"bound as {ADMIN_DN} over LDAPS, base {BASE_DN} ({org}); "
                                         f"StartTLS on {LDAP_URI}")


def _endpoint(lab: Lab) -> None:
    lab.set_endpoint(NAME, {"ldaps_uri": LDAPS_URI, "ldap_uri": LDAP_URI, "base_dn": BASE_DN,
                            "admin_dn": ADMIN_DN, "admin_password_file": str(lab.state / PASSWORD)})


def up(lab: Lab) -> str:
    if status(lab).healthy:
        _endpoint(lab)
        return "already running"
    lab.stop(NAME)  # our process if it is alive but does not answer
    if not ports_free(P.values()):
        raise LabError(f"port(s) {list(P.values())} in use by a process the lab did not start; stop it first")
    if _provision(lab):
        print(f"lab: slapd     created cn=config and base entries in {_paths(lab)['root']}", flush=True)
    lab.spawn(NAME, [_sbin("slapd"), "-h", f"{LDAP_URI}/ {LDAPS_URI}/", "-F", str(_paths(lab)["config"]),
                     "-d", "stats"])
    lab.wait_started(NAME, lambda: status(lab).healthy, "slapd", timeout=30)
    _endpoint(lab)
    return "started"


def down(lab: Lab) -> str:
    return "stopped" if lab.stop(NAME) else "not running"
