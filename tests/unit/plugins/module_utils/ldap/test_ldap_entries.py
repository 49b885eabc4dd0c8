"""Pure logic of ldap_account / ldap_group: batch validation, filter escaping, plans."""

from __future__ import annotations

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.ldap import entries
from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.ldap.client import equality_filter, escape_filter_value

BASE = "dc=s2p,dc=esa,dc=int"


def account(**kw):
    return entries.validate_accounts([dict({"uid": "neocc-ope"}, **kw)], BASE)[0]


@pytest.mark.parametrize("value, escaped", [
    ("*", "\\2a"), ("*)(uid=*", "\\2a\\29\\28uid=\\2a"), ("a\\b", "a\\5cb"), ("nul\x00", "nul\\00"),
    ("é", "é"), ("plain", "plain"),
])
def test_filter_values_are_escaped(value, escaped):
    assert escape_filter_value(value) == escaped


def test_equality_filter_or_of_escaped_values():
    assert equality_filter("uid", ["a*", "b"]) == "(|(uid=a\\2a)(uid=b))"
    assert equality_filter("uid", ["x)"]) == "(uid=x\\29)"


def test_service_dn_escapes_rdn_specials():
    assert account(uid='a,b+c"d').get("dn") == 'uid=a\\,b\\+c\\"d,ou=services,' + BASE


def test_whole_batch_errors_name_item_and_field():
    with pytest.raises(ValidationError) as err:
        entries.validate_accounts([
            {"uid": "ok-ope"},
            {"uid": "Bad Person", "kind": "person"},
            {"uid": "x", "attributes": {"userPassword": "p", "bad name": "v", "mail": {"a": 1}}},
            {"uid": "ok-ope"},
            {"uid": "y", "groups": [""]},
        ], BASE)
    text = "\n".join(err.value.errors)
    assert "accounts[1] (Bad Person).uid" in text
    assert "accounts[2] (x).attributes.userPassword: set by the module itself" in text
    assert "'bad name' is not an attribute name" in text
    assert "accounts[2] (x).attributes.mail: must be a string" in text
    assert "accounts[3] (ok-ope).uid: the same entry" in text
    assert "accounts[4] (y).groups[0]" in text
    assert len(err.value.errors) == 6


def test_create_plan_defaults_cn_sn_and_hides_password():
    plan = entries.plan_account(account(password="secret-value-123456", attributes={"description": "d"}), None)
    assert plan["action"] == "create" and plan["set_password"]
    assert plan["add"]["cn"] == ["neocc-ope"] and plan["add"]["sn"] == ["neocc-ope"]
    assert "secret-value" not in repr(plan["after"]) and "userPassword" not in plan["add"]


def test_update_plan_only_touches_given_attributes():
    current = {"objectClass": ["top", "inetOrgPerson"], "uid": ["neocc-ope"], "cn": ["neocc-ope"],
               "sn": ["neocc-ope"], "description": ["old"], "mail": ["keep@esa.int"],
               "userPassword": ["{SSHA}x"]}
    plan = entries.plan_account(account(attributes={"description": "new", "telephoneNumber": None}), current)
    assert plan["changes"] == {"description": ("replace", ["new"])}
    assert plan["before"]["description"] == ["old"] and plan["after"]["description"] == ["new"]
    assert "userPassword" not in plan["before"] and "userPassword" not in plan["after"]
    same = entries.plan_account(account(attributes={"description": "old", "Mail": ["keep@esa.int"]}), current)
    assert same["action"] == "none" and not same["set_password"]


def test_the_credential_record_in_labeleduri_is_kept_and_cannot_be_set():
    record = "vault:s2p/pd/neocc/ope/ldap-bind esa.s2p.credential"
    current = {"objectClass": ["top", "inetOrgPerson"], "labeledURI": ["https://old.example home", record]}
    plan = entries.plan_account(account(attributes={"labeledURI": "https://new.example home"}), current)
    assert plan["changes"] == {"labeledURI": ("replace", ["https://new.example home", record])}
    removed = entries.plan_account(account(attributes={"labeledURI": None}), current)
    assert removed["changes"] == {"labeledURI": ("replace", [record])}
    with pytest.raises(ValidationError, match=r"labeledURI: values labelled esa.s2p.credential are set by "
                                              r"esa.s2p.credential"):
        account(attributes={"labeledURI": record})


def test_lock_and_unlock_only_the_admin_lock():
    current = {"objectClass": ["inetOrgPerson"], "uid": ["neocc-ope"]}
    assert entries.plan_account(account(state="locked"), current)["changes"] == {
        "pwdAccountLockedTime": ("replace", [entries.ADMIN_LOCK])}
    locked = dict(current, pwdAccountLockedTime=[entries.ADMIN_LOCK])
    assert entries.plan_account(account(), locked)["changes"] == {"pwdAccountLockedTime": ("delete", [])}
    failures = dict(current, pwdAccountLockedTime=["20261125101010Z"])  # ppolicy lockout: not ours to lift
    assert entries.plan_account(account(), failures)["action"] == "none"


def test_memberships_add_remove_and_placeholder():
    gdn = "cn=p-dev,ou=groups," + BASE
    accounts = entries.validate_accounts([{"uid": "a-ope", "groups": ["p-dev"]}, {"uid": "b-ope", "state": "absent"}],
                                         BASE)
    b_dn = accounts[1]["dn"]
    changes = entries.plan_memberships(accounts, {gdn.lower(): (gdn, [b_dn])})
    assert changes == {gdn: ([b_dn], [accounts[0]["dn"]])}
    only_b = entries.validate_accounts([{"uid": "b-ope", "state": "absent"}], BASE)
    assert entries.plan_memberships(only_b, {gdn.lower(): (gdn, [b_dn])}) == {gdn: ([b_dn], [gdn])}
    with pytest.raises(ValidationError, match="group cn=p-dev.* does not exist"):
        entries.plan_memberships(accounts, {})


def test_group_plan_exclusive_and_additive():
    group = entries.validate_groups([{"cn": "p-dev", "members": ["jdoe"]}], BASE)[0]
    jdoe = "uid=jdoe,ou=people," + BASE
    other = "uid=other,ou=people," + BASE
    current = {"cn": ["p-dev"], "member": [other], "objectClass": ["groupOfNames"]}
    assert entries.plan_group(group, current)["changes"] == {"member": ("replace", [other, jdoe])}
    exclusive = dict(group, exclusive=True)
    assert entries.plan_group(exclusive, current)["changes"] == {"member": ("replace", [jdoe])}
    empty = dict(group, members=[], exclusive=True)
    assert entries.plan_group(empty, current)["changes"] == {"member": ("replace", [group["dn"]])}
    assert entries.plan_group(empty, dict(current, member=[group["dn"]]))["action"] == "none"


@pytest.mark.parametrize("member", ["*", "uid=x,dc=other", "uid=*)(,ou=people,dc=s2p,dc=esa,dc=int\x00", "Bad"])
def test_bad_members_are_refused(member):
    with pytest.raises(ValidationError, match=r"groups\[0\] \(g\).members\[0\]"):
        entries.validate_groups([{"cn": "g", "members": [member]}], BASE)
