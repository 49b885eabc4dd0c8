"""Helpers of the DNS record tests: plays running esa.s2p.dns_record(_info) with the lab's
connection, and an independent reader of the lab BIND (dnspython with the TSIG key)."""

from __future__ import annotations

from pathlib import Path

import dns.message
import dns.name
import dns.query
import dns.rdatatype
import dns.tsig
import pytest

CONNECTION = {"group/esa.s2p.dns": "{{ s2p_dns_connection }}"}


def record_play(*tasks: dict) -> list:
    """One play on localhost with the DNS connection from module_defaults; each task a dict
    {name, module params..., optional check_mode/register}."""
    body = []
    for task in tasks:
        task = dict(task)
        name = task.pop("name")
        module = task.pop("module", "esa.s2p.dns_record")
        extra = {k: task.pop(k) for k in ("check_mode", "register", "ignore_errors", "diff") if k in task}
        body.append({"name": name, module: task, **extra})
    return [{"name": "dns records", "hosts": "localhost", "gather_facts": False,
             "module_defaults": CONNECTION, "tasks": body}]


class Bind:
    """Reads the lab BIND directly, signed with the lab's key: the tests' independent check."""

    def __init__(self, lab: dict):
        data = lab["bind"]
        self.server, self.port = data["server"], int(data["port"])
        self.key_name = data["tsig_key_name"]
        self.secret = Path(data["tsig_secret_file"]).read_text().strip()
        self.key = dns.tsig.Key(self.key_name, self.secret, data["tsig_algorithm"])

    def _ask(self, name: str, rdtype: str):
        query = dns.message.make_query(name, rdtype)
        query.use_tsig(self.key)
        return dns.query.udp_with_fallback(query, self.server, port=self.port, timeout=5)[0]

    def rrset(self, name: str, rdtype: str) -> set[str]:
        """Presentation texts of the RRset (TXT joined to one string per record)."""
        answer = self._ask(name, rdtype)
        wanted = dns.rdatatype.from_text(rdtype)
        found = set()
        for rrset in answer.answer:
            if rrset.rdtype == wanted and rrset.name == dns.name.from_text(name):
                for rdata in rrset:
                    found.add(b"".join(rdata.strings).decode() if rdtype == "TXT" else rdata.to_text())
        return found

    def txt_strings(self, name: str) -> list[tuple]:
        answer = self._ask(name, "TXT")
        return [tuple(r.strings) for rrset in answer.answer for r in rrset]

    def serial(self, zone: str = "s2p.esa.int") -> int:
        return self._ask(zone, "SOA").answer[0][0].serial

    def transferred_rrset(self, name: str, rdtype: str, zone: str = "s2p.esa.int") -> set[str]:
        """The RRset as the zone holds it, by AXFR: also NS below the apex (a delegation), which a
        query only answers with a referral."""
        wanted, found = (dns.name.from_text(name), dns.rdatatype.from_text(rdtype)), set()
        for message in dns.query.xfr(self.server, zone, port=self.port, keyring={self.key.name: self.key},
                                     keyname=self.key.name, relativize=False, lifetime=30):
            for rrset in message.answer:
                if (rrset.name, rrset.rdtype) == wanted:
                    found.update(rdata.to_text() for rdata in rrset)
        return found

    def changed_since(self, serial: int, zone: str = "s2p.esa.int") -> set[str] | None:
        """Names (lower case, no final dot) changed in `zone` since `serial`, by IXFR from the
        server's journal; None when the server can only send the whole zone."""
        import dns.rdatatype as rdt

        names, soas = set(), 0
        for message in dns.query.xfr(self.server, zone, rdtype=rdt.IXFR, serial=serial, port=self.port,
                                     keyring={self.key.name: self.key}, keyname=self.key.name,
                                     relativize=False, lifetime=30):
            for rrset in message.answer:
                if rrset.rdtype == rdt.SOA:
                    soas += 1
                elif soas == 1:
                    return None  # a full transfer: the journal does not reach back to `serial`
                else:
                    names.add(rrset.name.to_text(omit_final_dot=True).lower())
        return names

    def untouched(self, serial: int, prefix: str, names=(), zone: str = "s2p.esa.int") -> bool:
        """Whether nothing under the test's `prefix` or at `names` (or their ownership names) changed
        in `zone` since `serial`. The zones are shared with other engineers' runs, whose changes
        move the serial: the journal (IXFR) tells their changes from ours."""
        changed = self.changed_since(serial, zone)
        if changed is None:
            return self.serial(zone) == serial
        ours = {str(n).rstrip(".").lower() for n in names}
        # a name's ownership TXT lives at _s2p-owner.<name>; any other name is only its own (a
        # bare partition matched every first-level name of tests running beside this one)
        return not any(prefix in n or n in ours or (n.startswith("_s2p-owner.") and n.partition(".")[2] in ours)
                       for n in changed)

    def names_under(self, suffix: str, zone: str = "s2p.esa.int") -> set[str]:
        """Every name (any type) at or under `suffix` in `zone`, by AXFR."""
        names = set()
        for message in dns.query.xfr(self.server, zone, port=self.port, keyring={self.key.name: self.key},
                                     keyname=self.key.name, relativize=False, lifetime=30):
            for rrset in message.answer:
                text = rrset.name.to_text(omit_final_dot=True)
                if text == suffix or text.endswith("." + suffix) or suffix in text:
                    names.add(text)
        return names

    def cleanup(self, prefix: str, zones=("s2p.esa.int", "10.in-addr.arpa")) -> int:
        """Delete every name holding `prefix` (or a PTR to such a name) and its ownership record;
        returns how many names were deleted."""
        import dns.update

        deleted = 0
        for zone in zones:
            doomed = set()
            for message in dns.query.xfr(self.server, zone, port=self.port, keyring={self.key.name: self.key},
                                         keyname=self.key.name, relativize=False, lifetime=30):
                for rrset in message.answer:
                    text = rrset.name.to_text()
                    if prefix in text or (rrset.rdtype == dns.rdatatype.PTR
                                          and any(prefix in r.to_text() for r in rrset)):
                        doomed.add(rrset.name)
                        if not text.startswith("_s2p-owner."):
                            doomed.add(dns.name.from_text("_s2p-owner." + text))
            doomed = sorted(doomed)
            for start in range(0, len(doomed), 500):  # a DNS message holds at most 64 KiB
                update = dns.update.UpdateMessage(zone)
                for name in doomed[start:start + 500]:
                    update.delete(name)
                update.use_tsig(self.key)
                response = dns.query.tcp(update, self.server, port=self.port, timeout=10)
                assert response.rcode() == 0, response
            deleted += len(doomed)
        return deleted


def log_env(path: Path) -> dict:
    """Environment for run_playbook that makes ansible-playbook write its log to `path`."""
    return {"ANSIBLE_LOG_PATH": str(path)}


def assert_not_logged(path: Path, *secrets: str) -> None:
    """None of `secrets` in the ANSIBLE_LOG_PATH file of a run (which must have been written)."""
    text = path.read_text()
    assert text.strip(), f"{path} is empty: ANSIBLE_LOG_PATH was not used"
    for secret in secrets:
        assert secret not in text, f"a secret leaked into {path.name}"


@pytest.fixture(name="bind")
def bind_fixture(lab, prefix):
    """The lab BIND reader; afterwards every name holding the test's prefix is deleted. Test
    modules import it (`from dns_helpers import bind_fixture`) and ask for `bind`."""
    server = Bind(lab)
    yield server
    server.cleanup(prefix)
