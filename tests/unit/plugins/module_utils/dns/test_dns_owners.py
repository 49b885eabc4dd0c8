"""Several owners in one dns_record batch (records[].owner): validation and planning are the
same as one batch per owner, against one read (pure logic, no server)."""

from __future__ import annotations

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.dns import plan
from ansible_collections.esa.s2p.plugins.module_utils.dns.converge import plan_by_owner
from ansible_collections.esa.s2p.plugins.module_utils.dns.records import validate_records
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError

ZONES = ["s2p.esa.int", "10.in-addr.arpa"]
A = {"name": "web.proja.s2p.esa.int", "type": "A", "values": ["10.1.0.5"], "ptr": True, "owner": "proja/dev"}
B = {"name": "web.projb.s2p.esa.int", "type": "A", "values": ["10.2.0.5"], "ptr": True, "owner": "projb/ope"}


def zones():
    return [r.zone for r in validate_records([{"name": "s2p.esa.int", "type": "TXT", "values": ["x"]},
                                              {"name": "1.10.in-addr.arpa", "type": "TXT", "values": ["x"]}],
                                             ZONES)]


def owned(name, owner, types):
    rrset = validate_records([{"name": name, "type": "TXT", "values": ["x"]}], ZONES)[0]
    return plan.owner_name(rrset.name), {"TXT": (3600, frozenset([plan.ownership_rdata(owner, set(types))]))}


def keys(changes):
    return {(c.name.to_text(omit_final_dot=True), c.rdtype, c.action) for c in changes}


def owner_of(changes, name):
    (change,) = [c for c in changes if c.ownership and c.name.to_text(omit_final_dot=True) == "_s2p-owner." + name]
    return plan.parse_ownership({"TXT": change.after})[0]


def test_each_item_and_its_ptr_carry_the_items_owner():
    rrsets = validate_records([A, B], ZONES, owner="default/ire")
    assert {(r.name.to_text(), r.owner) for r in rrsets} == {
        ("web.proja.s2p.esa.int.", "proja/dev"), ("5.0.1.10.in-addr.arpa.", "proja/dev"),
        ("web.projb.s2p.esa.int.", "projb/ope"), ("5.0.2.10.in-addr.arpa.", "projb/ope")}
    plain = validate_records([dict(A, owner=None)], ZONES, owner="default/ire")
    assert {r.owner for r in plain} == {"default/ire"}


def test_one_batch_plans_what_one_batch_per_owner_plans():
    rrsets = validate_records([A, B], ZONES)
    together = plan_by_owner(rrsets, {}, False, zones())
    apart = []
    for item in (A, B):
        apart += plan.plan(validate_records([item], ZONES), {}, owner=item["owner"], zones=zones())
    assert keys(together) == keys(apart) and len(together) == 8  # A, PTR and their ownership records, twice
    assert owner_of(together, "web.proja.s2p.esa.int") == "proja/dev"
    assert owner_of(together, "5.0.2.10.in-addr.arpa") == "projb/ope"


def test_a_name_held_by_another_owner_is_refused_for_that_item_only_and_all_problems_together():
    current = dict([owned("web.projb.s2p.esa.int", "projc/ire", {"A"}),
                    owned("web.proja.s2p.esa.int", "projd/ire", {"A"})])
    with pytest.raises(ValidationError) as info:
        plan_by_owner(validate_records([A, B], ZONES), current, False, zones())
    assert sorted(info.value.errors) == [
        "web.proja.s2p.esa.int is owned by projd/ire: only that owner may change it",
        "web.projb.s2p.esa.int is owned by projc/ire: only that owner may change it"]


def old_records_of_two_owners():
    """The zones' state: old.proja (owned by proja/dev) and old.projc (projc/dev), A records."""
    old_a = validate_records([{"name": "old.proja.s2p.esa.int", "type": "A", "values": ["10.1.0.9"]}], ZONES)[0]
    old_c = validate_records([{"name": "old.projc.s2p.esa.int", "type": "A", "values": ["10.3.0.9"]}], ZONES)[0]
    current = {old_a.name: {"A": (3600, old_a.rdatas)}, old_c.name: {"A": (3600, old_c.rdatas)}}
    current.update([owned("old.proja.s2p.esa.int", "proja/dev", {"A"}),
                    owned("old.projc.s2p.esa.int", "projc/dev", {"A"})])
    return current


