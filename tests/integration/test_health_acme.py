"""esa.s2p.acme_health against the lab Pebble: healthy, untrusted CA, no CA bundle, closed port,
environment fallbacks and invalid options."""

from __future__ import annotations

import datetime
import json
import socket
import ssl
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TASK = "acme health"


def play(params: dict | None = None, defaults: str | None = "{{ s2p_acme_connection }}"):
    body = {"hosts": "localhost", "gather_facts": False,
            "tasks": [{"name": TASK, "esa.s2p.acme_health": params or {}}]}
    if defaults:
        body["module_defaults"] = {"group/esa.s2p.acme": defaults}
    return [body]


@pytest.fixture(scope="module")
def pebble(lab) -> dict:
    return {**lab["pebble"], "ca_file": lab["ca_file"]}


@pytest.fixture
def other_ca(tmp_path) -> str:
    """A CA certificate that signed nothing the lab serves."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not the lab CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = tmp_path / "other-ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def failed_checks(result: dict) -> list[dict]:
    return [c for c in result["checks"] if not c["ok"]]


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
    [failed] = failed_checks(result)
    assert failed["name"] == "directory reachable"
    assert f"TLS verification of {pebble['directory_url']} failed" in failed["msg"]
    assert "CERTIFICATE_VERIFY_FAILED" in failed["msg"]
    assert f"not signed by ca_path {other_ca}" in failed["msg"]


def test_no_ca_bundle_says_to_set_ca_path(run_playbook, pebble):
    result = run_playbook(play({"acme_directory": pebble["directory_url"]}, defaults=None)).result(TASK)
    assert result["healthy"] is False
    assert "Set ca_path (ACME_CA_PATH)" in failed_checks(result)[0]["msg"]


def test_closed_port_says_cannot_connect(run_playbook, pebble):
    url = f"https://127.0.0.1:{closed_port()}/dir"
    run = run_playbook(play({"acme_directory": url}))
    assert run.rc == 0, run.stdout
    result = run.result(TASK)
    assert result["healthy"] is False
    assert f"cannot connect to {url}: Connection refused" in failed_checks(result)[0]["msg"]


def test_not_a_directory(run_playbook, pebble):
    url = pebble["management_url"] + "/roots/0"  # a PEM certificate, not JSON
    result = run_playbook(play({"acme_directory": url})).result(TASK)
    assert result["healthy"] is False
    assert "URL of an ACME v2 directory" in failed_checks(result)[0]["msg"]


def test_environment_fallbacks(run_playbook, pebble):
    env = {"ACME_DIRECTORY": pebble["directory_url"], "ACME_CA_PATH": pebble["ca_file"]}
    result = run_playbook(play(defaults=None), envvars=env).result(TASK)
    assert result["healthy"] is True, result["checks"]


@pytest.mark.parametrize("params, expected", [
    ({"ca_path": "/nonexistent/ca.pem"}, "ca_path /nonexistent/ca.pem does not exist"),
    ({"acme_directory": "ftp://127.0.0.1/dir"}, "acme_directory must be an https:// (or http://) URL"),
])
def test_invalid_options_fail(run_playbook, params, expected):
    run = run_playbook(play(params))
    assert run.rc != 0 and run.failed == 1
    result = run.result(TASK)
    assert result["changed"] is False
    assert expected in result["msg"], result["msg"]
