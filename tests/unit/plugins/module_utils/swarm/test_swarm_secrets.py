"""Names and generation of stack secrets, module_utils/swarm/secrets.py (pure logic)."""

from __future__ import annotations

import hashlib
import string

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import S2PError, ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.swarm.secrets import (
    GENERATE_CHARSETS,
    check_generate,
    fill_vault_secrets,
    generate_missing,
    generate_value,
    pending_generation,
    value_version,
    vault_docker_name,
    vault_secrets,
)
from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack_spec import validate_stacks

PATH = "pd/demo/ire/db-password"


def batch(**secret):
    return [{"name": "demo-ire", "secrets": [dict({"name": "db-password", "vault_path": PATH}, **secret)],
             "services": [{"name": "web", "image": "busybox", "secrets": ["db-password"]}]}]


def plain_hashes(value):
    digest = hashlib.sha256(value.encode()).hexdigest()
    return [digest[:n] for n in range(6, 13)]


@pytest.mark.parametrize("key", [None, "a-key-kept-off-the-swarm"])
def test_a_value_secret_name_holds_no_plain_hash_of_the_value(key):
    value = "correct horse battery staple"
    name = value_version("demo-ire", "db-password", value, key)["docker_name"]
    assert name.startswith("demo-ire_db-password_") and len(name.rsplit("_", 1)[1]) == 12
    assert not [h for h in plain_hashes(value) if h in name]
    assert name == value_version("demo-ire", "db-password", value, key)["docker_name"]  # stable
    assert name != value_version("demo-ire", "db-password", value + "!", key)["docker_name"]  # new value, new name


def test_the_key_changes_the_name_and_the_stack_salts_it():
    names = {value_version("demo-ire", "x", "v", key)["docker_name"].rsplit("_", 1)[1]
             for key in (None, "k1", "k2")}
    assert len(names) == 3
    one = value_version("a-ire", "x", "v")["docker_name"].rsplit("_", 1)[1]
    two = value_version("b-ire", "x", "v")["docker_name"].rsplit("_", 1)[1]
    assert one != two  # the same value in two stacks cannot be told apart by its name


def test_validated_value_secrets_use_the_given_key():
    stacks = [{"name": "demo-ire", "secrets": [{"name": "s", "value": "hunter2"}],
               "services": [{"name": "web", "image": "busybox", "secrets": ["s"]}]}]
    keyed = validate_stacks(stacks, name_key="k")[0]["secrets"]["s"]["docker_name"]
    assert keyed == value_version("demo-ire", "s", "hunter2", "k")["docker_name"]
    assert keyed != validate_stacks(stacks)[0]["secrets"]["s"]["docker_name"]


def test_vault_names_follow_version_path_and_field_never_the_value():
    base = vault_docker_name("demo-ire", "db-password", "s2p", PATH, "value", 3)
    assert base.startswith("demo-ire_db-password_v3-") and len(base.rsplit("-", 1)[1]) == 8
    others = [vault_docker_name("demo-ire", "db-password", "s2p", PATH, "value", 4),
              vault_docker_name("demo-ire", "db-password", "s2p", PATH + "2", "value", 3),
              vault_docker_name("demo-ire", "db-password", "s2p", PATH, "password", 3),
              vault_docker_name("demo-ire", "db-password", "kv", PATH, "value", 3)]
    assert len(set(others + [base])) == 5
    stacks = validate_stacks(batch())
    fill_vault_secrets(stacks, "s2p", lambda path: {"data": {"value": "hunter2"}, "version": 3})
    name = stacks[0]["secrets"]["db-password"]["docker_name"]
    assert name == base and not [h for h in plain_hashes("hunter2") if h in name]


@pytest.mark.parametrize("policy, expected", [
    (None, None), (False, None), (True, {"length": 32, "charset": "alphanumeric"}),
    ({}, {"length": 32, "charset": "alphanumeric"}),
    ({"length": 20, "charset": "hex"}, {"length": 20, "charset": "hex"}),
    ({"length": None, "charset": "urlsafe"}, {"length": 32, "charset": "urlsafe"}),
])
def test_generate_policies_are_normalised(policy, expected):
    problems = []
    assert check_generate(lambda where, text: problems.append(text), "g", policy) == expected
    assert problems == []


@pytest.mark.parametrize("policy, words", [
    ({"length": 8}, "generate: length: must be an integer from 16 to 256, got 8"),
    ({"length": 1000}, "length: must be an integer from 16 to 256"),
    ({"length": "32"}, "length: must be an integer"),
    ({"length": True}, "length: must be an integer"),
    ({"charset": "emoji"}, "generate: charset: must be one of alphanumeric, hex, urlsafe, got 'emoji'"),
    ({"size": 10}, "generate: unknown key(s) size"),
    ("yes please", "generate: must be a mapping with length and charset"),
])
def test_bad_generate_policies_name_stack_secret_and_field(policy, words):
    with pytest.raises(ValidationError) as caught:
        validate_stacks(batch(generate=policy))
    assert any(e.startswith("stack demo-ire: secret db-password: ") and words in e for e in caught.value.errors), \
        caught.value.errors


