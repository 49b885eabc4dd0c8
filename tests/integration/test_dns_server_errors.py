"""How dns_record and the DNS client report what a real server answers: a TSIG signature out
of the time window (BADTIME), a zone the server does not serve (REFUSED), a name that is no
zone apex (NXDOMAIN of the zone), a zone that failed to load (SERVFAIL, on a throwaway named
of our own with a broken zone file), and the connection taken from the environment (the
TSIG key included). Nothing is written in any of the failing cases."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import pytest
from ansible.plugins.loader import init_plugin_loader
from dns_helpers import record_play
import dns_helpers

ROOT = Path(__file__).resolve().parents[2]
init_plugin_loader([str(ROOT / ".build" / "collections")])

from ansible_collections.esa.s2p.plugins.module_utils.dns.client import (  # noqa: E402
    DNSClient,
    TSIGError,
)

TASK = "records"


bind = dns_helpers.bind_fixture  # the fixture `bind`: the lab BIND, names of the prefix deleted after


def test_a_signature_out_of_the_time_window_is_badtime(bind, prefix, monkeypatch):
    client = DNSClient(bind.server, bind.port, bind.key_name, bind.secret, "hmac-sha256", timeout=5)
    real = time.time
    # Our clock one hour behind: the lab BIND (fudge 300 s) answers NOTAUTH with TSIG error BADTIME.
    monkeypatch.setattr(dns.message.time, "time", lambda: real() - 3600)
    with pytest.raises(TSIGError) as info:
        client.soa("s2p.esa.int")
    monkeypatch.undo()
    assert info.value.tsig_error == "BADTIME" and info.value.rcode == "NOTAUTH"
    assert "clocks of this host and the server differ" in str(info.value) and "NTP" in str(info.value)


def test_zones_not_served_refused_and_nxdomain_change_nothing(run_playbook, bind, prefix):
    inside = f"{prefix}.s2p.esa.int"  # a name inside s2p.esa.int, but no zone of its own
    cases = {
        "not served": {"zones": [f"{prefix}.example.org"],
                       "records": [{"name": f"a.{prefix}.example.org", "type": "A", "values": ["10.250.0.1"]}]},
        "no zone apex": {"zones": [inside],
                         "records": [{"name": f"a.{inside}", "type": "A", "values": ["10.250.0.1"]}]},
    }
    serial = bind.serial()
    run = run_playbook(record_play(*[{"name": name, "ignore_errors": True, **params}
                                     for name, params in cases.items()]))
    refused, nxdomain = run.result("not served"), run.result("no zone apex")
    assert not refused["changed"] and not nxdomain["changed"]
    assert "refused by the server (REFUSED)" in refused["msg"] and "does not serve this zone" in refused["msg"]
    assert f"SOA query for zone {inside}" in nxdomain["msg"]
    assert "serves no zone of this name, it lies inside zone s2p.esa.int (NXDOMAIN)" in nxdomain["msg"]
    assert "Traceback" not in run.stdout
    assert bind.untouched(serial, prefix) and bind.rrset(f"a.{inside}", "A") == set()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broken_named(tmp_path):
    """A named of our own (not the shared lab BIND) serving zone broken.test from a zone file
    without an SOA: the zone fails to load and every query in it gets SERVFAIL."""
    port = _free_port()
    (tmp_path / "broken.test.db").write_text("$TTL 300\nwww IN A 10.250.0.1\n")
    conf = tmp_path / "named.conf"
    conf.write_text(f"""options {{
    directory "{tmp_path}"; pid-file "{tmp_path}/named.pid"; session-keyfile "{tmp_path}/session.key";
    managed-keys-directory "{tmp_path}"; listen-on port {port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }};
    recursion no; dnssec-validation no; notify no;
}};
controls {{ }};
zone "broken.test" {{ type primary; file "{tmp_path}/broken.test.db"; }};
""")
    log = (tmp_path / "named.log").open("w")
    proc = subprocess.Popen(["/usr/sbin/named", "-g", "-c", str(conf), "-u", "root"], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        query = dns.message.make_query("broken.test", "SOA")
        for _attempt in range(100):
            try:
                dns.query.udp(query, "127.0.0.1", port=port, timeout=0.5)
                break
            except (dns.exception.Timeout, OSError):
                assert proc.poll() is None, (tmp_path / "named.log").read_text()
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_a_zone_that_failed_to_load_is_servfail(run_playbook, broken_named):
    play = [{"name": "broken zone", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": TASK, "ignore_errors": True, "esa.s2p.dns_record": {
            "server": "127.0.0.1", "port": broken_named, "zones": ["broken.test"], "timeout": 5,
            "records": [{"name": "web.broken.test", "type": "A", "values": ["10.250.0.2"]}]}}]}]
    result = run_playbook(play).result(TASK)
    assert result["changed"] is False
    assert f"SOA query for zone broken.test: 127.0.0.1:{broken_named} failed on the server (SERVFAIL)" \
        in result["msg"] and "not loaded" in result["msg"], result["msg"]


def test_connection_and_tsig_key_from_the_environment(run_playbook, bind, prefix):
    env = {"DNS_SERVER": bind.server, "DNS_PORT": str(bind.port), "TSIG_KEY_NAME": bind.key_name,
           "TSIG_KEY_SECRET": bind.secret, "TSIG_KEY_ALGORITHM": "hmac-sha256"}
    record = {"name": f"env.{prefix}.s2p.esa.int", "type": "TXT", "values": ["from the environment"]}
    play = [{"name": "env", "hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": TASK, "esa.s2p.dns_record": {"records": [record]}}]}]
    run = run_playbook(play, envvars=env, verbosity=3)
    assert run.rc == 0, run.stdout[-3000:]
    assert run.result(TASK)["changed"]
    assert bind.rrset(record["name"], "TXT") == {"from the environment"}
    assert bind.secret not in run.stdout
