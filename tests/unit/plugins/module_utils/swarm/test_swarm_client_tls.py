"""The swarm client's TLS trust is the one it was given (module_utils/swarm/client.py, no daemon asked):
requests would let REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace it on every request."""

from __future__ import annotations

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.swarm.client import SwarmClient

URL = "https://127.0.0.1:1/v1.41/_ping"


@pytest.fixture
def pem(tmp_path):
    def make(name):
        path = tmp_path / name
        path.write_text("not read before a connection\n")
        return str(path)
    return make


def settings(client):
    return client.api.merge_environment_settings(URL, {}, False, None, None)


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_ca_path_wins_over_the_environments_bundle(monkeypatch, pem, variable):
    monkeypatch.setenv(variable, "/wrong/bundle.pem")
    client = SwarmClient("tcp://127.0.0.1:1", validate_certs=True, ca_path=pem("ca.pem"),
                         client_cert=pem("cert.pem"), client_key=pem("key.pem"), api_version="1.41")
    assert settings(client)["verify"] == client.api.verify == pem("ca.pem")
    assert client.api.cert == (pem("cert.pem"), pem("key.pem"))


def test_tls_without_verification_stays_unverified(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/wrong/bundle.pem")
    assert settings(SwarmClient("tcp://127.0.0.1:1", tls=True, api_version="1.41"))["verify"] is False


def test_without_ca_path_the_environments_bundle_still_applies(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/site/bundle.pem")
    client = SwarmClient("tcp://127.0.0.1:1", validate_certs=True, api_version="1.41")
    assert settings(client)["verify"] == "/site/bundle.pem"


def test_a_per_request_verify_is_kept(monkeypatch, pem):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/wrong/bundle.pem")
    client = SwarmClient("tcp://127.0.0.1:1", validate_certs=True, ca_path=pem("ca.pem"), api_version="1.41")
    assert client.api.merge_environment_settings(URL, {}, False, "/given.pem", None)["verify"] == "/given.pem"
