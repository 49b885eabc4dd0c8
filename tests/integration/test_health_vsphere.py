"""esa.s2p.vsphere_health and the vSphere client against the lab's vcsim (real vSphere API)."""

from __future__ import annotations

import secrets
import sys
from functools import partial
from pathlib import Path

import pytest
from health_helpers import assert_no_marker, failed_checks
from health_helpers import health_play as _health_play

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".build" / "collections"))

from ansible_collections.esa.s2p.plugins.module_utils.vsphere.client import (  # noqa: E402
    VSphereClient,
    VSphereLoginError,
    vim,
)


health_play = partial(_health_play, "vsphere")


@pytest.fixture(scope="module")
def vcsim(lab) -> dict:
    endpoint = dict(lab["vcsim"])
    endpoint["password"] = Path(endpoint["password_file"]).read_text().strip()
    endpoint["ca_file"] = lab["ca_file"]
    return endpoint


@pytest.mark.parametrize("check", [False, True], ids=["run", "check_mode"])
def test_healthy(run_playbook, vcsim, check):
    run = run_playbook(health_play({"datacenters": vcsim["datacenters"]}), check=check)
    assert run.rc == 0, run.stdout
    result = run.result("health")
    assert result["healthy"] is True, result["checks"]
    assert result["changed"] is False and run.changed == 0
    assert [c["name"] for c in result["checks"]] == ["reachable", "tls", "login", "datacenters"]
    assert all(c["ok"] for c in result["checks"])
    assert sorted(result["datacenters"]) == sorted(vcsim["datacenters"])
    assert result["version"] == result["about"]["version"] and result["version"]
    assert "certificate verified" in result["checks"][1]["msg"]


def test_missing_datacenter_is_named(run_playbook, vcsim, prefix):
    missing = prefix.upper() + "-DC"
    run = run_playbook(health_play({"datacenters": vcsim["datacenters"] + [missing]}))
    assert run.rc == 0, run.stdout
    result = run.result("health")
    assert result["healthy"] is False
    assert list(failed_checks(result)) == ["datacenters"]
    msg = failed_checks(result)["datacenters"]
    assert "missing datacenter(s): %s" % missing in msg
    assert all(dc in msg for dc in vcsim["datacenters"])  # found ones are listed too


def test_wrong_password(run_playbook, vcsim):
    run = run_playbook(health_play({"password": "wrong-" + secrets.token_hex(4)}))
    assert run.rc == 0, run.stdout
    result = run.result("health")
    assert result["healthy"] is False and result["changed"] is False
    assert [c["name"] for c in result["checks"]] == ["reachable", "tls", "login"]
    msg = failed_checks(result)["login"]
    assert "login failed for user %s at %s:%s" % (vcsim["username"], vcsim["hostname"], vcsim["port"]) in msg
    assert "password" in msg


def test_untrusted_ca(run_playbook, vcsim, other_ca):
    run = run_playbook(health_play({"ca_path": other_ca}))
    assert run.rc == 0, run.stdout
    result = run.result("health")
    assert result["healthy"] is False and result["changed"] is False
    msg = failed_checks(result)["tls"]
    assert "not trusted by the CA file %s" % other_ca in msg
    assert "ca_path" in msg
    assert "login" not in [c["name"] for c in result["checks"]]  # no login attempted


def test_server_down(run_playbook, closed_port):
    run = run_playbook(health_play({"port": closed_port}))
    assert run.rc == 0, run.stdout
    result = run.result("health")
    assert result["healthy"] is False and result["changed"] is False
    assert failed_checks(result) == {"reachable": failed_checks(result)["reachable"]}
    assert "cannot reach vSphere at 127.0.0.1:%d" % closed_port in failed_checks(result)["reachable"]
    assert "refused" in failed_checks(result)["reachable"]


def test_invalid_parameters_fail(run_playbook):
    run = run_playbook(health_play({"protocol": "ftp"}))
    assert run.rc != 0
    result = run.result("health")
    assert run.failed == 1 and "protocol" in result["msg"] and "ftp" in result["msg"]


def test_environment_fallback(run_playbook, vcsim):
    """No module_defaults: the VMWARE_* variables of the controller are used."""
    play = [{"name": "env", "hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "health", "esa.s2p.vsphere_health": {}}]}]
    run = run_playbook(play, envvars={
        "VMWARE_HOST": vcsim["hostname"], "VMWARE_PORT": str(vcsim["port"]), "VMWARE_USER": vcsim["username"],
        "VMWARE_PASSWORD": vcsim["password"], "VMWARE_CA_PATH": vcsim["ca_file"]})
    assert run.rc == 0, run.stdout
    assert run.result("health")["healthy"] is True, run.result("health")["checks"]


def test_secrets_never_in_output(run_playbook, vcsim, secret_marker):
    """A planted password and the real one appear nowhere at -vvvv."""
    marker = secret_marker
    play = health_play()
    play[0]["tasks"] = [
        {"name": "health", "esa.s2p.vsphere_health": {"password": "{{ planted }}"}},
        {"name": "real", "esa.s2p.vsphere_health": {}},
    ]
    run = run_playbook(play, extravars={"planted": marker}, verbosity=4)
    assert run.rc == 0, run.stdout[-3000:]
    assert run.result("health")["healthy"] is False
    assert run.result("real")["healthy"] is True
    assert_no_marker(run, marker, vcsim["password"])


class CountingStub:
    """Counts SOAP round trips of a connected client (wraps its real stub, no fake server)."""

    def __init__(self, client):
        self.calls = 0
        stub = client.si._stub
        for name in ("InvokeMethod", "InvokeAccessor"):
            original = getattr(stub, name)

            def counted(*args, _original=original, **kwargs):
                self.calls += 1
                return _original(*args, **kwargs)
            setattr(stub, name, counted)


def test_retrieve_round_trips_do_not_grow_with_objects(vcsim):
    client = VSphereClient(vcsim["hostname"], vcsim["username"], vcsim["password"], port=vcsim["port"],
                           ca_path=vcsim["ca_file"])
    with client:
        counter = CountingStub(client)
        datacenters = client.retrieve({vim.Datacenter: ["name"]})
        few = counter.calls
        counter.calls = 0
        many = client.retrieve({vim.HostSystem: ["name", "runtime.connectionState"],
                                vim.VirtualMachine: ["name", "config.uuid", "runtime.powerState"],
                                vim.Datacenter: ["name"], vim.Network: ["name"]})
        assert counter.calls == few == 3  # CreateContainerView, RetrieveContents, DestroyView
    assert sorted(dc["name"] for dc in datacenters) == sorted(vcsim["datacenters"])
    assert len(many) > 3 * len(datacenters)
    vms = [obj for obj in many if isinstance(obj.ref, vim.VirtualMachine)]
    assert any(vm["name"] == vcsim["template"] for vm in vms)
    assert all("config.uuid" in vm and vm.moid for vm in vms)
    assert client.si is None  # logged out by the context manager


def test_client_raises_login_error(vcsim):
    client = VSphereClient(vcsim["hostname"], vcsim["username"], "wrong", port=vcsim["port"],
                           ca_path=vcsim["ca_file"])
    with pytest.raises(VSphereLoginError, match="login failed for user"):
        client.connect()
