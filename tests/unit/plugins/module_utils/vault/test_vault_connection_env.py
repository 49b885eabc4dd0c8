"""The Vault connection options read from the environment only (how AWX credentials reach the
modules): VAULT_AUTH_METHOD picks AppRole, whose role_id/secret_id then come from VAULT_ROLE_ID /
VAULT_SECRET_ID; the secret_id read from the environment is still masked (no_log)."""

from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.esa.s2p.plugins.module_utils.vault import adapter as vault_adapter

VAULT_ENV = ("VAULT_ADDR", "VAULT_AUTH_METHOD", "VAULT_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID", "VAULT_CACERT",
             "VAULT_NAMESPACE")


@pytest.fixture
def env(monkeypatch):
    for name in VAULT_ENV:
        monkeypatch.delenv(name, raising=False)

    def _set(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)
    return _set


def validate(params=None):
    validator = ArgumentSpecValidator(vault_adapter.connection_argument_spec(),
                                      required_if=vault_adapter.CONNECTION_REQUIRED_IF)
    return validator.validate(params or {})


def test_approle_from_environment_only(env):
    env(VAULT_ADDR="https://vault.example:8200", VAULT_AUTH_METHOD="approle", VAULT_ROLE_ID="rid-1",
        VAULT_SECRET_ID="sid-secret-1", VAULT_CACERT="/etc/ca.pem", VAULT_NAMESPACE="s2p/ops")
    result = validate()
    assert result.error_messages == []
    got = result.validated_parameters
    assert (got["url"], got["auth_method"], got["role_id"], got["secret_id"], got["ca_cert"], got["namespace"]) == (
        "https://vault.example:8200", "approle", "rid-1", "sid-secret-1", "/etc/ca.pem", "s2p/ops")
    assert "sid-secret-1" in result._no_log_values


def test_token_stays_the_default_without_the_variable(env):
    env(VAULT_ADDR="https://vault.example:8200", VAULT_TOKEN="tok")
    got = validate().validated_parameters
    assert got["auth_method"] == "token" and got["token"] == "tok"


def test_an_explicit_option_wins_over_the_environment(env):
    env(VAULT_ADDR="https://vault.example:8200", VAULT_AUTH_METHOD="approle", VAULT_TOKEN="tok")
    result = validate({"auth_method": "token"})
    assert result.error_messages == [] and result.validated_parameters["auth_method"] == "token"


def test_approle_from_environment_without_ids_is_refused(env):
    env(VAULT_ADDR="https://vault.example:8200", VAULT_AUTH_METHOD="approle")
    assert any("auth_method is approle" in m and "role_id" in m for m in validate().error_messages)


def test_unknown_method_in_environment_is_refused(env):
    env(VAULT_ADDR="https://vault.example:8200", VAULT_AUTH_METHOD="ldap")
    assert any("auth_method" in m and "approle, token" in m.replace("token, approle", "approle, token")
               for m in validate().error_messages)


def test_lookup_reads_the_variable(env):
    from ansible.plugins.loader import lookup_loader
    plugin = lookup_loader.get("esa.s2p.vault_secret")
    env(VAULT_ADDR="https://vault.example:8200")
    plugin.set_options()
    assert plugin.get_option("auth_method") == "token"
    env(VAULT_AUTH_METHOD="approle", VAULT_ROLE_ID="rid-2")
    plugin.set_options()
    assert (plugin.get_option("auth_method"), plugin.get_option("role_id")) == ("approle", "rid-2")
