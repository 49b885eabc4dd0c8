"""Verify esa.s2p.docker_host in the two containers: the engine runs with the daemon.json
settings, serves its API over TLS only to holders of a client certificate, and both engines
are in one swarm (manager and worker, node labels) that the role made."""

import json
import os
from pathlib import Path

import subprocess

import pytest

WORK_DIR = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "docker-host"
MANAGER, WORKER = "s2p-molecule-docker-host-1", "s2p-molecule-docker-host-2"


def info(host):
    return json.loads(host.check_output("docker info --format '{{json .}}'"))


def address(host):
    """The container's address on the lab bridge (its engine also has docker0 and docker_gwbridge)."""
    return [a for a in host.check_output("hostname -I").split() if a.startswith("172.16.254.")][0]


def api(host, client_cert=True):
    """GET /version of the engine's TLS API from the controller, checking its certificate
    against the scenario's CA (curl: an explicit --cacert, whatever the environment says)."""
    command = ["curl", "-sS", "--max-time", "30", "--cacert", str(WORK_DIR / "ca.crt")]
    if client_cert:
        command += ["--cert", str(WORK_DIR / "client.crt"), "--key", str(WORK_DIR / "client.key")]
    return subprocess.run(command + ["https://%s:2376/version" % address(host)], capture_output=True, text=True,
                          check=False)


def test_engine_installed_enabled_running(host):
    assert host.package("docker.io").is_installed
    assert host.service("docker").is_enabled and host.service("docker").is_running


def test_daemon_json(host):
    settings = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert settings["log-driver"] == "json-file"
    assert settings["log-opts"] == {"max-size": "10m", "max-file": "3"}
    assert settings["live-restore"] is False  # refused by dockerd in swarm mode
    assert sorted(settings["labels"]) == ["purpose=molecule", "site=esoc"]
    assert settings["tlsverify"] is True and "hosts" not in settings


def test_engine_applies_the_settings(host):
    engine = info(host)
    assert engine["Driver"] == "vfs"
    assert engine["LoggingDriver"] == "json-file"
    assert engine["LiveRestoreEnabled"] is False
    assert sorted(engine["Labels"]) == ["purpose=molecule", "site=esoc"]
    assert "172.16.217.1:5000" in engine["RegistryConfig"]["IndexConfigs"]
    assert engine["RegistryConfig"]["IndexConfigs"]["172.16.217.1:5000"]["Secure"] is False
    assert engine["RegistryConfig"]["Mirrors"] == ["http://172.16.217.1:5000/"]


def test_tls_api_with_client_certificate(host):
    result = api(host)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == info(host)["ServerVersion"]


def test_tls_api_refuses_a_client_without_certificate(host):
    result = api(host, client_cert=False)
    # The server certificate checks out (same CA as above), but tlsverify wants a client one.
    assert result.returncode != 0 and result.stdout == ""
    assert "certificate" in result.stderr.lower() or "alert" in result.stderr.lower(), result.stderr


def test_key_is_private(host):
    key = host.file("/etc/docker/tls/key.pem")
    assert key.user == "root" and key.mode == 0o600
    assert host.file("/etc/docker/tls").mode == 0o700


def test_both_engines_are_in_one_swarm(host):
    swarm = info(host)["Swarm"]
    assert swarm["LocalNodeState"] == "active"
    assert swarm["ControlAvailable"] is (host.backend.get_hostname() == MANAGER)


def test_swarm_nodes_roles_and_labels(host):
    if host.backend.get_hostname() != MANAGER:
        pytest.skip("the node list is read on the manager")
    nodes = [json.loads(line) for line in host.check_output("docker node ls --format '{{json .}}'").splitlines()]
    assert len(nodes) == 2
    by_name = {}
    for node in nodes:
        spec = json.loads(host.check_output("docker node inspect %s --format '{{json .}}'", node["ID"]))
        by_name[spec["Status"]["Addr"]] = spec
    assert sorted(spec["Spec"]["Role"] for spec in by_name.values()) == ["manager", "worker"]
    assert all(spec["Spec"]["Labels"].get("site") == "esoc" for spec in by_name.values())
    assert all(spec["Status"]["State"] == "ready" for spec in by_name.values())
