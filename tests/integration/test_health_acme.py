"""esa.s2p.acme_health against the lab Pebble: healthy, untrusted CA, no CA bundle, closed port,
environment fallbacks and invalid options."""

from __future__ import annotations

import json
import ssl
import urllib.request
from functools import partial

import pytest
from health_helpers import assert_invalid_options_fail, failed_checks, health_play

TASK = "acme health"
play = partial(health_play, "acme", task=TASK)


@pytest.fixture(scope="module")
def pebble(lab) -> dict:
    return {**lab["pebble"], "ca_file": lab["ca_file"]}


@pytest.mark.parametrize("check", [False, True], ids=["run", "check_mode"])
def test_healthy_directory_nonce_and_meta(run_playbook, pebble, check):
    run = run_playbook(play(), check=check)
    assert run.rc == 0, run.stdout
    result = run.result(TASK)
    assert result["healthy"] is True, result["checks"]
    assert result["changed"] is False
    assert [c["name"] for c in result["checks"]] == ["directory reachable", "directory resources", "newNonce answers"]
    # Independent read of the directory with the standard library and the lab CA.
    context = ssl.create_default_context(cafile=pebble["ca_file"])
    with urllib.request.urlopen(pebble["directory_url"], context=context, timeout=10) as response:
        directory = json.load(response)
    assert result["directory_url"] == pebble["directory_url"]
    assert result["resources"]["newOrder"] == directory["newOrder"]
    assert result["meta"]["termsOfService"] == directory["meta"]["termsOfService"]


def test_untrusted_ca_gives_a_tls_message(run_playbook, pebble, other_ca):
    result = run_playbook(play({"ca_path": other_ca})).result(TASK)
    assert result["healthy"] is False
    [(name, msg)] = failed_checks(result).items()
    assert name == "directory reachable"
    assert f"TLS verification of {pebble['directory_url']} failed" in msg
    assert "CERTIFICATE_VERIFY_FAILED" in msg
    assert f"not signed by ca_path {other_ca}" in msg


def test_no_ca_bundle_says_to_set_ca_path(run_playbook, pebble):
    result = run_playbook(play({"acme_directory": pebble["directory_url"]}, lab_defaults=False)).result(TASK)
    assert result["healthy"] is False
    assert "Set ca_path (ACME_CA_PATH)" in list(failed_checks(result).values())[0]


def test_closed_port_says_cannot_connect(run_playbook, pebble, closed_port):
    url = f"https://127.0.0.1:{closed_port}/dir"
    run = run_playbook(play({"acme_directory": url}))
    assert run.rc == 0, run.stdout
    result = run.result(TASK)
    assert result["healthy"] is False
    assert f"cannot connect to {url}: Connection refused" in list(failed_checks(result).values())[0]


def test_not_a_directory(run_playbook, pebble):
    url = pebble["management_url"] + "/roots/0"  # a PEM certificate, not JSON
    result = run_playbook(play({"acme_directory": url})).result(TASK)
    assert result["healthy"] is False
    assert "URL of an ACME v2 directory" in list(failed_checks(result).values())[0]


def test_environment_fallbacks(run_playbook, pebble):
    env = {"ACME_DIRECTORY": pebble["directory_url"], "ACME_CA_PATH": pebble["ca_file"]}
    result = run_playbook(play(lab_defaults=False), envvars=env).result(TASK)
    assert result["healthy"] is True, result["checks"]


@pytest.mark.parametrize("params, expected", [
    ({"ca_path": "/nonexistent/ca.pem"}, "ca_path /nonexistent/ca.pem does not exist"),
    ({"acme_directory": "ftp://127.0.0.1/dir"}, "acme_directory must be an https:// (or http://) URL"),
])
def test_invalid_options_fail(run_playbook, params, expected):
    assert_invalid_options_fail(run_playbook(play(params)), TASK, expected)
