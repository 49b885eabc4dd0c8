"""esa.s2p.credential against the lab's slapd and OpenBao: passwords generated into Vault KV v2,
applied to LDAP, idempotent against Vault's current version, rotated when due or forced,
re-applied when LDAP drifted. Every assertion on LDAP binds with the password read from Vault."""

from __future__ import annotations

import datetime

import ldap3
import pytest
from identity_helpers import (VAULT, BASE, can_bind, clean_ldap, clean_vault, kv_read, ldap_admin, play, task,
                              vault_root)


@pytest.fixture
def accounts(run_playbook, lab, prefix):
    """Six service accounts of two projects, created without passwords; removed with their secrets."""
    uids = [f"{prefix}p{p}-{env}" for p in range(2) for env in ("dev", "ire", "ope")]
    run = run_playbook(play(task("ldap_account", {"accounts": [{"uid": u} for u in uids]})))
    assert run.rc == 0, run.stdout
    yield uids
    clean_ldap(lab, prefix)
    clean_vault(lab, prefix)


def items(prefix, uids, **extra):
    return [dict({"uid": u, "path": f"{prefix}/pd/{u}/ldap-bind", "owner": "team-" + u.split("-")[0],
                  "project": u.split("-")[0]}, **extra) for u in uids]


def credential_task(creds, **params):
    return task("credential", {"credentials": creds, "vault": VAULT, **params})


def actions(run):
    return [c["action"] for c in run.result("t")["credentials"]]


def dn(uid):
    return f"uid={uid},ou=services,{BASE}"


@pytest.mark.smoke
def test_create_idempotent_rotate_reapply(run_playbook, lab, prefix, accounts):
    creds = items(prefix, accounts)
    step = play(credential_task(creds))
    check = run_playbook(step, check=True)
    assert check.rc == 0 and check.changed == 1, check.stdout
    assert actions(check) == ["create"] * 6
    assert all(kv_read(lab, c["path"]) is None for c in creds)
    real = run_playbook(step)
    assert real.rc == 0 and actions(real) == actions(check), real.stdout
    for cred in creds:
        secret = kv_read(lab, cred["path"])
        data, meta = secret["data"], secret["metadata"]
        assert "pending_password" not in data and len(data["password"]) == 32
        assert meta["version"] == 1  # a first password: current at once (no pending version), then confirmed
        assert meta["custom_metadata"]["applied_version"] == "1" and meta["custom_metadata"]["ldap_changed"]
        assert meta["custom_metadata"]["owner"] == cred["owner"]
        assert meta["custom_metadata"]["rotation_period_days"] == "90"
        assert meta["custom_metadata"]["rotated_at"] == data["rotated_at"]
        assert can_bind(lab, dn(cred["uid"]), data["password"])
    for again in (run_playbook(step, check=True), run_playbook(step)):
        assert again.rc == 0 and again.changed == 0 and set(actions(again)) == {"none"}, again.stdout

    # due: make the first one 91 days old in Vault (the source of truth); force the second
    previous = {c["path"]: kv_read(lab, c["path"])["data"]["password"] for c in creds}
    root, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    old = kv_read(lab, creds[0]["path"])["data"]
    aged = dict(old, rotated_at=(datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=91))
                .strftime("%Y-%m-%dT%H:%M:%SZ"))
    root.secrets.kv.v2.create_or_update_secret(path=creds[0]["path"], secret=aged, mount_point=mount, cas=1)
    creds[1]["force"] = True
    # drift: someone set another password on the third account directly in LDAP
    conn = ldap_admin(lab)
    conn.extend.standard.modify_password(user=dn(creds[2]["uid"]), new_password="Someone-else-set-" + prefix * 3)
    conn.unbind()
    step = play(credential_task(creds))
    check = run_playbook(step, check=True)
    real = run_playbook(step)
    expected = ["rotate", "rotate", "reapply", "none", "none", "none"]
    assert actions(check) == expected and actions(real) == expected, real.stdout
    for cred, action in zip(creds, expected, strict=True):
        data = kv_read(lab, cred["path"])["data"]
        assert "pending_password" not in data
        assert (data["password"] != previous[cred["path"]]) is (action == "rotate")
        assert can_bind(lab, dn(cred["uid"]), data["password"])
    creds[1]["force"] = False
    assert run_playbook(play(credential_task(creds))).changed == 0


