"""Every option of every module that can carry a secret has no_log=True, including names the
sanity regex misses (bind_pw, secret_id, key_secret, password inside a list of dicts).

Each module's main() is run until it builds its AnsibleModule, which records the argument spec
and stops; the spec is walked recursively (suboptions included)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from ansible_collections.esa.s2p.plugins.module_utils.core import adapter
from ansible.module_utils import basic

PLUGINS = Path(__file__).resolve().parents[4] / "plugins"
# Modules run by an action plugin of the same name (model_validate) have no main() to inspect.
MODULES = sorted(p.stem for p in (PLUGINS / "modules").glob("*.py")
                 if p.stem != "__init__" and not (PLUGINS / "action" / p.name).exists())
SECRET_NAME = re.compile(r"(pass|pw|secret|token|key|credential)", re.IGNORECASE)
# Options whose names look secret but hold none (each with its reason).
NOT_SECRET = {
    "update_password": "a choice (on_create/always)",
    "return_secret": "a boolean switch",
    "secret_id_ttl": "a duration", "secret_id_num_uses": "a count", "token_ttl": "a duration",
    "token_max_ttl": "a duration", "key_name": "the TSIG key's name", "key_algorithm": "an algorithm name",
    "credentials": "the list; its secret suboptions are checked one by one",
    "client_key": "the path of the TLS key file (type path), not the key",
    "key_type": "an algorithm name (rsa, ec)", "key_size": "a number of bits",
    "account_key_path": "where the ACME account key file is (type path)",
    "account_key_vault_path": "the Vault KV path of the ACME account key, not the key",
    "secrets": "the list of a stack's secrets; its `value` suboption is checked one by one",
}
# Options that must be secret wherever they appear, whatever the regex says.
ALWAYS_SECRET = {"bind_pw", "password", "token", "secret_id", "key_secret"}


class _Captured(Exception):
    pass


def argument_spec(name: str, monkeypatch) -> dict:
    captured = {}

    def fake_init(self, argument_spec=None, **kwargs):
        captured.update(argument_spec or {})
        raise _Captured()

    monkeypatch.setattr(basic.AnsibleModule, "__init__", fake_init)
    # The shape check before AnsibleModule (core/strict_types.py) reads the task's arguments: none here.
    monkeypatch.setattr(adapter, "_load_params", dict)
    module = importlib.import_module(f"ansible_collections.esa.s2p.plugins.modules.{name}")
    with pytest.raises(_Captured):
        module.main()
    return captured


def walk(spec: dict, path: str = ""):
    for name, option in spec.items():
        yield f"{path}{name}", name, option
        if option.get("options"):
            yield from walk(option["options"], f"{path}{name}.")


@pytest.mark.parametrize("name", MODULES)
def test_secret_options_have_no_log(name, monkeypatch):
    spec = argument_spec(name, monkeypatch)
    assert spec, f"{name} built no argument spec"
    for where, option_name, option in walk(spec):
        looks_secret = SECRET_NAME.search(option_name) and option_name not in NOT_SECRET
        if option_name in ALWAYS_SECRET or looks_secret:
            assert option.get("no_log") is True, f"{name}: option {where} may hold a secret but has no no_log=True"


def test_the_identity_secrets_are_found():
    """The walk really reaches suboptions: ldap_account's accounts[].password is one of them."""
    import ansible_collections.esa.s2p.plugins.modules.ldap_account as module
    names = [where for where, _n, _o in walk({"accounts": {"options": module.ACCOUNT_SPEC}})]
    assert "accounts.password" in names
