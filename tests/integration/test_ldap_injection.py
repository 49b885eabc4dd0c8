"""LDAP injection: filter and DN metacharacters, NUL, very long and unicode values in account
names, group names, members and attributes. Whatever the payload, the module either refuses the
batch (changed=false, nothing written) or creates exactly the entry named, with the value
stored literally; no other entry of the directory is matched, modified or removed."""

from __future__ import annotations

import pytest
from identity_helpers import BASE, clean_ldap, entries_with_prefix, ldap_admin, play, snapshot, task

# Payloads that are valid values: stored literally (uid suffixes, attribute values, group cns).
STORED = [
    "*", "*)(uid=*", ")(|(uid=*", "*)(objectClass=*))(|(uid=*", "x)(&)", "(|(cn=*))", "\\2a", "\\", "\\\\",
    ",ou=people", "+cn=admin", '"quoted"', "semi;colon", "<angle>", "equals=sign", "#hash", "a,b+c=d;e<f>g",
    "uid=admin,dc=s2p,dc=esa,dc=int", "ünïcödé-名前", "emoji-🛰", "tab\tchar"[:0] + "ключ", "x" * 40,
    "'single'", "back\\slash*star", "percent%20", "(cn=admin)", "!(uid=x)", "&(objectClass=*)",
]
# Payloads the module must refuse (whole batch, nothing written): NUL, control characters, too long.
REFUSED = ["nul\x00byte", "*\x00)(uid=*", "new\nline", "x" * 300, " lead", "trail "]


@pytest.fixture
def directory(lab, prefix):
    conn = ldap_admin(lab)
    yield conn
    conn.unbind()
    clean_ldap(lab, prefix)


def test_at_least_thirty_payloads():
    assert len(STORED) + len(REFUSED) >= 30


def test_stored_payloads_touch_nothing_else(run_playbook, prefix, directory):
    sentinel = {"uid": f"{prefix}sentinel", "attributes": {"description": "untouched"}}
    assert run_playbook(play(task("ldap_account", {"accounts": [sentinel]}))).rc == 0
    before = snapshot(directory, own_prefix=prefix)
    accounts = [{"uid": f"{prefix}{payload}", "attributes": {"description": payload, "cn": payload}}
                for payload in STORED]
    groups = [{"cn": f"{prefix}g{payload}"[:64], "members": [], "description": payload} for payload in STORED]
    run = run_playbook(play(task("ldap_account", {"accounts": accounts}, name="accounts"),
                            task("ldap_group", {"groups": groups}, name="groups")))
    assert run.rc == 0, run.stdout
    assert [a["action"] for a in run.result("accounts")["accounts"]] == ["create"] * len(STORED)
    after = snapshot(directory, own_prefix=prefix)
    # every entry that existed before is unchanged, and exactly one new entry per payload exists
    for dn, attributes in before.items():
        assert after.get(dn) == attributes, f"{dn} was modified or removed"
    new = {dn: attrs for dn, attrs in after.items() if dn not in before}
    assert len(new) == 2 * len(STORED)
    stored_uids = sorted(attrs["uid"][0] for attrs in new.values() if "uid" in attrs)
    assert stored_uids == sorted(f"{prefix}{p}" for p in STORED)
    for attrs in new.values():
        if "uid" in attrs:
            assert attrs["description"] == [attrs["uid"][0][len(prefix):]]
    # the re-run finds each entry by its exact name (no payload matches another entry)
    again = run_playbook(play(task("ldap_account", {"accounts": accounts}, name="accounts"),
                              task("ldap_group", {"groups": groups}, name="groups")))
    assert again.rc == 0 and again.changed == 0, again.stdout
    # removal of the payload accounts removes exactly them
    gone = [{"uid": a["uid"], "state": "absent"} for a in accounts]
    run = run_playbook(play(task("ldap_account", {"accounts": gone}, name="accounts"),
                            task("ldap_group", {"groups": [dict(g, state="absent") for g in groups]}, name="groups")))
    assert run.rc == 0
    assert snapshot(directory, own_prefix=prefix) == before
    assert entries_with_prefix(directory, prefix) == [f"uid={prefix}sentinel,ou=services,{BASE}"]


@pytest.mark.parametrize("where", ["uid", "person", "attribute", "group", "member"])
def test_refused_payloads_write_nothing(run_playbook, prefix, directory, where):
    before = snapshot(directory, own_prefix=prefix)
    if where in ("uid", "person", "attribute"):
        accounts = [{"uid": f"{prefix}ok"}] + [
            {"uid": f"{prefix}{p}" if where == "uid" else p if where == "person" else f"{prefix}a{i}",
             "kind": "person" if where == "person" else "service",
             "attributes": {"description": p} if where == "attribute" else {}}
            for i, p in enumerate(REFUSED + (["*", "*)(uid=*", "a,b"] if where == "person" else []))]
        step = task("ldap_account", {"accounts": accounts})
    else:
        groups = [{"cn": f"{prefix}ok"}] + [
            {"cn": f"{prefix}{p}"} if where == "group" else {"cn": f"{prefix}m{i}", "members": [p]}
            for i, p in enumerate(REFUSED + (["*", f"uid=*,ou=people,{BASE}\x00"] if where == "member" else []))]
        step = task("ldap_group", {"groups": groups})
    run = run_playbook(play(step))
    result = run.result("t")
    assert run.rc != 0 and result["changed"] is False
    assert "nothing was changed" in result["msg"]
    assert snapshot(directory, own_prefix=prefix) == before