def test_a_password_written_by_hand_is_applied_not_replaced(run_playbook, lab, prefix, accounts, secret_marker):
    """Issue 15: an operator fixes a password by writing it to Vault (`kv put` of the password, or
    `kv patch` over the module's data); the next run sets exactly that password in LDAP (reapply,
    no new version, rotation counted from the hand-written version), and then changes nothing."""
    creds = items(prefix, accounts[:3])
    step = play(credential_task(creds))
    assert run_playbook(step).rc == 0
    root, mount = vault_root(lab), lab["openbao"]["kv_mount"]
    put_value, patch_value = f"Put-{secret_marker}", f"Patch-{secret_marker}"
    root.secrets.kv.v2.create_or_update_secret(path=creds[0]["path"], secret={"password": put_value},
                                               mount_point=mount)
    root.secrets.kv.v2.patch(path=creds[1]["path"], secret={"password": patch_value}, mount_point=mount)
    before = {c["path"]: kv_read(lab, c["path"])["metadata"]["version"] for c in creds}
    check = run_playbook(step, check=True)
    real = run_playbook(step)
    expected = ["reapply", "reapply", "none"]
    assert actions(check) == expected and actions(real) == expected, real.stdout[-3000:]
    assert secret_marker not in check.stdout + real.stdout
    for cred, value in zip(creds[:2], (put_value, patch_value), strict=True):
        secret = kv_read(lab, cred["path"])
        assert secret["data"]["password"] == value and secret["metadata"]["version"] == before[cred["path"]]
        meta = secret["metadata"]["custom_metadata"]
        assert meta["applied_version"] == str(before[cred["path"]])  # confirmed, no new version
        assert can_bind(lab, dn(cred["uid"]), value)
    put_meta = kv_read(lab, creds[0]["path"])["metadata"]
    assert put_meta["custom_metadata"]["rotated_at"] == put_meta["created_time"][:19] + "Z"
    for again in (run_playbook(step, check=True), run_playbook(step)):
        assert again.rc == 0 and again.changed == 0 and set(actions(again)) == {"none"}, again.stdout[-3000:]


def test_missing_account_fails_before_any_write(run_playbook, lab, prefix, accounts):
    creds = items(prefix, accounts[:2]) + [{"uid": f"{prefix}nobody-ope", "path": f"{prefix}/x/nobody"}]
    run = run_playbook(play(credential_task(creds)))
    result = run.result("t")
    assert run.rc != 0 and result["changed"] is False
    assert f"account {dn(prefix + 'nobody-ope')} does not exist" in result["msg"]
    assert all(kv_read(lab, c["path"]) is None for c in creds)


def test_an_overlong_path_for_an_existing_credential_changes_nothing(run_playbook, lab, prefix, accounts):
    """A path element of 300 characters was once accepted: a second secret written, a new LDAP
    password set, and the account's real credential stopped binding. It fails before any write."""
    creds = items(prefix, accounts[:1])
    assert run_playbook(play(credential_task(creds))).rc == 0
    password = kv_read(lab, creds[0]["path"])["data"]["password"]
    second = dict(creds[0], path=f"{prefix}/pd/{accounts[0]}/" + "x" * 300)
    run = run_playbook(play(credential_task([second])))
    result = run.result("t")
    assert run.rc != 0 and result["changed"] is False, run.stdout
    assert "credentials[0] (%s).path: element 'xxxxxxxxxxxxxxxxxxxx'... is 300 characters long (at most 63)" \
        % accounts[0] in result["msg"], result["msg"]
    assert kv_read(lab, second["path"]) is None
    assert can_bind(lab, dn(accounts[0]), password)


