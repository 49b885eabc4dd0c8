# -*- coding: utf-8 -*-
# Copyright: ESA S2P data-centre engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The result shape every *_health check shares: {healthy, checks: [{name, ok, msg}], facts...}.

This is a private file of esa.s2p: it may change at any time, do not import it
from outside the collection.

Each backend's health_report() fills one HealthReport so modules and plugins return the
same keys whatever the backend; `healthy` is derived from the checks, never set by hand.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def check(name, ok, msg):
    """One check result, as every health module returns it."""
    return {"name": name, "ok": ok, "msg": msg}


class HealthReport:
    """Checks in the order they ran, plus the facts found on the way."""

    def __init__(self, **facts):
        self.checks = []
        self.facts = dict(facts)

    def add(self, name, ok, msg):
        """Append a check and return it (callers may extend its msg later)."""
        entry = check(name, ok, msg)
        self.checks.append(entry)
        return entry

    def extend(self, checks):
        self.checks.extend(checks)

    @property
    def healthy(self):
        return all(entry["ok"] for entry in self.checks)

    @property
    def last_ok(self):
        """Whether the most recent check passed (False before any check)."""
        return bool(self.checks) and self.checks[-1]["ok"]

    def as_dict(self):
        """{healthy, checks, **facts}: what a health module passes to exit_json."""
        result = dict(self.facts)
        result.update(healthy=self.healthy, checks=self.checks)
        return result


def report_problems(report):
    """Every failed check of a preflight report as '<backend> <check>: <msg>' (and a line for an
    unhealthy backend that reported no failed check)."""
    problems = []
    for entry in report or []:
        failed = [c for c in entry.get("checks") or [] if not c.get("ok")]
        problems.extend("%s %s: %s" % (entry["backend"], c.get("name"), c.get("msg")) for c in failed)
        if not entry.get("healthy") and not failed:
            problems.append("%s: not healthy, but no failed check was reported" % entry["backend"])
    return problems
