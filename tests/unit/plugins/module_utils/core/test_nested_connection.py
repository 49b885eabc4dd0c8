"""A second backend's connection as ONE dict option (BackendAdapter.nested_option, core/adapter.py),
validated by Ansible's own ArgumentSpecValidator: the environment fallbacks apply with and without
the dict, secrets inside stay no_log (also when read from the environment), and the backend's
constraints hold inside (required connection) or when the connection is used (optional one)."""

from __future__ import annotations

import importlib

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import ValidationError
from ansible_collections.esa.s2p.plugins.module_utils.vault.adapter import ADAPTER as VAULT

BACKENDS = ("vsphere", "ldap", "vault", "dns", "acme", "swarm")
VAULT_ENV = ("VAULT_ADDR", "VAULT_AUTH_METHOD", "VAULT_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID", "VAULT_CACERT",
             "VAULT_NAMESPACE")


def adapter(backend):
    return importlib.import_module(f"ansible_collections.esa.s2p.plugins.module_utils.{backend}.adapter").ADAPTER


@pytest.fixture
def env(monkeypatch):
    """env(NAME=value...) sets Vault's variables for the test; the others are unset."""
    for name in VAULT_ENV:
        monkeypatch.delenv(name, raising=False)
    return lambda **values: [monkeypatch.setenv(name, value) for name, value in values.items()]


def validate(params, required=True):
    """A module's own option `mount` beside the nested `vault`, as credential and certificate have."""
    spec = {"mount": {"type": "str", "default": "s2p"}, "vault": VAULT.nested_option(required=required)}
    return ArgumentSpecValidator(spec).validate(params)


@pytest.mark.parametrize("required", [True, False], ids=["required", "optional"])
@pytest.mark.parametrize("given", [None, {}], ids=["absent", "empty"])
def test_environment_fills_the_connection_with_or_without_the_dict(env, required, given):
    env(VAULT_ADDR="https://vault.example:8200", VAULT_AUTH_METHOD="approle", VAULT_ROLE_ID="rid-1",
        VAULT_SECRET_ID="sid-secret-1", VAULT_NAMESPACE="s2p/ops")
    result = validate({} if given is None else {"vault": given}, required)
    assert result.error_messages == []
    vault = result.validated_parameters["vault"]
    assert (vault["url"], vault["auth_method"], vault["role_id"], vault["secret_id"], vault["namespace"]) == (
        "https://vault.example:8200", "approle", "rid-1", "sid-secret-1", "s2p/ops")
    assert (vault["timeout"], vault["validate_certs"], vault["token"]) == (30, True, None)  # Vault's own defaults
    assert "sid-secret-1" in result._no_log_values


def test_a_given_suboption_wins_over_the_environment(env):
    env(VAULT_ADDR="https://vault.example:8200", VAULT_TOKEN="env-token")
    result = validate({"vault": {"url": "https://other.example:8200", "token": "task-token"}})
    assert result.error_messages == []
    vault = result.validated_parameters["vault"]
    assert (vault["url"], vault["token"]) == ("https://other.example:8200", "task-token")
    assert "task-token" in result._no_log_values


@pytest.mark.parametrize("secret", ["token", "secret_id"])
def test_secrets_inside_are_no_log(env, secret):
    result = validate({"vault": {"url": "https://vault.example:8200", "auth_method": "approle", "role_id": "r",
                                 "secret_id": "sid-given", "token": "tok-given"}})
    assert {"token": "tok-given", "secret_id": "sid-given"}[secret] in result._no_log_values
    assert VAULT.nested_option()["options"][secret]["no_log"] is True


def test_required_connection_checks_its_constraints_inside(env):
    env(VAULT_ADDR="https://vault.example:8200", VAULT_AUTH_METHOD="approle")
    messages = validate({}).error_messages
    assert any("auth_method is approle" in m and "role_id" in m and "found in vault" in m for m in messages), messages


def test_required_connection_needs_its_server(env):
    messages = validate({}).error_messages
    assert any("missing required arguments: url found in vault" in m for m in messages), messages


def test_optional_connection_is_not_checked_while_unused(env):
    """Without Vault in the task or the environment, a task that needs no Vault still validates."""
    result = validate({}, required=False)
    assert result.error_messages == []
    assert result.validated_parameters["vault"]["url"] is None


def test_optional_connection_is_checked_when_used(env):
    env(VAULT_ADDR="https://vault.example:8200", VAULT_AUTH_METHOD="approle", VAULT_ROLE_ID="rid")
    vault = validate({}, required=False).validated_parameters["vault"]
    problems = VAULT.problems(vault, "vault")
    assert len(problems) == 1 and "auth_method is approle" in problems[0] and "secret_id found in vault" in problems[0]
    with pytest.raises(ValidationError) as raised:
        VAULT.client_from_nested(vault, "vault")
    assert raised.value.errors == problems


def test_every_problem_of_an_unused_connection_is_told(env):
    unset = validate({}, required=False).validated_parameters["vault"]  # only the defaults: token auth
    assert VAULT.problems(unset, "vault") == [
        "missing required arguments: url found in vault",
        "auth_method is token but all of the following are missing: token found in vault"]


def test_client_from_a_complete_connection(env):
    env(VAULT_ADDR="https://vault.example:8200/", VAULT_TOKEN="tok")
    vault = validate({}, required=False).validated_parameters["vault"]
    client = VAULT.client_from_nested(vault, "vault")  # nothing sent yet
    assert client.url == "https://vault.example:8200" and client.auth_method == "token"


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_nests_its_own_connection_options(backend):
    """Same suboptions, defaults, fallbacks, aliases and no_log as the backend's own modules; a required
    connection carries the backend's constraints, an optional one no required suboption."""
    own = adapter(backend)
    flat = own.connection_spec()
    required, optional = own.nested_option(), own.nested_option(required=False)
    assert required["type"] == optional["type"] == "dict" and required["apply_defaults"] is optional["apply_defaults"]
    assert required["options"] == flat
    for key, values in own.constraints.items():
        assert required[key] == list(values) and key not in optional
    assert set(optional["options"]) == set(flat)
    for name, option in optional["options"].items():
        assert "required" not in option
        assert option == dict((k, v) for k, v in flat[name].items() if k != "required")
