"""Vault mount-type matching of module_utils/vault/client.py (what vault_health's mounts check decides)."""

from __future__ import annotations

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.vault.client import (
    _mount_facts,
    describe_mount,
    mount_matches,
    mount_problem,
)

KV2 = _mount_facts("s2p", {"type": "kv", "options": {"version": "2"}})
KV1 = _mount_facts("old", {"type": "kv", "options": {"version": "1"}})
KV_NO_VERSION = _mount_facts("bare", {"type": "kv", "options": None})
PKI = _mount_facts("pki", {"type": "pki"})


@pytest.mark.parametrize("facts, expected, matches", [
    (KV2, "kv-v2", True), (KV2, "kv-v1", False), (KV2, "kv", True), (KV2, "pki", False),
    (KV1, "kv-v1", True), (KV1, "kv-v2", False), (KV1, "kv", True),
    (KV_NO_VERSION, "kv-v1", True), (KV_NO_VERSION, "kv-v2", False),  # no version option: KV v1
    (PKI, "pki", True), (PKI, "kv", False), (PKI, "transit", False),
])
def test_mount_matches(facts, expected, matches):
    assert mount_matches(facts, expected) is matches


def test_facts_and_description():
    assert KV2 == {"path": "s2p/", "type": "kv", "version": "2"}
    assert [describe_mount(f) for f in (KV2, KV1, KV_NO_VERSION, PKI)] == ["kv v2", "kv v1", "kv v1", "pki"]


def test_problem_of_a_missing_mount_says_how_to_enable_it():
    assert mount_problem("apps", "kv-v2", None) == (
        "mount apps/ not found; enable it (bao secrets enable -path=apps -version=2 kv)")
    assert mount_problem("/pki/", "pki", None) == "mount pki/ not found; enable it (bao secrets enable -path=pki pki)"


def test_problem_of_a_wrong_type_names_both_types():
    assert mount_problem("s2p", "kv-v1", KV2) == (
        "mount s2p/ is kv v2, expected kv-v1; remount it or fix the expected type")
    assert mount_problem("s2p", "kv-v2", KV2) is None
