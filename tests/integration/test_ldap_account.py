"""esa.s2p.ldap_account and esa.s2p.ldap_group against the lab's slapd: 50 accounts across 3
projects through create, idempotent re-run, check mode, diff and removal; TLS checked before bind.
Every check-mode run is followed by a real run that must report exactly the same."""

from __future__ import annotations

import socket

import ldap3
import pytest
from identity_helpers import (BASE, can_bind, clean_ldap, entries_with_prefix, ldap_admin, play, slapd_saw_bind,
                              task)

ENVS = ["dev", "ire", "preope", "ope"]


@pytest.fixture
def directory(lab, prefix):
    conn = ldap_admin(lab)
    yield conn
    conn.unbind()
    clean_ldap(lab, prefix)


def batch(prefix: str) -> tuple[list, list]:
    """50 accounts: 4 service accounts and 13 (or 12) people in each of 3 projects; 3 groups."""
    projects = [f"{prefix}p{i}" for i in range(3)]
    accounts = [{"uid": f"{p}-{env}", "attributes": {"description": f"{p} {env} service account"}}
                for p in projects for env in ENVS]
    for index in range(50 - len(accounts)):
        project = projects[index % 3]
        accounts.append({"uid": f"{prefix}u{index:02d}", "kind": "person", "groups": [f"{project}-developers"],
                         "attributes": {"cn": f"User {index}", "sn": f"U{index}", "mail": f"u{index}@esa.int"}})
    groups = [{"cn": f"{p}-developers", "description": f"developers of {p}"} for p in projects]
    return accounts, groups


def actions(run, task_name="t", key="accounts"):
    return [a["action"] for a in run.result(task_name)[key]]


def test_fifty_accounts_lifecycle(run_playbook, lab, prefix, directory):
    accounts, groups = batch(prefix)
    accounts[0]["password"] = "Initial-pass-" + prefix + "-0123456789"
    run = run_playbook(play(task("ldap_group", {"groups": groups})))
    assert run.rc == 0 and run.changed == 1, run.stdout

    # create: check mode predicts, writes nothing; the real run does exactly that
    step = play(task("ldap_account", {"accounts": accounts}))
    check = run_playbook(step, check=True)
    assert check.rc == 0 and check.changed == 1, check.stdout
    assert actions(check) == ["create"] * 50
    assert len(entries_with_prefix(directory, prefix)) == 3  # only the groups
    real = run_playbook(step)
    assert real.rc == 0 and real.changed == 1, real.stdout
    assert actions(real) == actions(check)
    assert real.result("t")["groups_changed"] == check.result("t")["groups_changed"]
    assert len(entries_with_prefix(directory, prefix)) == 53
    directory.search(f"cn={prefix}p1-developers,ou=groups,{BASE}", "(objectClass=*)", attributes=["member"])
    members = directory.response[0]["attributes"]["member"]
    assert len(members) == 13 and all(m.startswith(f"uid={prefix}u") for m in members)  # u01, u04 ... u37
    assert can_bind(lab, f"uid={prefix}p0-dev,ou=services,{BASE}", accounts[0]["password"])

    # idempotent: check and real re-run both change nothing
    for again in (run_playbook(step, check=True), run_playbook(step)):
        assert again.rc == 0 and again.changed == 0, again.stdout
        assert set(actions(again)) == {"none"}

    # change 5 descriptions and lock 2 accounts: diff shows attributes, never passwords
    for account in accounts[:5]:
        account["attributes"]["description"] = "changed"
    accounts[5]["state"] = accounts[6]["state"] = "locked"
    step = play(task("ldap_account", {"accounts": accounts}))
    check = run_playbook(step, check=True, diff=True)
    real = run_playbook(step, diff=True)
    for run in (check, real):
        assert run.rc == 0 and run.changed == 1, run.stdout
        assert actions(run) == ["update"] * 7 + ["none"] * 43
        diff = run.result("t")["diff"]
        dn0 = f"uid={prefix}p0-dev,ou=services,{BASE}"
        assert diff["before"][dn0]["description"] == [f"{prefix}p0 dev service account"]
        assert diff["after"][dn0]["description"] == ["changed"]
        assert "userPassword" not in str(diff) and accounts[0]["password"] not in run.stdout
        assert "changed" in run.stdout  # the diff is printed
    directory.search(f"ou=services,{BASE}", f"(&(uid={prefix}p1-*)(pwdAccountLockedTime=*))",
                     search_scope=ldap3.LEVEL, attributes=["uid"])
    assert sorted(e["attributes"]["uid"][0] for e in directory.response if e["type"] == "searchResEntry") == [
        f"{prefix}p1-ire", f"{prefix}p1-preope"]
    assert run_playbook(step).changed == 0

    # removal: every account, memberships too; groups then removed
    gone = [{"uid": a["uid"], "kind": a.get("kind", "service"), "state": "absent"} for a in accounts]
    step = play(task("ldap_account", {"accounts": gone}))
    check = run_playbook(step, check=True)
    assert actions(check) == ["delete"] * 50 and len(entries_with_prefix(directory, prefix)) == 53
    real = run_playbook(step)
    assert real.rc == 0 and actions(real) == actions(check)
    assert sorted(real.result("t")["groups_changed"]) == sorted(check.result("t")["groups_changed"])
    assert len(entries_with_prefix(directory, prefix)) == 3
    directory.search(f"cn={prefix}p1-developers,ou=groups,{BASE}", "(objectClass=*)", attributes=["member"])
    assert directory.response[0]["attributes"]["member"] == [f"cn={prefix}p1-developers,ou=groups,{BASE}"]
    assert run_playbook(step).changed == 0
    run = run_playbook(play(task("ldap_group", {"groups": [dict(g, state="absent") for g in groups]})))
    assert run.changed == 1 and entries_with_prefix(directory, prefix) == []


