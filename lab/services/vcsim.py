"""vcsim, the vSphere API simulator: https://127.0.0.1:18989/sdk with a lab CA certificate.

Built offline from Debian's govmomi 0.24.2 source with the patches in lab/vcsim/ (see
lab/vcsim/build.sh); rebuilt only when an input of the build changed (hash stamp).  The
inventory (lab/vcsim/main.go) is built in memory at every start: three datacenters ESOC,
ESEC, ESRIN, each with a cluster, hosts, a datastore, port groups, VM folders and the
template debian-12-template; S2P_VCSIM_VMS extra VMs (default 0) for benchmarks.  Nothing
survives a restart, as with any vcsim.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import ssl
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape

from common import HOST, PORTS, ROOT, Health, Lab, LabError, port_open, ports_free, run

NAME = "vcsim"
APT = ["golang-go", "golang-github-vmware-govmomi-dev", "patch"]

PORT = PORTS[NAME]["https"]
URL = f"https://{HOST}:{PORT}/sdk"
USERNAME = "s2p-admin@vsphere.local"
DATACENTERS = ["ESOC", "ESEC", "ESRIN"]
TEMPLATE = "debian-12-template"
SOURCE = ROOT / "lab" / "vcsim"
GOVMOMI = Path("/usr/share/gocode/src/github.com/vmware/govmomi")
PASSWORD = f"{NAME}/password"
VIM = "{urn:vim25}"


def _binary(lab: Lab) -> Path:
    return lab.dir(NAME) / "bin" / "vcsim"


def _extra_vms() -> int:
    raw = os.environ.get("S2P_VCSIM_VMS", "0").strip() or "0"
    if not raw.isdigit():
        raise LabError(f"S2P_VCSIM_VMS must be a whole number >= 0, got {raw!r}")
    return int(raw)


def _source_hash() -> str:
    """Hash of every build input: our sources and patches, the Go toolchain, Debian's govmomi."""
    digest = hashlib.sha256()
    for path in sorted(SOURCE.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    go = subprocess.run(["go", "version"], capture_output=True, text=True, check=False).stdout
    pkg = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "golang-github-vmware-govmomi-dev"],
                         capture_output=True, text=True, check=False).stdout
    digest.update(f"{go}\0{pkg}".encode())
    return digest.hexdigest()


def build(lab: Lab) -> float | None:
    """Build the patched vcsim when an input changed; return the build time, None if current."""
    binary, stamp = _binary(lab), lab.dir(NAME) / "bin" / "vcsim.stamp"
    wanted = _source_hash()
    if binary.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return None
    if not GOVMOMI.is_dir():
        raise LabError(f"{GOVMOMI} missing: install golang-github-vmware-govmomi-dev")
    started = time.monotonic()
    stamp.unlink(missing_ok=True)
    run(["bash", str(SOURCE / "build.sh"), str(lab.dir(NAME) / "build"), str(binary)],
        env={**os.environ, "HOME": os.environ.get("HOME", "/root")})
    stamp.write_text(wanted + "\n")
    return time.monotonic() - started


# --- health: raw SOAP, so that `status` works with any python3 ---------------------------------
def _call(conn: http.client.HTTPSConnection, method: str, this: str, this_type: str, args: str = "",
          cookie: str | None = None) -> tuple[int, ET.Element, str | None]:
    """POST one vim25 method; return the HTTP status, the parsed envelope and the session cookie."""
    envelope = ('<?xml version="1.0" encoding="UTF-8"?>'
                '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
                f'<{method} xmlns="urn:vim25"><_this type="{this_type}">{escape(this)}</_this>{args}</{method}>'
                '</soapenv:Body></soapenv:Envelope>')
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:vim25/6.5"'}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("POST", "/sdk", envelope.encode(), headers)
    response = conn.getresponse()
    payload = response.read()
    set_cookie = response.getheader("Set-Cookie")
    return response.status, ET.fromstring(payload), set_cookie.split(";")[0] if set_cookie else None


