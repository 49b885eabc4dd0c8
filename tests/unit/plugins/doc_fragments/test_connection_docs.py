"""The doc fragment variants of every backend (plugin_utils/connection_docs.py) against the argument spec
they document (module_utils/<backend>/adapter.py): validate-modules compares a module's docs with its
spec, but not the env: entries plugins read, nor variants no module uses yet."""

from __future__ import annotations

import importlib
import re

import pytest
import yaml
from ansible.plugins.loader import fragment_loader, inventory_loader

BACKENDS = ("vsphere", "ldap", "vault", "dns", "acme", "swarm")
DOC_KEYS = ("type", "default", "choices", "aliases")


def spec(backend):
    return importlib.import_module(f"ansible_collections.esa.s2p.plugins.module_utils.{backend}.adapter"
                                   ).connection_argument_spec()


def variant(backend, name):
    return yaml.safe_load(getattr(fragment_loader.get(f"esa.s2p.{backend}"), name))


def env_fallbacks(backend):
    return dict((name, option["fallback"][1]) for name, option in spec(backend).items()
                if option.get("fallback") and option["fallback"][0].__name__ == "env_fallback")


def same_option(doc, option, required):
    assert doc.get("required", False) is required
    for key in DOC_KEYS:
        assert doc.get(key) == option.get(key), key


@pytest.mark.parametrize("backend", BACKENDS)
def test_documentation_is_the_argument_spec(backend):
    options = variant(backend, "DOCUMENTATION")["options"]
    assert list(options) == list(spec(backend))
    for name, option in spec(backend).items():
        same_option(options[name], option, option.get("required", False))


@pytest.mark.parametrize("backend", BACKENDS)
def test_plugins_read_the_same_environment_variables(backend):
    plugins = variant(backend, "PLUGINS")["options"]
    documented = dict((name, [e["name"] for e in option["env"]]) for name, option in plugins.items())
    assert documented == env_fallbacks(backend)


@pytest.mark.parametrize("name, required", [("CONNECTION", True), ("OPTIONAL_CONNECTION", False)])
@pytest.mark.parametrize("backend", BACKENDS)
def test_nested_variants_document_the_nested_option(backend, name, required):
    doc = variant(backend, name)
    option = doc["options"][backend]
    assert option["type"] == "dict" and "default" not in option
    assert list(option["suboptions"]) == list(spec(backend))
    for sub, flat in spec(backend).items():
        same_option(option["suboptions"][sub], flat, required and flat.get("required", False))
    text = yaml.safe_dump(option)
    others = "|".join(spec(backend))
    assert not re.search(r"O\((%s)[=)]" % others, text), "a reference inside the dict lacks its prefix"
    for variables in env_fallbacks(backend).values():
        assert all("E(%s)" % v in " ".join(option["description"]) for v in variables)
    assert doc["requirements"] == variant(backend, "DOCUMENTATION")["requirements"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_action_group_variant(backend):
    doc = variant(backend, "ACTION_GROUP")
    assert doc["attributes"]["action_group"]["membership"] == [f"esa.s2p.{backend}"]
    assert any(f"group/esa.s2p.{backend}" in note for note in doc["notes"])


def test_inventory_plugin_reads_the_vsphere_environment(monkeypatch):
    plugin = inventory_loader.get("esa.s2p.vsphere")
    monkeypatch.setenv("VMWARE_HOST", "vc.example")
    monkeypatch.setenv("VMWARE_USER", "reader@vsphere.local")
    monkeypatch.setenv("VMWARE_VALIDATE_CERTS", "false")
    plugin.set_options(direct={"plugin": "esa.s2p.vsphere"})
    assert (plugin.get_option("hostname"), plugin.get_option("username"), plugin.get_option("port"),
            plugin.get_option("validate_certs"), plugin.get_option("password")) == (
        "vc.example", "reader@vsphere.local", 443, False, None)
    monkeypatch.delenv("VMWARE_HOST")
    plugin.set_options(direct={"plugin": "esa.s2p.vsphere", "vcenters": [{"hostname": "a"}, {"hostname": "b"}]})
    assert [e["hostname"] for e in plugin._endpoints()] == ["a", "b"]
