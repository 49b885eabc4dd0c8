"""The UPDATE prerequisites of dns_record against the lab BIND, without Ansible in between: a
change made by someone else between our read and our write makes the server refuse the whole
message (ConcurrentChange), and nothing of it is applied. The race is made deterministic by
changing the zone after the plan, which two concurrent playbooks can only do by chance."""

from __future__ import annotations

from pathlib import Path

import dns.query
import dns.update
import pytest
from ansible.plugins.loader import init_plugin_loader
from dns_helpers import Bind
import dns_helpers

ROOT = Path(__file__).resolve().parents[2]
init_plugin_loader([str(ROOT / ".build" / "collections")])

from ansible_collections.esa.s2p.plugins.module_utils.dns import plan as dns_plan  # noqa: E402
from ansible_collections.esa.s2p.plugins.module_utils.dns.client import (  # noqa: E402
    ConcurrentChange,
    DNSClient,
)
from ansible_collections.esa.s2p.plugins.module_utils.dns.converge import (  # noqa: E402
    MAX_ATTEMPTS,
    StateReader,
    converge,
)
from ansible_collections.esa.s2p.plugins.module_utils.dns.records import validate_records  # noqa: E402


bind = dns_helpers.bind_fixture  # the fixture `bind`: the lab BIND, names of the prefix deleted after


def _client(bind: Bind) -> DNSClient:
    return DNSClient(bind.server, bind.port, bind.key_name, bind.secret, "hmac-sha256", timeout=5)


def _send(bind: Bind, zone: str, build) -> None:
    """Someone else's update (names given to `build` must end with a dot: else relative to the zone)."""
    update = dns.update.UpdateMessage(zone)
    build(update)
    update.use_tsig(bind.key)
    assert dns.query.tcp(update, bind.server, port=bind.port, timeout=5).rcode() == 0


@pytest.mark.parametrize("race", ["created", "changed", "deleted"])
def test_a_change_after_the_read_refuses_the_whole_update(bind, prefix, race):
    names = [f"p{i}.{prefix}.s2p.esa.int" for i in range(5)]
    if race != "created":
        _send(bind, "s2p.esa.int", lambda u: [u.add(n + ".", 300, "A", "10.250.1.1") for n in names])
    records = [{"name": n, "type": "A", "values": ["10.250.2.2"]} for n in names]
    rrsets = validate_records(records, ["s2p.esa.int"])
    client = _client(bind)
    current = StateReader(client, "query").read(dns_plan.names_to_read(rrsets), ())
    changes = dns_plan.plan(rrsets, current, owner=f"{prefix}/dev")
    messages = [part.message for part in dns_plan.build_updates(changes, current, rrsets)[rrsets[0].zone]]
    # Someone else changes ONE of the five names between our read and our write.
    if race == "created":
        _send(bind, "s2p.esa.int", lambda u: u.add(names[3] + ".", 300, "TXT", "theirs"))
    elif race == "changed":
        _send(bind, "s2p.esa.int", lambda u: u.replace(names[3] + ".", 300, "A", "10.250.3.3"))
    else:
        _send(bind, "s2p.esa.int", lambda u: u.delete(names[3] + "."))
    serial = bind.serial()
    with pytest.raises(ConcurrentChange) as info:
        for message in messages:
            client.update(message, "s2p.esa.int")
    assert "changed on" in str(info.value) and "nothing of this update was applied" in str(info.value)
    assert bind.untouched(serial, prefix)
    expected_others = set() if race == "created" else {"10.250.1.1"}
    for name in names[:3] + names[4:]:
        assert bind.rrset(name, "A") == expected_others, "a part of the refused update was applied"


def _declare(names: list[str], side: int) -> list[dict]:
    return [{"name": n, "type": "A", "values": [f"10.250.{side}.{i + 1}"], "ttl": 300} for i, n in enumerate(names)]


def _apply(bind: Bind, records: list[dict]) -> None:
    _send(bind, "s2p.esa.int", lambda u: [u.replace(r["name"] + ".", 300, "A", r["values"][0]) for r in records])


def _apply_other_run(bind: Bind, names: list[str], side: int) -> None:
    """The other run's whole batch, as one UPDATE (its ownership records left out)."""
    _apply(bind, _declare(names, side))