def test_exclusive_deletes_each_owners_undeclared_records_only():
    current = old_records_of_two_owners()
    changes = plan_by_owner(validate_records([A, B], ZONES), current, True, zones())
    deleted = {k for k in keys(changes) if k[2] == "delete"}
    assert deleted == {("old.proja.s2p.esa.int", "A", "delete"), ("_s2p-owner.old.proja.s2p.esa.int", "TXT", "delete")}


def test_exclusive_without_records_removes_everything_the_tasks_owner_manages():
    """The teardown of a unit (project_environment state absent): records [] with owner and exclusive."""
    current = old_records_of_two_owners()
    changes = plan_by_owner([], current, True, zones(), owner="proja/dev")
    assert keys(changes) == {("old.proja.s2p.esa.int", "A", "delete"),
                             ("_s2p-owner.old.proja.s2p.esa.int", "TXT", "delete")}
    assert plan_by_owner([], current, True, zones()) == []


@pytest.mark.parametrize("records, expected", [
    ([A, dict(A, type="TXT", values=["t"], ptr=False, owner="projb/ope")],
     "records[0,1] (web.proja.s2p.esa.int): one name has one owner, got proja/dev, projb/ope"),
    ([A, dict(B, values=["10.1.0.5"])],
     "records[1] (web.projb.s2p.esa.int A): ptr: 5.0.1.10.in-addr.arpa is shared with records[0] of another owner"),
    ([dict(A, owner="proja")], "records[0] (web.proja.s2p.esa.int A): owner: must be <project>/<environment>"),
    ([dict(A, owner="Proj A/dev")], "records[0] (web.proja.s2p.esa.int A): owner: "),
])
def test_owner_problems_are_named_with_the_item(records, expected):
    with pytest.raises(ValidationError) as info:
        validate_records(records, ZONES)
    assert any(e.startswith(expected) for e in info.value.errors), info.value.errors


def moved_address_state():
    """web.proja (proja/dev) holds 10.1.0.5 and its PTR."""
    a_rec = validate_records([{"name": "web.proja.s2p.esa.int", "type": "A", "values": ["10.1.0.5"], "ptr": True}],
                             ZONES)
    current = {}
    for rrset in a_rec:
        current[rrset.name] = {rrset.rdtype: (3600, rrset.rdatas)}
        current.update([owned(rrset.name.to_text(omit_final_dot=True), "proja/dev", {rrset.rdtype})])
    return current


def test_an_address_given_up_by_one_owner_is_taken_by_another_in_the_same_batch():
    """proja drops web.proja (exclusive) and projb takes its address: one change per RRset, from
    what was read to what projb wants, and the PTR's ownership passes from proja to projb."""
    keep = {"name": "db.proja.s2p.esa.int", "type": "A", "values": ["10.1.0.6"], "owner": "proja/dev"}
    takes = dict(B, values=["10.1.0.5"])
    current = moved_address_state()
    changes = plan_by_owner(validate_records([keep, takes], ZONES), current, True, zones())
    by_key = {(c.name.to_text(omit_final_dot=True), c.rdtype): c for c in changes}
    assert len(by_key) == len(changes)  # one change per RRset
    ptr = by_key[("5.0.1.10.in-addr.arpa", "PTR")]
    assert ptr.before == current[ptr.name]["PTR"]  # pinned to what was read
    assert [r.to_text() for r in ptr.after[1]] == ["web.projb.s2p.esa.int."]
    assert owner_of(changes, "5.0.1.10.in-addr.arpa") == "projb/ope"
    assert ("web.proja.s2p.esa.int", "A", "delete") in keys(changes)
    assert ("_s2p-owner.web.proja.s2p.esa.int", "TXT", "delete") in keys(changes)


def test_an_address_still_held_by_its_owner_is_refused():
    """proja keeps web.proja (no exclusive, nothing given up): projb may not take its PTR."""
    current = moved_address_state()
    with pytest.raises(ValidationError) as info:
        plan_by_owner(validate_records([dict(B, values=["10.1.0.5"])], ZONES), current, True, zones(),
                      owner="projc/dev")
    assert info.value.errors == ["5.0.1.10.in-addr.arpa is owned by proja/dev: only that owner may change it"]
