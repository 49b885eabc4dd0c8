"""BIND 9.18: authoritative DNS on 127.0.0.1:10053 (UDP and TCP) for the lab's zones.

Zones s2p.esa.int and 10.in-addr.arpa (the sites' 10.x subnets), both primary and dynamic:
the TSIG key s2p-automation (hmac-sha256, generated once with tsig-keygen) may update any
name in them and transfer them (AXFR).  Zone files are written once; later changes arrive as
dynamic updates, which BIND keeps in <zone>.db.jnl next to the zone file.  The zone file and
its journal are one unit: a zone file that went missing is re-created together with the
removal of its journal (an old journal replayed onto a new zone file brings old records back).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from string import Template

from common import HOST, PORTS, ROOT, Health, Lab, LabError, port_open, ports_free, run

NAME = "bind"
APT = ["bind9", "bind9-utils", "bind9-dnsutils"]

PORT = PORTS[NAME]["dns"]
ZONES = ["s2p.esa.int", "10.in-addr.arpa"]
KEY_NAME = "s2p-automation"
KEY_ALGORITHM = "hmac-sha256"
SECRET = f"{NAME}/tsig-secret"
SOURCE = ROOT / "lab" / "bind"
# Records every zone starts with, besides SOA and NS ns1.s2p.esa.int.
INITIAL_RECORDS = {"s2p.esa.int": f"ns1     IN A    {HOST}", "10.in-addr.arpa": ""}


def _sbin(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not found:
        raise LabError(f"{name} not found: install the Debian packages {' '.join(APT)}")
    return found


def _secret(lab: Lab) -> str:
    """The TSIG secret (base64), generated once with tsig-keygen and kept 0600."""
    path = lab.state / SECRET
    if path.exists():
        return path.read_text().strip()
    out = run([_sbin("tsig-keygen"), "-a", KEY_ALGORITHM, KEY_NAME]).stdout
    match = re.search(r'secret "([^"]+)"', out)
    if not match:
        raise LabError("tsig-keygen printed no secret")
    lab.write_secret(SECRET, match.group(1))
    return match.group(1)


def _key_file(lab: Lab) -> Path:
    clause = f'key "{KEY_NAME}" {{\n\talgorithm {KEY_ALGORITHM};\n\tsecret "{_secret(lab)}";\n}};\n'
    return lab.write_secret(f"{NAME}/tsig.key", clause)


def _zone_files(lab: Lab, root: Path) -> None:
    """Write each missing zone file once, dropping a journal that belonged to a lost zone file."""
    template = Template((SOURCE / "zone.db").read_text())
    for zone in ZONES:
        db = root / "zones" / f"{zone}.db"
        if db.exists():
            continue
        journal = db.with_name(db.name + ".jnl")
        if journal.exists():
            print(f"lab: bind      {db.name} was missing: removed its stale journal {journal.name}", flush=True)
            journal.unlink()
        db.write_text(template.substitute(zone=zone, records=INITIAL_RECORDS[zone]))


def _config(lab: Lab) -> Path:
    root = lab.dir(NAME)
    for sub in ("zones", "run"):
        (root / sub).mkdir(mode=0o700, exist_ok=True)
    _zone_files(lab, root)
    zone_template = Template((SOURCE / "zone.conf").read_text())
    zones = "\n".join(zone_template.substitute(zone=z, dir=root, key_name=KEY_NAME) for z in ZONES)
    conf = root / "named.conf"
    conf.write_text(Template((SOURCE / "named.conf").read_text()).substitute(
        key_file=_key_file(lab), dir=root, port=PORT, zones=zones))
    run([_sbin("named-checkconf"), str(conf)])
    return conf


# --- health: a TSIG-signed SOA query per zone ----------------------------------------------------
def _soa_dnspython(secret: str, zone: str) -> str:
    import dns.flags
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype
    import dns.tsig

    query = dns.message.make_query(zone, dns.rdatatype.SOA)
    query.use_tsig(dns.tsig.Key(KEY_NAME, secret, KEY_ALGORITHM))
    response = dns.query.udp(query, HOST, port=PORT, timeout=2)  # verifies the response's TSIG
    if response.rcode() != dns.rcode.NOERROR or not response.flags & dns.flags.AA or not response.answer:
        raise LabError(f"{zone} SOA: {dns.rcode.to_text(response.rcode())}, "
                       f"aa={bool(response.flags & dns.flags.AA)}, {len(response.answer)} answers")
    return f"{zone} serial {response.answer[0][0].serial}"


def _soa_dig(lab: Lab, zone: str) -> str:
    """Fallback without dnspython: dig with the key file (never the secret on the command line)."""
    proc = subprocess.run(["dig", "-p", str(PORT), f"@{HOST}", "-k", str(lab.dir(NAME) / "tsig.key"),
                           "+norecurse", "+tries=1", "+time=2", zone, "SOA"],
                          capture_output=True, text=True, check=False)
    out = proc.stdout
    status = re.search(r"status: (\w+)", out)
    flags = re.search(r";; flags: ([a-z ]+);", out)
    if proc.returncode != 0 or not status or status.group(1) != "NOERROR" or not flags \
            or "aa" not in flags.group(1).split() or "verify" in out.lower():
        raise LabError(f"{zone} SOA via dig failed: {(out + proc.stderr).strip()[-300:]}")
    return f"{zone} NOERROR aa"


def _check(lab: Lab) -> str:
    secret = (lab.state / SECRET).read_text().strip()
    try:
        import dns.tsig  # noqa: F401
    except ImportError:
        return ", ".join(_soa_dig(lab, zone) for zone in ZONES)
    return ", ".join(_soa_dnspython(secret, zone) for zone in ZONES)


def status(lab: Lab) -> Health:
    endpoint = f"dns://{HOST}:{PORT}"
    if lab.pid(NAME) is None:
        detail = f"port {PORT} held by a process that is not ours" if port_open(PORT) else "not running"
        return Health(NAME, False, endpoint, detail)
    try:
        detail = _check(lab)
    except Exception as err:  # any failure (ldap3/dnspython raise their own types) is unhealthy
        return Health(NAME, False, endpoint, f"{type(err).__name__}: {err}")
    return Health(NAME, True, endpoint, f"TSIG-signed SOA authoritative: {detail}")


def _endpoint(lab: Lab) -> None:
    lab.set_endpoint(NAME, {"server": HOST, "port": PORT, "zones": ZONES, "tsig_key_name": KEY_NAME,
                            "tsig_algorithm": KEY_ALGORITHM, "tsig_secret_file": str(lab.state / SECRET)})


def up(lab: Lab) -> str:
    if status(lab).healthy:
        _endpoint(lab)
        return "already running"
    lab.stop(NAME)  # our process if it is alive but does not answer
    if not ports_free([PORT]):
        raise LabError(f"port {PORT} is in use by a process the lab did not start; stop it first")
    conf = _config(lab)
    # -g: foreground with every message on stderr (our log), including configuration errors.
    lab.spawn(NAME, [_sbin("named"), "-g", "-c", str(conf), "-u", "root"])
    lab.wait_started(NAME, lambda: status(lab).healthy, "named", timeout=30)
    _endpoint(lab)
    return "started"


def down(lab: Lab) -> str:
    return "stopped" if lab.stop(NAME) else "not running"