@pytest.mark.smoke
def test_group_members_exclusive(run_playbook, prefix, directory):
    people = [{"uid": f"{prefix}m{i}", "kind": "person"} for i in range(3)]
    assert run_playbook(play(task("ldap_account", {"accounts": people}))).rc == 0
    group = {"cn": f"{prefix}x-ops", "members": [f"{prefix}m0", f"{prefix}m1"]}
    step = play(task("ldap_group", {"groups": [group]}))
    assert actions(run_playbook(step), key="groups") == ["create"]
    adding = play(task("ldap_group", {"groups": [dict(group, members=[f"{prefix}m2"])]}))
    assert actions(run_playbook(adding, check=True), key="groups") == ["update"]
    assert actions(run_playbook(adding), key="groups") == ["update"]
    exclusive = play(task("ldap_group", {"groups": [dict(group, members=[f"{prefix}m2"], exclusive=True)]}))
    run = run_playbook(exclusive, diff=True)
    assert run.result("t")["diff"]["after"][f"cn={prefix}x-ops,ou=groups,{BASE}"]["member"] == [
        f"uid={prefix}m2,ou=people,{BASE}"]
    assert run_playbook(exclusive).changed == 0


def test_whole_batch_validated_before_any_write(run_playbook, prefix, directory):
    accounts = [{"uid": f"{prefix}ok-ope"}, {"uid": "Not A Person", "kind": "person"},
                {"uid": f"{prefix}x", "attributes": {"userPassword": "x"}}, {"uid": f"{prefix}y", "groups": ["nope"]}]
    run = run_playbook(play(task("ldap_account", {"accounts": accounts})))
    result = run.result("t")
    assert run.rc != 0 and result["changed"] is False
    assert "2 problem(s) in the input, nothing was changed" in result["msg"]
    assert "accounts[1] (Not A Person).uid" in result["msg"]
    assert f"accounts[2] ({prefix}x).attributes.userPassword" in result["msg"]
    assert entries_with_prefix(directory, prefix) == []
    # a group that does not exist is found after reading, still before any write
    run = run_playbook(play(task("ldap_account", {"accounts": [accounts[0], accounts[3]]})))
    assert run.rc != 0 and run.result("t")["changed"] is False
    assert f"group cn=nope,ou=groups,{BASE} does not exist" in run.result("t")["msg"]
    assert entries_with_prefix(directory, prefix) == []


def test_refused_transaction_falls_back_to_per_entry_writes(run_playbook, prefix, directory):
    """Batches of creates go to slapd in one LDAP transaction. One entry the server refuses (an
    attribute type its schema does not know) makes it refuse the transaction, which writes nothing;
    the batch is then written entry by entry: the others are created and the error names the bad one."""
    good = [{"uid": f"{prefix}t{i:02d}-ope"} for i in range(9)]
    bad = {"uid": f"{prefix}bad-ope", "attributes": {"s2pNoSuchAttribute": "x"}}
    run = run_playbook(play(task("ldap_account", {"accounts": good[:5] + [bad] + good[5:]})))
    result = run.result("t")
    assert run.rc != 0 and result["changed"] is True, run.stdout[-3000:]
    assert f"uid={prefix}bad-ope,ou=services,{BASE}" in result["msg"]
    assert "changed before the failure" in result["msg"] and f"created uid={prefix}t00-ope" in result["msg"]
    assert sorted(entries_with_prefix(directory, prefix)) == sorted(
        f"uid={a['uid']},ou=services,{BASE}" for a in good)
    again = run_playbook(play(task("ldap_account", {"accounts": good})))
    assert again.rc == 0 and again.changed == 0


def probe(prefix: str) -> dict:
    """A bind DN nobody else uses, to look for in slapd's log."""
    return {"bind_dn": f"cn={prefix}probe,{BASE}", "bind_pw": "probe-" + prefix}


def test_untrusted_ca_aborts_before_bind(run_playbook, prefix, directory, other_ca):
    step = play(task("ldap_account", {"accounts": [{"uid": f"{prefix}t-ope"}], "ca_path": other_ca,
                                      **probe(prefix)}))
    run = run_playbook(step)
    result = run.result("t")
    assert run.rc != 0 and result["changed"] is False, result
    assert "TLS to 127.0.0.1:10636 failed: the server certificate is not trusted by the CA file" in result["msg"]
    assert entries_with_prefix(directory, prefix) == []
    assert not slapd_saw_bind(probe(prefix)["bind_dn"], wait=1)


def test_wrong_hostname_aborts_before_bind(run_playbook, lab, prefix, directory):
    name = socket.gethostname()
    if name == "localhost" or socket.gethostbyname(name) != "127.0.0.1":
        pytest.skip("the host name %s does not resolve to 127.0.0.1" % name)
    uri = lab["slapd"]["ldaps_uri"].replace("127.0.0.1", name)
    run = run_playbook(play(task("ldap_account", {"accounts": [{"uid": f"{prefix}t-ope"}],
                                                  "server_uri": uri, **probe(prefix)})))
    result = run.result("t")
    assert run.rc != 0 and "does not match the host name" in result["msg"], result
    assert entries_with_prefix(directory, prefix) == []
    assert not slapd_saw_bind(probe(prefix)["bind_dn"], wait=1)
