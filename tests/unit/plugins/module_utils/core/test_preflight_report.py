"""The preflight report (module_utils/core/health.py): every problem of a report as one line."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.esa.s2p.plugins.filter.preflight import preflight_problems
from ansible_collections.esa.s2p.plugins.module_utils.core.health import check, report_problems


def entry(backend, *checks, healthy=None):
    return {"backend": backend, "healthy": all(c["ok"] for c in checks) if healthy is None else healthy,
            "checks": list(checks)}


def test_problems_list_every_failed_check_and_silent_unhealthy_backends():
    report = [entry("ldap", check("bind", True, "ok")),
              entry("dns", check("zone", False, "no SOA"), check("tsig", False, "bad key")),
              entry("swarm", healthy=False)]
    assert report_problems(report) == ["dns zone: no SOA", "dns tsig: bad key",
                                       "swarm: not healthy, but no failed check was reported"]
    assert report_problems([]) == [] and report_problems(report[:1]) == []


def test_filters_check_their_input():
    assert preflight_problems([entry("ldap", check("bind", False, "refused"))]) == ["ldap bind: refused"]
    with pytest.raises(AnsibleFilterError, match="a preflight report is a list"):
        preflight_problems({"backend": "ldap"})
