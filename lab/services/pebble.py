"""Pebble, the ACME test CA: https://127.0.0.1:14000/dir, management on https://127.0.0.1:15000.

Both HTTPS listeners carry a certificate from the lab CA.  Challenges are validated at once
(PEBBLE_VA_NOSLEEP), every nonce is accepted (PEBBLE_WFE_NONCEREJECT=0) and authorisations
are never reused (PEBBLE_AUTHZREUSE=0, so repeated runs really answer challenges).  DNS
lookups for DNS-01/HTTP-01 go to the lab BIND (127.0.0.1:10053).

Pebble keeps everything in memory: a restart creates a new root and intermediate, so
clients fetch them from the management port (/roots/0, /intermediates/0) after each `up`.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

from common import HOST, PORTS, Health, Lab, LabError, port_open, wait_for

NAME = "pebble"
APT = ["pebble"]

P = PORTS[NAME]
DIRECTORY_URL = f"https://{HOST}:{P['acme']}/dir"
MANAGEMENT_URL = f"https://{HOST}:{P['management']}"
DNS_SERVER = f"{HOST}:{PORTS['bind']['dns']}"
ENV = {"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0", "PEBBLE_AUTHZREUSE": "0"}
DIRECTORY_KEYS = ("newNonce", "newAccount", "newOrder")


def _binary() -> str:
    """The pebble binary as installed by the Debian package (dpkg -L), else from PATH."""
    listing = subprocess.run(["dpkg", "-L", "pebble"], capture_output=True, text=True, check=False).stdout
    for line in listing.splitlines():
        if line.endswith("/bin/pebble") and Path(line).is_file():
            return line
    found = shutil.which("pebble")
    if not found:
        raise LabError("pebble binary not found: install the Debian package `pebble`")
    return found


def _config(lab: Lab) -> dict:
    cert, key = lab.server_cert(NAME)
    return {"pebble": {
        "listenAddress": f"{HOST}:{P['acme']}",
        "managementListenAddress": f"{HOST}:{P['management']}",
        "certificate": str(cert),
        "privateKey": str(key),
        "httpPort": P["http01"],
        "tlsPort": P["tlsalpn01"],
        "ocspResponderURL": "",
        "externalAccountBindingRequired": False,
    }}


def _fetch(lab: Lab, url: str) -> bytes:
    """GET over HTTPS, verified against the lab CA."""
    context = ssl.create_default_context(cafile=str(lab.ca_cert))
    with urllib.request.urlopen(url, timeout=5, context=context) as response:
        return response.read()


def status(lab: Lab) -> Health:
    try:
        directory = json.loads(_fetch(lab, DIRECTORY_URL))
        root = _fetch(lab, f"{MANAGEMENT_URL}/roots/0")
    except (OSError, ValueError) as err:
        running = "process running" if lab.pid(NAME) else "not running"
        return Health(NAME, False, DIRECTORY_URL, f"{err} ({running})")
    missing = [k for k in DIRECTORY_KEYS if k not in directory]
    if missing:
        return Health(NAME, False, DIRECTORY_URL, f"directory lacks {', '.join(missing)}")
    if b"BEGIN CERTIFICATE" not in root:
        return Health(NAME, False, DIRECTORY_URL, "management /roots/0 returned no certificate")
    return Health(NAME, True, DIRECTORY_URL, f"ACME directory ok, management {MANAGEMENT_URL}, DNS {DNS_SERVER}")


def up(lab: Lab) -> str:
    path = lab.dir(NAME) / "pebble-config.json"
    lab.check_pid(NAME, "pebble", str(path))
    config = json.dumps(_config(lab), indent=2) + "\n"
    current = path.exists() and path.read_text() == config
    if current and status(lab).healthy:
        _set_endpoint(lab)
        return "already running"
    if not current:
        path.write_text(config)
    lab.stop(NAME)  # a hung Pebble or one with an old configuration (no-op when none runs)
    busy = [port for port in P.values() if port_open(port)]
    if busy:
        raise LabError(f"port(s) {busy} already in use by a process that is not the lab's {NAME}; "
                       "stop it and run up again")
    if not port_open(PORTS["bind"]["dns"]):
        print(f"lab: {NAME}: warning: the lab BIND ({DNS_SERVER}) is not listening yet; "
              "challenges will fail until it is up", file=sys.stderr)
    lab.spawn(NAME, [_binary(), "-config", str(path), "-dnsserver", DNS_SERVER], env=ENV, cwd=lab.dir(NAME))
    wait_for(lambda: status(lab).healthy or not lab.pid(NAME), f"{NAME} on {DIRECTORY_URL}",
             timeout=30, log=lab.log(NAME))
    health = status(lab)
    if not health.healthy:
        raise LabError(f"{NAME} did not start: {health.detail} (log: {lab.log(NAME)})")
    _set_endpoint(lab)
    return "started"


def down(lab: Lab) -> str:
    lab.check_pid(NAME, "pebble", str(lab.dir(NAME) / "pebble-config.json"))
    return "stopped" if lab.stop(NAME) else "not running"


def _set_endpoint(lab: Lab) -> None:
    lab.set_endpoint(NAME, {"directory_url": DIRECTORY_URL, "management_url": MANAGEMENT_URL})