def test_generate_needs_a_vault_path():
    stacks = batch()
    stacks[0]["secrets"] = [{"name": "db-password", "value": "x", "generate": {}}]
    with pytest.raises(ValidationError, match="secret db-password: generate: needs vault_path"):
        validate_stacks(stacks)


@pytest.mark.parametrize("charset", sorted(GENERATE_CHARSETS))
def test_generated_values_follow_the_policy_and_differ(charset):
    values = {generate_value({"length": 40, "charset": charset}) for _i in range(20)}
    assert len(values) == 20
    assert all(len(v) == 40 and set(v) <= set(GENERATE_CHARSETS[charset]) for v in values)
    assert set(GENERATE_CHARSETS["alphanumeric"]) == set(string.ascii_letters + string.digits)


def test_a_missing_path_with_a_policy_is_planned_as_version_one():
    stacks = validate_stacks(batch(generate={"length": 24}))
    fill_vault_secrets(stacks, "s2p", lambda path: None)
    secret = stacks[0]["secrets"]["db-password"]
    assert secret["generate_pending"] and secret["data"] is None
    assert secret["docker_name"] == vault_docker_name("demo-ire", "db-password", "s2p", PATH, "value", 1)
    assert not vault_secrets(stacks) and pending_generation(stacks) == [(stacks[0], secret)]


def test_a_missing_path_without_a_policy_still_fails():
    stacks = validate_stacks(batch())
    with pytest.raises(ValidationError, match="no such secret in Vault .*or give the secret a generate policy"):
        fill_vault_secrets(stacks, "s2p", lambda path: None)


def planned(policy=None):
    stacks = validate_stacks(batch(generate=policy or {"length": 24, "charset": "hex"}))
    fill_vault_secrets(stacks, "s2p", lambda path: None)
    return stacks, stacks[0]["secrets"]["db-password"]


def test_generation_hides_the_value_before_writing_it_with_cas_zero():
    stacks, secret = planned()
    events = []

    def write(path, data):
        events.append(("write", path, data["value"]))
        return 1

    renamed = generate_missing(stacks, "s2p", write, lambda path: pytest.fail("no re-read"),
                               lambda value: events.append(("hide", value)))
    (hide, written) = events
    assert hide == ("hide", written[2]) and written[:2] == ("write", PATH)
    assert len(written[2]) == 24 and set(written[2]) <= set("0123456789abcdef")
    assert renamed is False and secret["data"] == written[2] and not secret["generate_pending"]
    assert secret["docker_name"].startswith("demo-ire_db-password_v1-") and not pending_generation(stacks)


@pytest.mark.parametrize("winner_version", [1, 2])
def test_the_loser_of_a_race_rereads_and_deploys_the_winners_value(winner_version):
    stacks, secret = planned()
    hidden = []
    assert generate_missing(stacks, "s2p", lambda path, data: None,
                            lambda path: {"data": {"value": "the-winners-value"}, "version": winner_version},
                            hidden.append) is True  # planned again: this run generated nothing
    assert secret["data"] == "the-winners-value" and secret["vault_version"] == winner_version
    assert len(hidden) == 1 and hidden[0] != "the-winners-value"  # our own value was hidden too


def test_a_race_whose_winner_is_unreadable_fails_clearly():
    stacks, _secret = planned()
    with pytest.raises(S2PError, match="stack demo-ire: secret db-password: s2p/pd/demo/ire/db-password: "
                                       "the newest version \\(1\\) is deleted"):
        generate_missing(stacks, "s2p", lambda path, data: None, lambda path: {"data": None, "version": 1},
                         lambda value: None)


def test_secret_and_config_names_must_fit_dockers_64_characters():
    stacks = [{"name": "a" * 40, "secrets": [{"name": "b" * 12, "vault_path": PATH}],
               "configs": [{"name": "c" * 12, "data": "x"}],
               "services": [{"name": "web", "image": "busybox"}]}]
    with pytest.raises(ValidationError) as caught:
        validate_stacks(stacks)
    assert [e for e in caught.value.errors if "secret bbbbbbbbbbbb: Docker names such as" in e
            and "_v9999-12345678 would be longer than 64 characters" in e], caught.value.errors
    assert [e for e in caught.value.errors if "config cccccccccccc: Docker names such as" in e]
    stacks[0]["name"] = "a" * 30  # 30 + 1 + 12 + 15 = 58
    validate_stacks(stacks)
