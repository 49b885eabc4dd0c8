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

ROOT = Path(__file__).resolve().parents[2]
init_plugin_loader([str(ROOT / ".build" / "collections")])

from ansible_collections.esa.s2p.plugins.module_utils import _dns_plan as dns_plan  # noqa: E402
from ansible_collections.esa.s2p.plugins.module_utils._dns_client import (  # noqa: E402
    ConcurrentChange,
    DNSClient,
)
from ansible_collections.esa.s2p.plugins.module_utils._dns_converge import StateReader  # noqa: E402
from ansible_collections.esa.s2p.plugins.module_utils._dns_records import validate_records  # noqa: E402


@pytest.fixture
def bind(lab, prefix):
    server = Bind(lab)
    yield server
    server.cleanup(prefix)


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
    messages = dns_plan.build_updates(changes, current)[rrsets[0].zone]
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
    assert bind.serial() == serial
    expected_others = set() if race == "created" else {"10.250.1.1"}
    for name in names[:3] + names[4:]:
        assert bind.rrset(name, "A") == expected_others, "a part of the refused update was applied"
