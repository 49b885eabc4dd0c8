"""HealthReport (module_utils/core/health.py): the result shape of every *_health module."""

from __future__ import annotations

from ansible_collections.esa.s2p.plugins.module_utils.core.health import HealthReport, check


def test_empty_report_is_healthy_with_its_facts():
    assert HealthReport(server="ns1:53").as_dict() == {"server": "ns1:53", "healthy": True, "checks": []}


def test_one_failed_check_makes_it_unhealthy_and_order_is_kept():
    report = HealthReport()
    report.add("reachable", True, "answers")
    report.extend([check("tls", False, "not trusted"), check("login", True, "ok")])
    result = report.as_dict()
    assert result["healthy"] is False
    assert [c["name"] for c in result["checks"]] == ["reachable", "tls", "login"]
    assert result["checks"][1] == {"name": "tls", "ok": False, "msg": "not trusted"}


def test_last_ok_follows_the_latest_check():
    report = HealthReport()
    assert report.last_ok is False
    report.add("a", True, "")
    assert report.last_ok is True
    report.add("b", False, "")
    assert report.last_ok is False


def test_add_returns_the_entry_to_extend_and_facts_cannot_override_health():
    report = HealthReport(healthy="forged", checks="forged")
    report.add("login", True, "logged in")["msg"] += " (vCenter 8)"
    result = report.as_dict()
    assert result["checks"] == [{"name": "login", "ok": True, "msg": "logged in (vCenter 8)"}]
    assert result["healthy"] is True
