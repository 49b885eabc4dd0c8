"""Batch validation and normalisation of module_utils/swarm/stack_spec.py (pure logic)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.swarm.secrets import (
    fill_vault_secrets,
    value_version,
    vault_docker_name,
    vault_secrets,
)
from ansible_collections.esa.s2p.plugins.module_utils.swarm.stack_spec import (
    content_hash,
    parse_image,
    parse_memory,
    spec_hash,
    validate_stacks,
)

DIGEST = "sha256:" + "a" * 64


def good():
    return [{
        "name": "demo-ire", "state": "present", "networks": ["front"],
        "secrets": [{"name": "db-password", "value": "s3cret"}],
        "configs": [{"name": "index", "data": "<h1>hi</h1>"}],
        "services": [{
            "name": "web", "image": "172.16.200.1:5000/s2p/busybox:latest", "replicas": 2,
            "command": ["httpd", "-f", "-p", "8080"], "env": {"A": 1, "B": True},
            "ports": [{"published": 18080, "target": 8080}], "sites": ["esoc", "esec"],
            "healthcheck": {"test": ["CMD", "true"], "interval": 2},
            "resources": {"limit_memory": "64M", "limit_cpus": 0.5},
            "networks": ["front"], "secrets": ["db-password"],
            "configs": [{"source": "index", "target": "/var/www/index.html"}],
        }],
    }]


def test_good_batch_is_normalised():
    stack = validate_stacks(good())[0]
    web = stack["services"][0]
    assert web["docker_name"] == "demo-ire_web"
    assert web["env"] == ["A=1", "B=true"]
    assert web["constraints"] == ["node.labels.site!=esrin"]
    assert web["resources"] == {"limit_cpus": 0.5, "limit_memory": 64 * 1024 ** 2}
    assert web["secrets"] == [{"source": "db-password", "target": "db-password"}]
    assert web["update"]["monitor"] == 10
    secret = stack["secrets"]["db-password"]
    assert secret["docker_name"] == value_version("demo-ire", "db-password", "s3cret")["docker_name"]
    assert content_hash("s3cret") not in secret["docker_name"]  # never a plain hash of a secret value
    assert stack["configs"]["index"]["docker_name"] == "demo-ire_index_" + content_hash("<h1>hi</h1>")
    assert stack["networks"]["front"]["docker_name"] == "demo-ire_front"


def test_same_input_same_hash_and_a_new_secret_value_a_new_version():
    one, two = validate_stacks(good())[0], validate_stacks(good())[0]
    assert spec_hash(one["services"][0]) == spec_hash(two["services"][0])
    changed = good()
    changed[0]["secrets"][0]["value"] = "other"
    assert validate_stacks(changed)[0]["secrets"]["db-password"]["docker_name"] != \
        one["secrets"]["db-password"]["docker_name"]


def _break(path, value):
    batch = good()
    target = batch
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return batch


SVC = (0, "services", 0)
BAD = [
    ((0, "name"), "Demo", "stack Demo: name"),
    ((0, "name"), "", "name"),
    ((0, "services"), [], "non-empty list of services"),
    ((0, "state"), "gone", "state must be one of"),
    (SVC + ("name",), "Web!", "not a valid service name"),
    (SVC + ("image",), "not a//ref", "not a valid image reference"),
    (SVC + ("image",), "busybox@sha256:123", "not a valid image reference"),
    (SVC + ("image",), KeyError, "not a valid image reference"),
    (SVC + ("replicas",), -1, "replicas: must be an integer from 0 to 1000, got -1"),
    (SVC + ("replicas",), "two", "replicas: must be an integer"),
    (SVC + ("mode",), "daemonset", "mode: must be one of"),
    (SVC + ("sites",), ["esoc", "mars"], "unknown site label(s) mars"),
    (SVC + ("sites",), [], "must name at least one site"),
    (SVC + ("ports",), [{"published": 70000, "target": 80}], "published: must be an integer from 1 to 65535"),
    (SVC + ("ports",), [{"published": 80, "target": 80, "protocol": "sctp"}], "must be tcp or udp"),
    (SVC + ("ports",), [{"target": 80}], "needs both published and target"),
    (SVC + ("ports",), [{"published": 80, "target": 80}, {"published": 80, "target": 81}], "already used"),
    (SVC + ("secrets",), ["nope"], "unknown secret 'nope'"),
    (SVC + ("configs",), ["nope"], "unknown config 'nope'"),
    (SVC + ("networks",), ["back"], "unknown network 'back'"),
    (SVC + ("healthcheck",), {"test": []}, "healthcheck: test: needs a command"),
    (SVC + ("healthcheck",), {"test": ["CMD", "true"], "interval": -5}, "interval: must be a number"),
    (SVC + ("resources",), {"limit_memory": "64X"}, "must be a size such as 64M"),
    (SVC + ("resources",), {"limit_cpus": 0}, "limit_cpus: must be a number"),
    (SVC + ("env",), {"BAD-KEY": "x"}, "invalid variable name(s) BAD-KEY"),
    (SVC + ("env",), ["A=1"], "env: must be a mapping"),
    (SVC + ("command",), {"a": 1}, "command: must be a list of strings"),
    (SVC + ("update",), {"parallelism": -1}, "parallelism: must be an integer"),
    (SVC + ("colour",), "blue", "unknown key(s) colour"),
    (SVC + ("constraints",), ["node.labels.site"], "is not a placement constraint"),
    ((0, "secrets", 0, "value"), "", "value must be a non-empty string"),
    ((0, "networks"), [{"name": "front", "driver": "bridge"}], "driver must be overlay"),
]


@pytest.mark.parametrize("path, value, words", BAD, ids=[b[2][:40] for b in BAD])
def test_bad_input_names_the_item_and_field(path, value, words):
    with pytest.raises(ValidationError) as caught:
        validate_stacks(_break(path, value))
    assert any(words in error for error in caught.value.errors), caught.value.errors
    assert "nothing was changed" in str(caught.value)


def test_every_problem_of_the_batch_is_reported_at_once():
    batch = good() + copy.deepcopy(good())
    batch[1]["name"] = "demo-preope"
    batch[1]["services"][0]["replicas"] = -1
    batch[0]["services"][0]["sites"] = ["moon"]
    with pytest.raises(ValidationError) as caught:
        validate_stacks(batch)
    text = "\n".join(caught.value.errors)
    assert "stack demo-ire: service web: sites" in text
    assert "stack demo-preope: service web: replicas" in text
    assert "published port 18080/tcp is already used by demo-ire_web" in text  # clash across stacks


def test_duplicate_stack_and_global_with_replicas():
    batch = good() + good()
    batch[1]["services"][0]["ports"] = []
    with pytest.raises(ValidationError) as caught:
        validate_stacks(batch)
    assert any("listed twice in the batch" in e for e in caught.value.errors)
    batch = good()
    batch[0]["services"][0]["mode"] = "global"
    with pytest.raises(ValidationError) as caught:
        validate_stacks(batch)
    assert any("takes no replicas" in e for e in caught.value.errors)


@pytest.mark.parametrize("ref, ok", [
    ("busybox", True), ("s2p/busybox:latest", True), ("172.16.200.1:5000/s2p/busybox:1.0", True),
    ("reg.s2p.esa.int/a/b@" + DIGEST, True), ("a:tag@" + DIGEST, True),
    ("Busybox", False), ("a/B", False), ("a::b", False), ("", False), (None, False), ("a/b:" + "x" * 200, False),
])
def test_parse_image(ref, ok):
    assert (parse_image(ref) is not None) is ok


def test_parse_memory():
    assert parse_memory("64M") == 64 * 1024 ** 2
    assert parse_memory("1g") == 1024 ** 3
    assert parse_memory(1000) == 1000
    assert parse_memory("0M") is None and parse_memory(True) is None and parse_memory("lots") is None


def test_a_service_on_no_network_joins_the_stack_default_network():
    batch = good()
    del batch[0]["services"][0]["networks"]
    stack = validate_stacks(batch)[0]
    assert stack["services"][0]["networks"] == [{"source": "default"}]
    assert stack["networks"]["default"]["docker_name"] == "demo-ire_default"


def test_absent_stack_needs_no_services():
    assert validate_stacks([{"name": "demo-ire", "state": "absent"}])[0]["services"] == []


def vault_batch(path="pd/demo/ire/db-password", **extra):
    batch = good()
    batch[0]["secrets"] = [dict({"name": "db-password", "vault_path": path}, **extra)]
    return batch


def test_a_vault_secret_waits_for_its_value_then_is_named_after_its_vault_version():
    stacks = validate_stacks(vault_batch())
    (pending,) = vault_secrets(stacks)
    assert pending[1]["data"] is None and pending[1]["docker_name"] is None
    read = []
    fill_vault_secrets(stacks, "s2p", lambda path: read.append(path) or {"data": {"value": "s3cret"}, "version": 4})
    assert read == ["pd/demo/ire/db-password"] and not vault_secrets(stacks)
    secret = stacks[0]["secrets"]["db-password"]
    assert secret["docker_name"] == vault_docker_name("demo-ire", "db-password", "s2p", "pd/demo/ire/db-password",
                                                      "value", 4)
    assert secret["docker_name"].startswith("demo-ire_db-password_v4-") and secret["vault_version"] == 4


def test_vault_field_names_the_key_of_the_secret_data():
    stacks = validate_stacks(vault_batch(vault_field="password"))
    fill_vault_secrets(stacks, "s2p", lambda path: {"data": {"password": 1234, "user": "u"}, "version": 1})
    assert stacks[0]["secrets"]["db-password"]["data"] == "1234"


@pytest.mark.parametrize("entry, words", [
    (None, "s2p/pd/demo/ire/db-password: no such secret in Vault"),
    ({"data": None, "version": 3}, "the newest version (3) is deleted or destroyed"),
    ({"data": {"password": "x"}, "version": 1}, "no field 'value' (fields: password)"),
    ({"data": {"value": {"nested": "x"}}, "version": 1}, "field 'value' must be non-empty text, got a mapping"),
    ({"data": {"value": ""}, "version": 1}, "field 'value' must be non-empty text"),
])
def test_unusable_vault_entries_name_stack_secret_and_path(entry, words):
    stacks = validate_stacks(vault_batch())
    with pytest.raises(ValidationError) as caught:
        fill_vault_secrets(stacks, "s2p", lambda path: entry)
    (error,) = caught.value.errors
    assert error.startswith("stack demo-ire: secret db-password: ") and words in error, error
    assert "nested" not in error


@pytest.mark.parametrize("path", ["/pd/demo/ire/x", "pd/../other/x", "pd//x", "", "pd/demo x"])
def test_bad_vault_paths_are_refused_before_vault_is_asked(path):
    with pytest.raises(ValidationError, match="stack demo-ire: secret db-password: vault_path: .* is not a KV path"):
        validate_stacks(vault_batch(path=path))


def test_a_secret_needs_a_value_or_a_vault_path():
    batch = good()
    batch[0]["secrets"] = [{"name": "db-password", "value": None, "vault_path": None}]
    with pytest.raises(ValidationError, match="value must be a non-empty string \\(or give vault_path"):
        validate_stacks(batch)