def test_a_second_path_for_an_account_is_refused_before_any_write(run_playbook, lab, prefix, accounts):
    """Issue 15: an account must never get a second source of truth. Its entry records where its
    credential lives (labeledURI); a valid but different path fails in check and real mode, with
    nothing written, and ldap_account setting labeledURI keeps the record."""
    creds = items(prefix, accounts[:2])
    assert run_playbook(play(credential_task(creds))).rc == 0
    record = f"vault:{lab['openbao']['kv_mount']}/{creds[0]['path']} esa.s2p.credential"
    conn = ldap_admin(lab)
    conn.search(dn(accounts[0]), "(objectClass=*)", search_scope=ldap3.BASE, attributes=["labeledURI"])
    assert conn.entries[0].labeledURI.values == [record]
    conn.unbind()
    password = kv_read(lab, creds[0]["path"])["data"]["password"]
    moved = [dict(creds[0], path=f"{prefix}/pd/elsewhere/ldap-bind"), creds[1]]
    for check in (True, False):
        run = run_playbook(play(credential_task(moved)), check=check)
        result = run.result("t")
        assert run.rc != 0 and result["changed"] is False, run.stdout[-3000:]
        assert f"credentials[0] ({accounts[0]}).path: the account {dn(accounts[0])} has its credential at " \
               f"{lab['openbao']['kv_mount']}/{creds[0]['path']}" in result["msg"], result["msg"]
    assert kv_read(lab, moved[0]["path"]) is None and can_bind(lab, dn(accounts[0]), password)
    # an account's own labeledURI values are its owner's; the record stays beside them
    home = {"labeledURI": "https://neo.s2p.esa.int/ home"}
    run = run_playbook(play(task("ldap_account", {"accounts": [{"uid": accounts[0], "attributes": home}]})))
    assert run.rc == 0 and run.changed == 1, run.stdout[-3000:]
    assert run_playbook(play(credential_task(creds))).changed == 0
    conn = ldap_admin(lab)
    conn.search(dn(accounts[0]), "(objectClass=*)", search_scope=ldap3.BASE, attributes=["labeledURI"])
    assert sorted(conn.entries[0].labeledURI.values) == sorted([record, "https://neo.s2p.esa.int/ home"])
    conn.unbind()


def test_return_secret_needs_no_log(run_playbook, lab, prefix, accounts):
    creds = items(prefix, accounts[:1])
    run = run_playbook(play(credential_task(creds, return_secret=True)))
    assert run.rc != 0 and "set no_log: true on the task" in run.result("t")["msg"]
    assert kv_read(lab, creds[0]["path"]) is None
    run = run_playbook(play({**credential_task(creds, return_secret=True), "no_log": True, "register": "out"},
                            {"name": "use it", "ansible.builtin.assert": {
                                "that": ["out.secrets[%r] | length == 32" % creds[0]["path"]], "quiet": True}}))
    assert run.rc == 0, run.stdout
    assert kv_read(lab, creds[0]["path"])["data"]["password"] not in run.stdout


def test_ldap_sees_no_bind_attempt(lab, prefix, accounts, run_playbook):
    """Idempotence is decided from Vault: a no-change run makes no bind as the account (no lockout risk)."""
    creds = items(prefix, accounts[:1])
    assert run_playbook(play(credential_task(creds))).rc == 0
    conn = ldap_admin(lab)
    conn.search(dn(accounts[0]), "(objectClass=*)", search_scope=ldap3.BASE, attributes=["pwdFailureTime"])
    assert not conn.response[0]["attributes"].get("pwdFailureTime")
    conn.unbind()


def test_batch_over_several_ldap_connections(run_playbook, lab, prefix):
    """32 accounts: enough for the module to open two LDAP connections (see ldap/pool);
    every account ends with Vault's current password, and a re-run changes nothing."""
    uids = [f"{prefix}m{i:02d}-ope" for i in range(2 * 16)]
    try:
        assert run_playbook(play(task("ldap_account", {"accounts": [{"uid": u} for u in uids]}))).rc == 0
        step = play(credential_task(items(prefix, uids)))
        run = run_playbook(step)
        assert run.rc == 0, run.stdout[-3000:]
        assert actions(run) == ["create"] * 32
        for uid in uids:
            data = kv_read(lab, f"{prefix}/pd/{uid}/ldap-bind")["data"]
            assert "pending_password" not in data
            binds = can_bind(lab, dn(uid), data["password"])
            assert binds, uid
        again = run_playbook(step)
        assert again.rc == 0 and again.changed == 0 and actions(again) == ["none"] * 32
    finally:
        clean_ldap(lab, prefix)
        clean_vault(lab, prefix)
