"""Pure logic of esa.s2p.credential: generation, validation and the action decided per credential."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.workflows import credential as cred
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError

BASE = "dc=s2p,dc=esa,dc=int"
NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.UTC)


def item(**kw):
    base = {"uid": "neocc-ope", "path": "pd/neocc/ope/ldap-bind", "rotation_period_days": 90,
            "owner": "team", "project": "neocc"}
    return cred.validate([dict(base, **kw)], BASE, 32, ["lower", "digits"])[0]


def kv(age_days=1, **data):
    """A promoted version 3 as the module writes it."""
    body = {"password": "p" * 20, "rotated_at": cred.iso(NOW - datetime.timedelta(days=age_days)),
            "ldap_changed": "20261125110000Z", "written_version": "3"}
    body.update(data)
    return {"data": body, "version": 3, "created_time": "2026-11-24T12:00:00.123456789Z",
            "custom_metadata": cred.wanted_metadata(item(), body)}


@pytest.mark.parametrize("classes", [["lower"], ["upper", "digits"], sorted(cred.CHARACTER_CLASSES)])
def test_generated_passwords_use_every_class_and_only_those(classes):
    for _attempt in range(50):
        password = cred.generate_password(16, classes)
        assert len(password) == 16
        assert all(any(c in cred.CHARACTER_CLASSES[k] for c in password) for k in classes)
        assert all(any(c in cred.CHARACTER_CLASSES[k] for k in classes) for c in password)


def test_validation_reports_every_problem():
    with pytest.raises(ValidationError) as err:
        cred.validate([{"uid": "a-ope", "path": "../x", "rotation_period_days": 90},
                       {"uid": "b-ope", "path": "ok/path", "rotation_period_days": 0},
                       {"uid": "c-ope", "path": "ok/path", "rotation_period_days": 90},
                       {"uid": "Bad Uid", "kind": "person", "path": "p/q", "rotation_period_days": 9}],
                      BASE, 8, [])
    text = "\n".join(err.value.errors)
    for expected in ("length: must be from 16", "characters: list at least one", "credentials[0] (a-ope).path",
                     "credentials[1] (b-ope).rotation_period_days", "credentials[2] (c-ope).path: ok/path is already",
                     "credentials[3] (Bad Uid).uid"):
        assert expected in text


@pytest.mark.parametrize("secret, changed_time, force, expected", [
    (None, None, False, "create"),
    ({"data": None, "version": 4}, "x", False, "create"),           # newest version deleted
    (kv(pending_password="n" * 20), "20261125110000Z", False, "complete"),
    (kv(age_days=91), "20261125110000Z", False, "rotate"),
    (kv(), "20261125110000Z", True, "rotate"),
    (kv(), "20261125115959Z", False, "reapply"),                    # someone else set the password
    (kv(), None, False, "reapply"),                                  # entry re-created without password
    (kv(), "20261125110000Z", False, "none"),
])
def test_decide(secret, changed_time, force, expected):
    assert cred.decide(item(), secret, changed_time, NOW, force) == expected


def test_metadata_drift_is_fixed_alone():
    stale = kv()
    stale["custom_metadata"] = dict(stale["custom_metadata"], owner="someone-else")
    assert cred.decide(item(), stale, "20261125110000Z", NOW, False) == "metadata"


def direct_kv(version=1, **meta):
    """A first password written without a pending phase (version 1), confirmed by `meta` or not."""
    body = cred.direct_data(item(), "p" * 20, NOW - datetime.timedelta(days=1), 1)
    return {"data": body, "version": version, "custom_metadata": cred.wanted_metadata(item(), body, meta)}


@pytest.mark.parametrize("secret, changed_time, expected", [
    (direct_kv(), None, "reapply"),                                             # killed before LDAP
    (direct_kv(), "20261125110000Z", "reapply"),                                # killed before confirming
    (direct_kv(ldap_changed="20261125110000Z", applied_version="1"), "20261125110000Z", "none"),
    (direct_kv(ldap_changed="20261125110000Z", applied_version="1"), "20261125115959Z", "reapply"),  # drift
    # confirms version 1, but someone wrote version 2 since: not confirmed
    (direct_kv(version=2, ldap_changed="20261125110000Z", applied_version="1"), "20261125110000Z", "reapply"),
    # a confirmation of the newest version wins over the ldap_changed a promoted version carries
    (dict(kv(), custom_metadata=cred.wanted_metadata(item(), kv()["data"], {
        "ldap_changed": "20261125115959Z", "applied_version": "3"})), "20261125115959Z", "none"),
])
def test_decide_with_a_confirmation_in_the_metadata(secret, changed_time, expected):
    assert cred.decide(item(), secret, changed_time, NOW, False) == expected


def test_only_a_confirmation_of_the_newest_version_counts():
    assert cred.confirmation(direct_kv(ldap_changed="T", applied_version="1")) == {
        "ldap_changed": "T", "applied_version": "1"}
    assert cred.confirmation(direct_kv(version=2, ldap_changed="T", applied_version="1")) == {}
    assert cred.confirmation(direct_kv()) == {} and cred.confirmation(None) == {}
    assert cred.confirmed_change(kv()) == "20261125110000Z"  # a promoted version carries its own


def test_metadata_is_written_only_when_it_changes():
    current = kv()
    unchanged = {"item": item(), "kv": current}  # action none/metadata keeps what the metadata confirms
    assert cred.metadata_to_write(unchanged) is None
    reapplied = {"item": item(), "kv": current, "current": current["data"],
                 "confirm": {"ldap_changed": "20261125120001Z", "applied_version": "3"}}
    assert cred.metadata_to_write(reapplied)["applied_version"] == "3"  # no new version, the metadata confirms
    rotated = {"item": item(), "kv": current, "confirm": {},
               "data": cred.promoted_data(item(), "n" * 20, NOW, "20261125120001Z", 4)}
    assert cred.metadata_to_write(rotated)["rotated_at"] == cred.iso(NOW)
    assert "applied_version" not in cred.metadata_to_write(rotated)
    first = {"item": item(), "kv": None, "current": cred.direct_data(item(), "n" * 20, NOW, 1),
             "confirm": {"ldap_changed": "20261125120001Z", "applied_version": "1"}}
    assert cred.metadata_to_write(first) == dict(cred.wanted_metadata(item(), first["current"]),
                                                 ldap_changed="20261125120001Z", applied_version="1")
    drifted = {"item": item(owner="new-team"), "kv": current}  # action metadata: no new version
    assert cred.metadata_to_write(drifted)["owner"] == "new-team"


def test_direct_data_is_current_and_has_nothing_pending():
    data = cred.direct_data(item(), "n" * 20, NOW, 1)
    assert data == {"password": "n" * 20, "rotated_at": cred.iso(NOW), "account": item()["dn"],
                    "written_version": "1"}


def test_promoted_data_has_no_pending():
    pending = cred.pending_data(kv(), "new-password-xxxxxxxx", NOW)
    assert pending["pending_password"] == "new-password-xxxxxxxx" and pending["password"] == "p" * 20
    promoted = cred.promoted_data(item(), "new-password-xxxxxxxx", NOW, "20261125120001Z", 5)
    assert "pending_password" not in promoted and promoted["password"] == "new-password-xxxxxxxx"
    assert promoted["written_version"] == "5"


def hand_written(version=4, **data):
    """A version an operator wrote: `kv put` of a password alone, or (data given) `kv patch`."""
    return {"data": data or {"password": "fixed-by-hand-123456"}, "version": version,
            "created_time": "2026-11-25T11:30:00.987654321Z", "custom_metadata": kv()["custom_metadata"]}


PATCHED = dict(kv()["data"])
PATCHED.update(password="patched-by-hand-1234")


@pytest.mark.parametrize("secret, changed_time, expected", [
    (hand_written(), "20261125110000Z", "reapply"),                         # kv put: applied, not replaced
    (hand_written(**PATCHED), "20261125110000Z", "reapply"),                # kv patch over the module's data
    # a version from before the stamp: rotated_at and ldap_changed make it the module's own
    (dict(kv(), data={k: v for k, v in kv()["data"].items() if k != "written_version"}), "20261125110000Z", "none"),
])
def test_a_version_written_by_hand_is_applied_as_it_is(secret, changed_time, expected):
    """Issue 15: an operator fixing a password writes it to Vault; the next run applies it to LDAP
    (reapply, no new version), never generates another one over it."""
    assert cred.decide(item(), secret, changed_time, NOW, False) == expected


def test_the_rotation_of_a_hand_written_password_counts_from_when_it_was_written():
    assert cred.rotated_at(hand_written()) == "2026-11-25T11:30:00Z"
    assert cred.rotated_at(kv()) == kv()["data"]["rotated_at"]
    assert cred.rotated_at({"data": {"password": "x"}, "version": 1}) is None  # no time at all: due now
    old = dict(hand_written(), created_time="2026-08-01T00:00:00Z")
    assert cred.decide(item(), old, "20261125110000Z", NOW, False) == "rotate"
    # once applied and confirmed, the hand-written version is converged: nothing left to do
    confirm = {"ldap_changed": "20261125120001Z", "applied_version": "4"}
    applied = dict(hand_written(), custom_metadata=cred.wanted_metadata(
        item(), dict(hand_written()["data"], rotated_at="2026-11-25T11:30:00Z"), confirm))
    assert cred.decide(item(), applied, "20261125120001Z", NOW, False) == "none"
    assert cred.metadata_to_write({"item": item(), "kv": applied}) is None


def test_account_missing_is_an_error_before_writes():
    with pytest.raises(ValidationError, match="does not exist; create it with esa.s2p.ldap_account"):
        cred.plan([item()], [None], {}, NOW, False)


@pytest.mark.parametrize("secret, expected", [
    (None, "create"),                                   # new account, no secret: generated and set
    (kv(), "reapply"),                                  # account re-created, Vault still has a password
    (kv(pending_password="n" * 20), "complete"),        # a killed run left a pending rotation
    (kv(age_days=91), "rotate"),
])
def test_check_mode_predicts_a_missing_account_as_the_real_run_after_ldap_account(secret, expected):
    """Check mode plans a missing account exactly as the real run plans it once ldap_account created it
    (no password yet: pwdChangedTime unset), and says so; outside check mode it stays an error."""
    predicted = cred.plan([item()], [secret], {}, NOW, False, check_mode=True)
    real = cred.plan([item()], [secret], {item()["dn"]: None}, NOW, False)
    assert [p["action"] for p in predicted] == [p["action"] for p in real] == [expected]
    assert predicted[0]["account_missing"] is True and real[0]["account_missing"] is False
    warning = cred.missing_accounts_warning(predicted)
    assert "1 account(s) do not exist yet (uid=neocc-ope,ou=services," in warning
    assert cred.missing_accounts_warning(real) is None
    with pytest.raises(ValidationError):
        cred.plan([item()], [secret], {}, NOW, False)


def test_missing_accounts_warning_shortens_long_lists():
    items = cred.validate([{"uid": "a%02d-ope" % i, "path": "p/a%02d" % i, "rotation_period_days": 9}
                           for i in range(8)], BASE, 32, ["lower"])
    plans = cred.plan(items, [None] * 8, {}, NOW, False, check_mode=True)
    assert "8 account(s)" in cred.missing_accounts_warning(plans)
    assert "and 3 more" in cred.missing_accounts_warning(plans)


def test_parallel_keeps_order_and_reports_exactly_what_succeeded():
    def work(n):
        if n % 5 == 3:
            raise ValueError(n)
        return n * 2

    results, succeeded, error = cred.parallel(work, list(range(20)))
    assert results == [None if n % 5 == 3 else n * 2 for n in range(20)]
    assert succeeded == [n for n in range(20) if n % 5 != 3]
    assert isinstance(error, ValueError)
    assert cred.parallel(work, []) == ([], [], None)


def test_an_account_has_one_source_of_truth():
    """Issue 15: a second path for an existing account wrote a second secret and a new LDAP password.
    Its entry records where its credential lives; another path is refused before any write."""
    dn = item()["dn"]
    ok = cred.plan([item()], [kv()], {dn: "20261125110000Z"}, NOW, False, mount="s2p",
                   records={dn: ["s2p/pd/neocc/ope/ldap-bind"]})
    assert ok[0]["action"] == "none" and ok[0]["record"] is False
    legacy = cred.plan([item()], [kv()], {dn: "20261125110000Z"}, NOW, False, mount="s2p", records={dn: []})
    assert legacy[0]["action"] == "metadata" and legacy[0]["record"] is True  # recorded by the next run
    with pytest.raises(ValidationError) as err:
        cred.plan([item(path="pd/neocc/ope/" + "x" * 60)], [None], {dn: "20261125110000Z"}, NOW, False,
                  mount="s2p", records={dn: ["s2p/pd/neocc/ope/ldap-bind"]})
    assert err.value.errors == [
        "credentials[0] (neocc-ope).path: the account uid=neocc-ope,ou=services,dc=s2p,dc=esa,dc=int has its "
        "credential at s2p/pd/neocc/ope/ldap-bind (recorded on the entry's labeledURI); refusing a second one at "
        "s2p/pd/neocc/ope/" + "x" * 60 + ". To move it, delete that labeledURI value and the old secret, then run "
        "with the new path"]


def test_records_are_read_only_from_values_with_the_label():
    assert cred.recorded_paths(["vault:s2p/a/b esa.s2p.credential", "https://example.org home",
                                "vault:other/x"]) == ["s2p/a/b"]
    assert cred.record_value("s2p", "a/b") == "vault:s2p/a/b esa.s2p.credential"