def check_login(lab: Lab, password: str) -> str:
    """RetrieveServiceContent + Login + Logout over HTTPS trusting only the lab CA.

    Returns the product name; raises LabError on a failed login, OSError on transport errors."""
    context = ssl.create_default_context(cafile=str(lab.ca_cert))
    conn = http.client.HTTPSConnection(HOST, PORT, context=context, timeout=10)
    try:
        _status, content, _headers = _call(conn, "RetrieveServiceContent", "ServiceInstance", "ServiceInstance")
        product = content.findtext(f".//{VIM}about/{VIM}fullName") or "?"
        manager = content.findtext(f".//{VIM}sessionManager") or "SessionManager"
        credentials = f"<userName>{escape(USERNAME)}</userName><password>{escape(password)}</password>"
        code, login, cookie = _call(conn, "Login", manager, "SessionManager", credentials)
        if code != 200 or login.find(f".//{VIM}LoginResponse") is None:
            fault = login.findtext(".//faultstring") or f"HTTP {code}"
            raise LabError(f"login as {USERNAME} failed: {fault}")
        _call(conn, "Logout", manager, "SessionManager", cookie=cookie)
        return product
    finally:
        conn.close()


def status(lab: Lab) -> Health:
    if lab.pid(NAME) is None:
        detail = f"port {PORT} held by a process that is not ours" if port_open(PORT) else "not running"
        return Health(NAME, False, URL, detail)
    try:
        password = (lab.state / PASSWORD).read_text().strip()
        product = check_login(lab, password)
    except (OSError, ET.ParseError, http.client.HTTPException, LabError) as err:
        return Health(NAME, False, URL, f"{type(err).__name__}: {err}")
    running = _running_info(lab)
    return Health(NAME, True, URL, f"{product}, login ok as {USERNAME}, {running.get('vms', '?')} extra VMs")


def _running_info(lab: Lab) -> dict:
    try:
        return json.loads((lab.dir(NAME) / "running.json").read_text())
    except (OSError, ValueError):
        return {}


def _endpoint(lab: Lab) -> None:
    lab.set_endpoint(NAME, {
        "hostname": HOST, "port": PORT, "url": URL, "username": USERNAME,
        "password_file": str(lab.state / PASSWORD), "datacenters": DATACENTERS, "template": TEMPLATE,
    })


def up(lab: Lab) -> str:
    vms = _extra_vms()
    if status(lab).healthy:
        _endpoint(lab)
        running = _running_info(lab)
        if running.get("vms") != vms or running.get("source") != _source_hash():
            print(f"lab: vcsim     note: running with {running.get('vms')} extra VMs and the build of its start; "
                  f"`lab.py down vcsim` then `up` applies S2P_VCSIM_VMS={vms} and source changes", flush=True)
        return "already running"
    lab.stop(NAME)  # our process if it is alive but does not answer
    if not ports_free([PORT]):
        raise LabError(f"port {PORT} is in use by a process the lab did not start; stop it first")
    built = build(lab)
    if built is not None:
        print(f"lab: vcsim     built {_binary(lab)} in {built:.1f}s", flush=True)
    cert, key = lab.server_cert(NAME)
    lab.read_or_create_secret(PASSWORD)
    lab.spawn(NAME, [str(_binary(lab)), "-listen", f"{HOST}:{PORT}", "-cert", str(cert), "-key", str(key),
                     "-username", USERNAME, "-password-file", str(lab.state / PASSWORD),
                     "-datastores", str(lab.dir(NAME) / "datastores"), "-vms", str(vms)])
    (lab.dir(NAME) / "running.json").write_text(json.dumps({"vms": vms, "source": _source_hash()}) + "\n")
    # The inventory build grows faster than linearly (every VM creates files on the datastore):
    # measured 3 s for 3000 extra VMs, 22-52 s for 5000 on two busy cores.
    lab.wait_started(NAME, lambda: status(lab).healthy, "vcsim", timeout=60 + vms / 20)
    _endpoint(lab)
    return "started"


def down(lab: Lab) -> str:
    return "stopped" if lab.stop(NAME) else "not running"
