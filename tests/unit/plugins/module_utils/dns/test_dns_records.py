"""Whole-batch validation of dns_record input and the planning of changes (pure logic, no server)."""

from __future__ import annotations

import dns_bad_inputs
import pytest

from ansible_collections.esa.s2p.plugins.module_utils.dns import plan
from ansible_collections.esa.s2p.plugins.module_utils.dns.records import txt_strings, validate_records
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError

ZONES = ["s2p.esa.int", "10.in-addr.arpa"]
GOOD = {"name": "web.neocc.s2p.esa.int", "type": "A", "values": ["10.11.0.5"]}

BAD = dns_bad_inputs.BAD


def errors_of(records, zones=tuple(ZONES)):
    with pytest.raises(ValidationError) as info:
        validate_records(records, zones, owner_label="_s2p-owner")
    return info.value.errors


def test_at_least_25_distinct_bad_inputs():
    assert len(BAD) >= 25


@pytest.mark.parametrize("item, expected", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_is_refused_naming_item_and_field(item, expected):
    errors = errors_of([GOOD, item])
    assert len(errors) >= 1
    assert all(e.startswith("records[1]") for e in errors), errors
    assert any(expected in e for e in errors), errors


def test_whole_batch_reports_every_bad_item_at_once():
    errors = errors_of([GOOD] + [item for item, _expected in BAD])
    indexes = set(e.split("]")[0] for e in errors)
    assert len(indexes) == len(BAD)


def test_cname_next_to_other_data_in_the_batch():
    errors = errors_of([{"name": "x.s2p.esa.int", "type": "CNAME", "values": ["y.s2p.esa.int"]},
                        {"name": "x.s2p.esa.int", "type": "TXT", "values": ["hello"]}])
    assert any("CNAME cannot coexist" in e for e in errors), errors


def test_same_rrset_twice():
    errors = errors_of([GOOD, dict(GOOD, values=["10.0.0.9"])])
    assert "declared twice" in errors[0]


def test_zone_guard_takes_the_longest_zone():
    rrsets = validate_records([{"name": "5.0.11.10.in-addr.arpa", "type": "PTR", "values": ["a.s2p.esa.int"]}],
                              ZONES + ["11.10.in-addr.arpa"])
    assert rrsets[0].zone.to_text() == "11.10.in-addr.arpa."


def test_txt_split_into_255_byte_strings():
    value = "x" * 600
    assert [len(s) for s in txt_strings(value)] == [255, 255, 90]
    (rrset,) = validate_records([{"name": "t.s2p.esa.int", "type": "TXT", "values": [value]}], ZONES)
    (rdata,) = rrset.rdatas
    assert b"".join(rdata.strings).decode() == value and len(rdata.strings) == 3


def test_automatic_ptr_shared_by_names_on_one_address():
    rrsets = validate_records([
        {"name": "a.s2p.esa.int", "type": "A", "values": ["10.0.0.7", "10.0.0.8"], "ptr": True, "ttl": 60},
        {"name": "b.s2p.esa.int", "type": "A", "values": ["10.0.0.7"], "ptr": True},
    ], ZONES)
    ptrs = {r.name.to_text(): r for r in rrsets if r.rdtype == "PTR"}
    assert set(ptrs) == {"7.0.0.10.in-addr.arpa.", "8.0.0.10.in-addr.arpa."}
    assert sorted(r.to_text() for r in ptrs["7.0.0.10.in-addr.arpa."].rdatas) == ["a.s2p.esa.int.", "b.s2p.esa.int."]
    assert ptrs["7.0.0.10.in-addr.arpa."].ttl == 60


def _state(rrsets):
    return {r.name: {r.rdtype: (r.ttl, r.rdatas)} for r in rrsets}


def test_plan_is_empty_when_the_server_holds_the_batch():
    rrsets = validate_records([{"name": "X.S2P.esa.int", "type": "AAAA", "values": ["FD00:0::1"]}], ZONES)
    same = validate_records([{"name": "x.s2p.esa.int", "type": "AAAA", "values": ["fd00::1"]}], ZONES)
    assert plan.plan(rrsets, _state(same)) == []


def test_plan_refuses_names_of_another_owner_and_keeps_them_in_exclusive():
    zones = [r.zone for r in validate_records([GOOD], ZONES)]
    other = validate_records([{"name": "b.s2p.esa.int", "type": "A", "values": ["10.0.0.2"]}], ZONES)
    current = _state(other)
    current[plan.owner_name(other[0].name)] = {"TXT": (3600, frozenset([plan.ownership_rdata("projb/dev", {"A"})]))}
    mine = validate_records([GOOD], ZONES)
    changes = plan.plan(mine, current, owner="proja/dev", exclusive=True, zones=zones)
    assert {(c.name.to_text(), c.rdtype) for c in changes} == {
        ("web.neocc.s2p.esa.int.", "A"), ("_s2p-owner.web.neocc.s2p.esa.int.", "TXT")}
    taken = validate_records([{"name": "b.s2p.esa.int", "type": "A", "values": ["10.0.0.3"]}], ZONES)
    with pytest.raises(ValidationError) as info:
        plan.plan(taken, current, owner="proja/dev")
    assert "owned by projb/dev" in info.value.errors[0]


def test_exclusive_deletes_only_undeclared_rrsets_of_the_same_owner():
    old = validate_records([{"name": "old.s2p.esa.int", "type": "A", "values": ["10.0.0.2"]}], ZONES)
    current = _state(old)
    current[plan.owner_name(old[0].name)] = {"TXT": (3600, frozenset([plan.ownership_rdata("proja/dev", {"A"})]))}
    changes = plan.plan(validate_records([GOOD], ZONES), current, owner="proja/dev", exclusive=True,
                        zones=[old[0].zone])
    deleted = {(c.name.to_text(), c.rdtype) for c in changes if c.after is None}
    assert deleted == {("old.s2p.esa.int.", "A"), ("_s2p-owner.old.s2p.esa.int.", "TXT")}


def test_cname_over_existing_data_is_refused_before_sending():
    current = _state(validate_records([{"name": "x.s2p.esa.int", "type": "TXT", "values": ["t"]}], ZONES))
    cname = validate_records([{"name": "x.s2p.esa.int", "type": "CNAME", "values": ["y.s2p.esa.int"]}], ZONES)
    with pytest.raises(ValidationError) as info:
        plan.plan(cname, current)
    assert "CNAME next to other data" in info.value.errors[0]


def test_big_batches_split_into_messages_under_64k():
    rrsets = validate_records([{"name": "n%04d.s2p.esa.int" % i, "type": "TXT", "values": ["v" * 200]}
                               for i in range(600)], ZONES)
    changes = plan.plan(rrsets, {}, owner="proja/dev")
    updates = plan.build_updates(changes, {})
    messages = [part.message for part in updates[rrsets[0].zone]]
    assert len(messages) > 1
    assert all(len(m.to_wire()) <= plan.MAX_UPDATE_WIRE for m in messages)
    # replace = delete + add of the same RRset: every change lands in exactly one message
    assert len({(r.name, r.rdtype) for m in messages for r in m.update}) == len(changes)


def _prerequisites(message):
    """{(name text, type text or ANY): 'present'|'absent'} of an UPDATE's prerequisite section."""
    import dns.rdataclass
    import dns.rdatatype

    found = {}
    for rrset in message.prerequisite:
        key = (rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype))
        found[key] = "absent" if rrset.rdclass == dns.rdataclass.NONE else "present"
    return found


