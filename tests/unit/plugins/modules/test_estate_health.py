"""esa.s2p.estate_health's orchestration (pure logic): the backends' reports in the asked order, and
every way a backend's checks can fail to run turned into a failed check `module` of that backend
alone. The checks themselves run against the lab servers in tests/integration/test_preflight.py."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.esa.s2p.plugins.module_utils.core.errors import MissingLibrary, S2PError, ValidationError
from ansible_collections.esa.s2p.plugins.modules import estate_health


def healthy(params):
    return {"healthy": True, "checks": [{"name": "login", "ok": True, "msg": "ok"}], "version": "1"}


def raising(exc):
    def check(params):
        raise exc
    return check


@pytest.fixture
def checks(monkeypatch):
    table = dict.fromkeys(estate_health.CHECKS, healthy)
    monkeypatch.setattr(estate_health, "CHECKS", table)
    return table


def test_reports_follow_the_asked_order_with_the_facts_apart(checks):
    result = estate_health.check_backends({"backends": ["swarm", "vsphere", "swarm"]})
    assert [b["backend"] for b in result["backends"]] == ["swarm", "vsphere"]
    assert result["healthy"] is True
    assert result["backends"][0] == {"backend": "swarm", "healthy": True,
                                     "checks": [{"name": "login", "ok": True, "msg": "ok"}]}
    assert result["facts"]["vsphere"]["version"] == "1" and "seconds" in result["facts"]["vsphere"]


@pytest.mark.parametrize("exc, words", [
    (ValidationError(["missing required arguments: server found in dns"]), "missing required arguments: server"),
    (MissingLibrary("dnspython", "Traceback..."), "dnspython"),
    (S2PError("the TSIG secret is not base64"), "the TSIG secret is not base64"),
    (RuntimeError("a bug"), "RuntimeError: a bug"),
])
def test_a_backend_that_cannot_run_fails_alone(checks, exc, words):
    checks["dns"] = raising(exc)
    result = estate_health.check_backends({"backends": ["ldap", "dns", "vault"]})
    assert result["healthy"] is False
    ldap, dns, vault = result["backends"]
    assert ldap["healthy"] and vault["healthy"]
    assert dns["healthy"] is False and [c["name"] for c in dns["checks"]] == ["module"]
    message = dns["checks"][0]["msg"]
    assert message.startswith("the dns health check could not run: ") and words in message


def test_the_backends_are_checked_at_the_same_time(checks):
    """Each check waits for all three to have started: run one after the other, they would time out."""
    started = threading.Barrier(3, timeout=5)

    def waiting(params):
        started.wait()
        return healthy(params)

    for name in ("vsphere", "ldap", "vault"):
        checks[name] = waiting
    result = estate_health.check_backends({"backends": ["vsphere", "ldap", "vault"]})
    assert result["healthy"] is True


def test_an_unhealthy_backend_is_not_an_error(checks):
    checks["acme"] = lambda params: {"healthy": False, "checks": [{"name": "directory", "ok": False, "msg": "no"}]}
    result = estate_health.check_backends({"backends": ["acme"]})
    assert result["healthy"] is False and result["backends"][0]["checks"][0]["name"] == "directory"
