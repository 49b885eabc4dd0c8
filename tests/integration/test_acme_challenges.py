"""The DNS-01 challenge records of an ACME order, against the lab Pebble and BIND without Ansible
in between: all the TXT records of an order go into the zone in ONE update and leave it in ONE
update, also when the order fails (the updates are counted at the DNS client)."""

from __future__ import annotations

from pathlib import Path

import dns.rdataclass
import dns.update
import josepy
import pytest
from ansible.plugins.loader import init_plugin_loader
from cryptography.hazmat.primitives.asymmetric import ec
from dns_helpers import Bind
import dns_helpers

ROOT = Path(__file__).resolve().parents[2]
init_plugin_loader([str(ROOT / ".build" / "collections")])

from ansible_collections.esa.s2p.plugins.module_utils.workflows import certificate_logic as logic  # noqa: E402
from ansible_collections.esa.s2p.plugins.module_utils.acme.client import ACMEClient, ACMEError  # noqa: E402
from ansible_collections.esa.s2p.plugins.module_utils.acme.issue import ensure_account, issue  # noqa: E402
from ansible_collections.esa.s2p.plugins.module_utils.dns.challenges import DNSChallenges  # noqa: E402
from ansible_collections.esa.s2p.plugins.module_utils.dns.client import DNSClient  # noqa: E402


bind = dns_helpers.bind_fixture  # the fixture `bind`: the lab BIND, names of the prefix deleted after


class CountingDNSClient(DNSClient):
    """The real client of the lab BIND, recording each UPDATE: (adds, deletes) per message.
    With drop_adds, the update that adds the challenge records is not sent (the order then fails)."""

    def __init__(self, bind: Bind, drop_adds: bool = False):
        super().__init__(bind.server, bind.port, bind.key_name, bind.secret, "hmac-sha256", timeout=10)
        self.sent: list[tuple[int, int]] = []
        self.drop_adds = drop_adds

    def update(self, message: dns.update.UpdateMessage, zone: str):
        deletes = sum(len(r) for r in message.update if r.deleting == dns.rdataclass.NONE)
        adds = sum(len(r) for r in message.update if r.deleting is None)
        self.sent.append((adds, deletes))
        if adds and self.drop_adds:
            return None
        return super().update(message, zone)


def _acme(lab) -> tuple[ACMEClient, josepy.JWKEC]:
    key = josepy.JWKEC(key=ec.generate_private_key(ec.SECP256R1()))
    client = ACMEClient(lab["pebble"]["directory_url"], ca_path=lab["ca_file"], account_key=key)
    ensure_account(client)
    return client, key


def _csr(names: list[str]) -> bytes:
    return logic.csr_pem(logic.new_key("ec", 256), names)


def test_challenges_of_an_order_go_in_and_out_in_one_update_each(lab, bind, prefix):
    names = [f"{host}.{prefix}.s2p.esa.int" for host in ("a", "b", "c")]
    client, key = _acme(lab)
    dns_client = CountingDNSClient(bind)
    fullchain = issue(client, DNSChallenges(dns_client, ["s2p.esa.int"]), key, _csr(names), names)
    assert "BEGIN CERTIFICATE" in fullchain
    assert dns_client.sent == [(3, 0), (0, 3)], dns_client.sent
    for name in names:
        assert bind.rrset(f"_acme-challenge.{name}", "TXT") == set()


def test_challenges_are_removed_in_one_update_when_the_order_fails(lab, bind, prefix):
    names = [f"{host}.{prefix}.s2p.esa.int" for host in ("d", "e")]
    client, key = _acme(lab)
    dns_client = CountingDNSClient(bind, drop_adds=True)  # Pebble finds no TXT record: validation fails
    with pytest.raises(ACMEError):
        issue(client, DNSChallenges(dns_client, ["s2p.esa.int"]), key, _csr(names), names)
    assert dns_client.sent == [(2, 0), (0, 2)], dns_client.sent


def test_challenge_values_left_by_a_killed_order_are_replaced(lab, bind, prefix):
    """A run killed between adding the challenge TXT and its clean-up leaves the values in the zone;
    the next order of the name replaces them, so nothing stays behind once it is done."""
    name = f"f.{prefix}.s2p.esa.int"
    stale = dns.update.UpdateMessage("s2p.esa.int")
    stale.add(f"_acme-challenge.{name}.", 60, "TXT", '"left-by-a-killed-run"')
    DNSClient(bind.server, bind.port, bind.key_name, bind.secret, "hmac-sha256", timeout=10).update(
        stale, "s2p.esa.int")
    assert bind.rrset(f"_acme-challenge.{name}", "TXT") == {"left-by-a-killed-run"}
    client, key = _acme(lab)
    publisher = DNSChallenges(CountingDNSClient(bind), ["s2p.esa.int"])
    assert "BEGIN CERTIFICATE" in issue(client, publisher, key, _csr([name]), [name])
    assert bind.rrset(f"_acme-challenge.{name}", "TXT") == set()
