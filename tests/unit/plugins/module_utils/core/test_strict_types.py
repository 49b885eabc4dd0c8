"""Options given with the wrong shape (core/strict_types.py): what Ansible's conversions would hide."""

from __future__ import annotations

from ansible_collections.esa.s2p.plugins.module_utils.core.strict_types import loose_conversions

SPEC = {
    "accounts": {"type": "list", "elements": "dict", "options": {
        "uid": {"type": "str"}, "attributes": {"type": "dict"}, "groups": {"type": "list", "elements": "str"},
        "secret": {"type": "str", "no_log": True}, "cpus": {"type": "int"}}},
    "vault": {"type": "dict", "aliases": ["vault_connection"], "options": {"url": {"type": "str"}}},
    "names": {"type": "list", "elements": "str"},
    "state": {"type": "str"},
    "wait": {"type": "bool"},
}


def test_right_shapes_and_scalar_conversions_pass():
    params = {"accounts": [{"uid": "a", "attributes": {"cn": "x"}, "groups": ["g"], "cpus": "4"}, None],
              "vault": {"url": "https://v"}, "names": ["a", "b"], "state": "present", "wait": "yes"}
    assert loose_conversions(params, SPEC) == []


def test_strings_for_mappings_and_lists_and_mappings_for_strings_are_named():
    params = {"accounts": [{"uid": "a", "attributes": "cn=x"},
                           {"uid": ["a"], "groups": "g1,g2", "secret": {"s": 1}},
                           "uid=b"],
              "vault_connection": "url=https://v", "names": "a,b", "state": ["present"]}
    assert loose_conversions(params, SPEC) == [
        "accounts[0].attributes: must be a mapping, got a string",
        "accounts[1].groups: must be a list, got a string",
        "accounts[1].secret: must be a string, got a mapping",
        "accounts[1].uid: must be a string, got a list",
        "accounts[2]: must be a mapping, got a string",
        "names: must be a list, got a string",
        "state: must be a string, got a list",
        "vault: must be a mapping, got a string",
    ]


def test_values_are_never_quoted():
    problems = loose_conversions({"accounts": [{"secret": {"marker": "s3cr3t-marker"}}]}, SPEC)
    assert problems and not any("s3cr3t" in p for p in problems)
