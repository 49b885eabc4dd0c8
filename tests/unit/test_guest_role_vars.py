"""Derived variables of the guest roles base and docker_host, rendered as Ansible renders
them: role defaults and vars through a real Templar with the collection's filters."""

from __future__ import annotations

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.esa.s2p.plugins.module_utils.model.model import build_model


def _trusted(value):
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    if isinstance(value, dict):
        return {k: _trusted(v) for k, v in value.items()}
    return value


@pytest.fixture
def role_vars(root):
    """render(role, expression, **overrides): the expression with the role's defaults and vars."""
    def render(role, expression, **overrides):
        variables = {"inventory_hostname": "host1", "inventory_hostname_short": "host1"}
        for part in ("defaults", "vars"):
            variables.update(yaml.safe_load((root / "roles" / role / part / "main.yml").read_text()))
        variables.update(overrides)
        templar = Templar(loader=DataLoader(), variables=_trusted(variables))
        return templar.evaluate_expression(trust_as_template(expression))
    return render


def test_daemon_json_defaults(role_vars):
    settings = role_vars("docker_host", "docker_host__daemon_settings")
    assert settings == {"log-driver": "json-file", "log-opts": {"max-size": "50m", "max-file": "5"},
                        "live-restore": True, "storage-driver": "overlay2", "insecure-registries": [],
                        "registry-mirrors": [], "labels": []}


def test_daemon_json_in_a_swarm_with_tls_labels_and_extra_settings(role_vars):
    settings = role_vars("docker_host", "docker_host__daemon_settings", docker_host__swarm_join=True,
                         docker_host__tls=True, docker_host__labels={"site": "esoc", "segment": "pd"},
                         docker_host__daemon_extra={"log-driver": "local", "default-ulimits": {}})
    assert settings["live-restore"] is False  # dockerd refuses live-restore in swarm mode
    assert settings["labels"] == ["site=esoc", "segment=pd"]
    assert settings["log-driver"] == "local" and settings["default-ulimits"] == {}
    assert settings["tlsverify"] is True and settings["tlskey"] == "/etc/docker/tls/key.pem"
    assert "hosts" not in settings  # the TCP listener is a -H flag of the unit's drop-in


def test_base_takes_site_and_ntp_servers_from_the_model(role_vars, inventory_model):
    model = build_model(inventory_model("lab"))
    vm = model["vms"][0]
    ntp = {vm["site"]: ["10.0.0.1", "10.0.0.2"], "elsewhere": ["10.9.9.9"]}
    assert role_vars("base", "base__site", s2p_model=model, base__hostname=vm["name"]) == vm["site"]
    assert role_vars("base", "base__ntp_servers", s2p_model=model, base__hostname=vm["name"],
                     base__ntp_servers_by_site=ntp) == ["10.0.0.1", "10.0.0.2"]
    assert role_vars("base", "base__fqdn", s2p_model=model, base__hostname=vm["name"]) == vm["fqdn"]


def test_base_without_model_or_unknown_host(role_vars):
    assert role_vars("base", "base__site") == ""
    assert role_vars("base", "base__ntp_servers", base__ntp_servers_by_site={"esoc": ["x"]}) == []
    assert role_vars("base", "base__fqdn", base__hostname="esoc-neocc-ope-app01") == \
        "esoc-neocc-ope-app01.s2p.esa.int"


def test_base_ldap_search_bases_come_from_the_naming_rules(role_vars):
    assert role_vars("base", "base__ldap_user_base") == "ou=people,dc=s2p,dc=esa,dc=int"
    assert role_vars("base", "base__ldap_group_base", base__ldap_base_dn="dc=lab,dc=example") == \
        "ou=groups,dc=lab,dc=example"


@pytest.mark.parametrize("role, packages", [("base", "base__install_packages"),
                                            ("docker_host", "docker_host__packages")])
def test_only_packages_dpkg_lists_as_installed_count_as_present(role_vars, role, packages):
    wanted = role_vars(role, packages)

    def missing(*lines):
        return sorted(role_vars(role, role + "__missing_packages", **{role + "__dpkg": {"stdout_lines": list(lines)}}))

    # The first installed, the others removed but not purged.
    assert missing(wanted[0] + " installed", *(name + " config-files" for name in wanted[1:])) == sorted(wanted[1:])
    assert missing(*(name + " installed" for name in wanted)) == []
    # An unknown package is not in dpkg-query's output at all (it says so on stderr).
    assert missing() == sorted(wanted)


def test_base_installs_the_sssd_packages_only_with_sssd(role_vars):
    assert "libnss-sss" in role_vars("base", "base__install_packages")
    assert role_vars("base", "base__install_packages", base__sssd_enabled=False) == ["chrony", "openssh-server"]