def test_every_declared_rrset_is_pinned_as_read_changed_or_not():
    rrsets = validate_records([
        {"name": "same.s2p.esa.int", "type": "A", "values": ["10.0.0.1"]},
        {"name": "same.s2p.esa.int", "type": "TXT", "values": ["t"]},
        {"name": "new.s2p.esa.int", "type": "A", "values": ["10.0.0.2"]},
        {"name": "gone.s2p.esa.int", "type": "A", "state": "absent"},
    ], ZONES)
    current = _state(rrsets[:1])  # same A held as declared; its TXT, new and gone hold nothing
    changes = plan.plan(rrsets, current)
    assert {c.name.to_text() for c in changes} == {"same.s2p.esa.int.", "new.s2p.esa.int."}
    (part,) = plan.build_updates(changes, current, rrsets)[rrsets[0].zone]
    assert _prerequisites(part.message) == {
        ("same.s2p.esa.int.", "A"): "present",           # unchanged: pinned to its value
        ("same.s2p.esa.int.", "TXT"): "absent",          # RRset does not exist
        ("_s2p-owner.same.s2p.esa.int.", "ANY"): "absent",  # name not in use
        ("new.s2p.esa.int.", "ANY"): "absent",
        ("_s2p-owner.new.s2p.esa.int.", "ANY"): "absent",
        ("gone.s2p.esa.int.", "ANY"): "absent",          # absent and unchanged: still pinned
        ("_s2p-owner.gone.s2p.esa.int.", "ANY"): "absent",
    }
    assert sorted(c.name.to_text() for c in part.changes) == ["new.s2p.esa.int.", "same.s2p.esa.int."]


def test_no_message_for_a_zone_without_changes():
    rrsets = validate_records([GOOD], ZONES)
    assert plan.build_updates(plan.plan(rrsets, _state(rrsets)), _state(rrsets), rrsets) == {}


def test_split_parts_pin_the_names_they_cover():
    records = [{"name": "n%04d.s2p.esa.int" % i, "type": "TXT", "values": ["v" * 200]} for i in range(600)]
    rrsets = validate_records(records, ZONES)
    current = _state(rrsets)
    changed = validate_records([dict(records[0], values=["w"]), dict(records[599], values=["w"])], ZONES)
    rrsets[0], rrsets[599] = changed
    changes = plan.plan(rrsets, current)
    assert len(changes) == 2
    parts = plan.build_updates(changes, current, rrsets)[rrsets[0].zone]
    assert len(parts) > 1 and sum(len(part.changes) for part in parts) == 2
    assert all(len(part.message.to_wire()) <= plan.MAX_UPDATE_WIRE for part in parts)
    pinned = [key for part in parts for key in _prerequisites(part.message) if key[1] == "TXT"]
    assert sorted(pinned) == sorted((r.name.to_text(), "TXT") for r in rrsets), "each name pinned once"
    for part in parts:
        names = {key[0] for key in _prerequisites(part.message)}
        assert {c.name.to_text() for c in part.changes} <= names, "a part pins what it changes"
    # A part of prerequisites alone is sent only when it fits with no neighbour.
    for one, two in zip(parts, parts[1:], strict=False):
        if not (one.changes and two.changes):
            assert len(one.message.to_wire()) + len(two.message.to_wire()) > plan.MAX_UPDATE_WIRE