@pytest.mark.parametrize("read_mode", ["query", "axfr"])
def test_unchanged_rrsets_are_pinned_so_a_late_update_cannot_write_a_mix(bind, prefix, read_mode):
    """Our batch (side 1) sees r00-r17 as ours (no change needed) and r18-r39 as the other
    run's (side 2), and plans to change only r18-r39; the other run's UPDATE of all 40 lands
    before ours. The prerequisites on the unchanged r00-r17 must refuse our message, else the
    zone ends with r00-r17 theirs and r18-r39 ours.
    query: the CI failure, the other UPDATE landing in the middle of our name-by-name read;
    axfr: the zone held that half-and-half state at our transfer, the other run lands after it."""
    names = [f"r{i:02d}.{prefix}.s2p.esa.int" for i in range(40)]
    rrsets = validate_records(_declare(names, 1), ["s2p.esa.int"])
    client = _client(bind)
    if read_mode == "query":
        _apply_other_run(bind, names, 1)
        reader = StateReader(client, "query")
        reader.read(dns_plan.names_to_read(rrsets[:18]), ())
        _apply_other_run(bind, names, 2)
        current = reader.read(dns_plan.names_to_read(rrsets), ())
    else:
        _apply(bind, _declare(names, 1)[:18] + _declare(names, 2)[18:])
        current = StateReader(client, "axfr").read((), [rrsets[0].zone])
        _apply_other_run(bind, names, 2)
    changes = dns_plan.plan(rrsets, current)
    assert sorted(c.name.labels[0].decode() for c in changes) == [f"r{i:02d}" for i in range(18, 40)]
    parts = dns_plan.build_updates(changes, current, rrsets)[rrsets[0].zone]
    serial = bind.serial()
    with pytest.raises(ConcurrentChange):
        for part in parts:
            client.update(part.message, "s2p.esa.int")
    assert bind.untouched(serial, prefix)
    held = {n: bind.rrset(n, "A") for n in names}
    assert held == {r["name"]: set(r["values"]) for r in _declare(names, 2)}, "a mix was written"


class InterferingClient(DNSClient):
    """A real client of the lab BIND that lets the other run's UPDATE land in the middle of our
    read (query mode: after the 20th name; transfer mode: right after the transfer), for the
    first `times` reads: the race of two playbooks, made deterministic."""

    def __init__(self, bind: Bind, names: list[str], times: int):
        super().__init__(bind.server, bind.port, bind.key_name, bind.secret, "hmac-sha256", timeout=5)
        self.bind, self.names, self.times, self.queries, self.reads = bind, names, times, 0, 0

    def _interfere(self) -> None:
        self.reads += 1
        if self.reads <= self.times:
            _apply_other_run(self.bind, self.names, 2 + self.reads % 2)

    def rrsets_at(self, name):
        self.queries += 1
        if self.queries % 80 == 20:  # 40 names and their ownership names per read
            self._interfere()
        return super().rrsets_at(name)

    def transfer(self, zone):
        state = super().transfer(zone)
        self._interfere()
        return state


def _params(names: list[str], read_mode: str, prefix: str) -> dict:
    return {"zones": ["s2p.esa.int", "10.in-addr.arpa"], "records": _declare(names, 1), "ttl": 300,
            "owner": None, "exclusive": False, "read_mode": read_mode}


@pytest.mark.parametrize("read_mode", ["query", "axfr"])
def test_a_refused_update_is_planned_again_from_a_fresh_read(bind, prefix, read_mode):
    names = [f"r{i:02d}.{prefix}.s2p.esa.int" for i in range(40)]
    if read_mode == "query":
        _apply_other_run(bind, names, 1)  # we hold everything: the straddled read plans a partial change
    client = InterferingClient(bind, names, times=1)
    result = converge(client, _params(names, read_mode, prefix), check_mode=False, want_diff=False)
    assert result["attempts"] == 2 and result["changed"]
    assert {n: bind.rrset(n, "A") for n in names} == {r["name"]: set(r["values"]) for r in _declare(names, 1)}


@pytest.mark.parametrize("read_mode", ["query", "axfr"])
def test_endless_concurrent_changes_fail_clearly_after_the_bounded_attempts(bind, prefix, read_mode):
    names = [f"r{i:02d}.{prefix}.s2p.esa.int" for i in range(40)]
    client = InterferingClient(bind, names, times=MAX_ATTEMPTS)
    with pytest.raises(ConcurrentChange) as info:
        converge(client, _params(names, read_mode, prefix), check_mode=False, want_diff=False)
    text = str(info.value)
    assert "concurrent change" in text and "each of %d attempts" % MAX_ATTEMPTS in text, text
    assert "nothing of the refused updates was applied" in text and info.value.as_fail_kwargs()["changed"] is False
    last = 2 + MAX_ATTEMPTS % 2
    assert {n: bind.rrset(n, "A") for n in names} == {r["name"]: set(r["values"]) for r in _declare(names, last)}
